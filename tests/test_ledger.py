"""The appeal ledger (问题台账) as xlsx: the right rows and columns, ledger events, masked phones, scope, audit."""

import io

from gongzhi.core.access import Role
from gongzhi.core.excel import read_sheet
from gongzhi.core.models import AuditEvent
from gongzhi.dashboards.ledger import COLUMNS, FIGURES_SHEET, SHEET

from .factories import make_user
from .test_metrics import loop, story  # noqa: F401  (the story and its fixtures)

URL = "/dashboards/appeals/ledger.xlsx"


def _download(client, **params):
    r = client.get(URL, params)
    assert r.status_code == 200, r.content[:300]
    data = b"".join(r.streaming_content)
    return r, read_sheet(io.BytesIO(data), SHEET), read_sheet(io.BytesIO(data), FIGURES_SHEET)


def test_ledger_rows(client, tree, story):  # noqa: F811
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    r, sheet, figures = _download(client, node=tree.comm_a.pk, **{"from": "2025-06-11", "to": "2025-06-12"})
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r["Content-Disposition"] and "20250611-20250612" in r["Content-Disposition"]
    assert sheet.header == [h for h, _w in COLUMNS]
    rows = {row[0]: dict(zip(sheet.header, row)) for _n, row in sheet.rows}
    # A1-A5 and A7 are in 城东社区 and filed in the period; A6 is elsewhere, A8 the day before.
    assert set(rows) == {story[n].number for n in (1, 2, 3, 4, 5, 7)}
    a1, a2, a3 = rows[story[1].number], rows[story[2].number], rows[story[3].number]
    assert a1["受理时间"] == "2025-06-11 10:00" and a1["渠道"] == "指尖直通" and a1["分类"] == "环境卫生/垃圾清运"
    assert a1["所属区域"] == "城东社区/第一网格/第一微网格" and a1["承办单位"] == "第一网格"
    assert a1["派单时间"] == "2025-06-11 10:30" and rows[story[7].number]["派单时间"] == ""
    assert a1["状态"] == "已结案" and a1["首次签收按时"] == "是" and a1["按期办结"] == "是"
    assert a1["满意度"] == "满意" and a1["评价方式"] == "居民评价" and a1["是否解决"] == "是"
    assert a2["承办单位"] == "县住建局" and a2["首次签收按时"] == "否" and a2["按期办结"] == "否"
    assert a2["评价方式"] == "电话回访" and a2["满意度"] == "基本满意"
    assert a3["退单次数"] == "1" and a3["重办次数"] == "1" and a3["状态"] == "办理中"
    events = a3["台账记录"].splitlines()
    assert events[0].startswith("2025-06-11 15:10 退单（wangge）：需要社区协调")
    assert any("重办" in line for line in events)
    assert rows[story[4].number]["状态"] == "已作废"
    assert [line.split(" ", 2)[2] for line in rows[story[4].number]["台账记录"].splitlines()] == [
        "申请作废（shequ）：重复提交", "作废审批：同意（jiedao）"]
    assert rows[story[5].number]["合并至"] == story[3].number
    assert rows[story[7].number]["联系电话"] == "139****5678"  # masked, never the full number
    summary = {row[0]: row[1] for _n, row in figures.rows}
    assert summary["受理诉求"] == "6" and summary["响应率"] == "66.67%" and summary["结案率"] == "50.00%"
    audit = AuditEvent.objects.get(action="appeals.ledger.export")
    assert audit.changes["count"] == 6 and audit.org_path == tree.comm_a.path


def test_ledger_scope(client, tree, story):  # noqa: F811
    client.force_login(make_user("jiuxiang", Role.SUBDISTRICT_STAFF, tree.town_b))
    assert client.get(URL, {"node": tree.comm_a.pk}).status_code == 404
    _r, sheet, _f = _download(client, **{"from": "2025-06-10", "to": "2025-06-12"})  # default node: 九襄镇
    assert [row[0] for _n, row in sheet.rows] == [story[6].number]
    client.force_login(tree.users[Role.DEPARTMENT_HANDLER])
    assert client.get(URL).status_code == 403
    assert not AuditEvent.objects.filter(action="appeals.ledger.export", org_path=tree.comm_a.path).exists()
