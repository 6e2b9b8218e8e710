"""The appeal ledger (问题台账) as xlsx: one row per appeal filed under a node in a period, with its
deadlines, outcome, rating and the ledger events (returns, extensions, voids, reopens, supervision),
then a sheet of the period's figures. Streamed write-only; phones masked; every export audited.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from gongzhi.appeals.models import AppealEvent, Channel, Satisfaction, Status
from gongzhi.core import audit, excel
from gongzhi.core.scoping import under
from gongzhi.orgs.models import OrgNode

from . import metrics, selectors

SHEET, FIGURES_SHEET = "问题台账", "指标汇总"
# (header, column width): the one place the ledger's columns are named.
COLUMNS = [
    ("编号", 16), ("受理时间", 17), ("渠道", 10), ("分类", 18), ("所属区域", 30), ("地址", 26), ("诉求人", 10),
    ("联系电话", 14), ("标题", 22), ("诉求内容", 40), ("首接单位", 14), ("承办单位", 16), ("派单时间", 17), ("签收人", 10),
    ("状态", 8), ("响应时限", 17), ("首次签收按时", 12), ("签收时间", 17), ("办结时限", 17), ("办结时间", 17),
    ("按期办结", 9), ("处理结果", 30), ("是否解决", 9), ("满意度", 10), ("评价方式", 10), ("评价时间", 17),
    ("结案时间", 17), ("退单次数", 9), ("延期次数", 9), ("重办次数", 9), ("督办次数", 9), ("合并至", 16),
    ("台账记录", 70),
]
STATUS_LABELS = {
    Status.SUBMITTED: "待派单", Status.DISPATCHED: "已派单", Status.ACCEPTED: "办理中", Status.RESOLVED: "已办结",
    Status.VERIFIED: "已核查", Status.CLOSED: "已结案", Status.VOIDED: "已作废", Status.MERGED: "已合并",
}
CHANNEL_LABELS = {
    Channel.WINDOW: "窗口接待", Channel.ONLINE: "指尖直通", Channel.WISH_WALL: "心愿上墙", Channel.VISIT: "走访",
    Channel.SNAPSHOT: "随手拍", Channel.HOTLINE: "热线", Channel.MEETING: "坝坝会",
}
SATISFACTION_LABELS = {Satisfaction.SATISFIED: "满意", Satisfaction.BASIC: "基本满意", Satisfaction.UNSATISFIED: "不满意"}
# The events the standard wants in the ledger, and how the ledger names them.
EVENT_LABELS = {
    "return": "退单", "extension_request": "申请延期", "extension_decide": "延期审批", "void_request": "申请作废",
    "void_decide": "作废审批", "reopen": "重办", "supervise": "督办", "escalate": "超期督办", "merge": "合并",
    "verify_reject": "核查退回",
}
YES, NO = "是", "否"
_CHUNK = 2000


def _when(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _yes_no(value: bool | None) -> str:
    return "" if value is None else (YES if value else NO)


def _event_line(event: AppealEvent) -> str:
    label = EVENT_LABELS.get(event.kind, event.kind)
    if event.kind in ("extension_decide", "void_decide"):
        label += "：" + ("同意" if event.data.get("approved") else "不同意")
    if event.kind in ("extension_request", "extension_decide") and event.data.get("days"):
        label += f"（{event.data['days']}个工作日）"
    who = f"（{event.actor_name}）" if event.actor_name else ""
    note = f"：{event.note.strip()}" if event.note.strip() else ""
    return f"{_when(event.at)} {label}{who}{note}"


def _place_names(node: OrgNode) -> dict[str, str]:
    """Each path under ``node`` as the names from the node down ("城东社区/第一网格")."""
    names = dict(OrgNode.objects.filter(under(node.path, "path")).values_list("path", "name"))
    step, top = OrgNode.steplen, len(node.path)
    return {
        path: "/".join(names.get(path[:i], "") for i in range(top, len(path) + 1, step))
        for path in names
    }


def _rows(appeals, places: dict[str, str]):
    """Ledger rows, a chunk of appeals at a time with their ledger events in one query per chunk."""
    chunk = []

    def flush():
        events = defaultdict(list)
        for e in AppealEvent.objects.filter(appeal_id__in=[a.pk for a in chunk], kind__in=EVENT_LABELS).order_by(
            "at", "id"
        ):
            events[e.appeal_id].append(_event_line(e))
        for a in chunk:
            yield [
                a.number, _when(a.submitted_at), CHANNEL_LABELS.get(a.channel, a.channel),
                f"{a.category.parent.name}/{a.category.name}" if a.category.parent_id else a.category.name,
                places.get(a.org_path, a.node.name), a.address, a.reporter_name, a.reporter_phone_masked, a.title,
                a.description, a.owner_node.name, str(a.handler_unit or a.handler_node or ""),
                _when(a.dispatched_at), str(a.accepted_by or ""), STATUS_LABELS.get(a.status, a.status), _when(a.response_due),
                _yes_no(a.responded_on_time), _when(a.accepted_at), _when(a.resolve_due), _when(a.resolved_at),
                _yes_no(a.resolved_on_time if a.resolved_at else None), a.result, _yes_no(a.rating_resolved),
                SATISFACTION_LABELS.get(a.satisfaction, ""),
                ("电话回访" if a.rated_by_callback else "居民评价") if a.rated_at else "", _when(a.rated_at),
                _when(a.closed_at) if a.status == Status.CLOSED else "", a.return_count, a.extension_count,
                a.reopen_count, a.supervise_count, a.merged_into.number if a.merged_into_id else "",
                "\n".join(events.get(a.pk, ())),
            ]

    qs = appeals.select_related(
        "category__parent", "node", "owner_node", "handler_node", "handler_unit", "accepted_by", "merged_into"
    )
    for appeal in qs.iterator(chunk_size=_CHUNK):
        chunk.append(appeal)
        if len(chunk) >= _CHUNK:
            yield from flush()
            chunk = []
    if chunk:
        yield from flush()


def _figure_rows(figures: dict):
    for key in (*metrics.RATE_KEYS, *metrics.HOUR_KEYS, *metrics.COUNT_KEYS):
        value = figures[key]
        if key in metrics.RATE_KEYS and value is not None:
            value = f"{value * 100:.2f}%"
        numerator, denominator = metrics.RATES.get(key, ((), ""))
        formula = ""
        if numerator:
            top = " + ".join(metrics.CN_NAMES[n] for n in numerator)
            formula = f"{top} ÷ {metrics.CN_NAMES[denominator]}"
        yield [metrics.CN_NAMES[key], "" if value is None else value, formula]


def ledger_export(*, by, node: OrgNode, date_from: dt.date | None, date_to: dt.date | None) -> tuple[str, int, str]:
    """Write the ledger of the appeals filed under ``node`` in the period to a temporary xlsx; returns
    (path, count, download name). The node must be in the user's area (Http404 otherwise)."""
    node = selectors.metric_node(by, node)
    date_from, date_to = metrics.check_period(date_from, date_to)
    figures = metrics.metrics(user=by, node=node, date_from=date_from, date_to=date_to)["figures"]
    book = excel.workbook(write_only=True)
    ws = excel.write_only_sheet(book, SHEET, [h for h, _w in COLUMNS], widths=[w for _h, w in COLUMNS])
    count = 0
    for row in _rows(selectors.ledger_appeals(by, node, date_from, date_to), _place_names(node)):
        ws.append(row)
        count += 1
    summary = excel.write_only_sheet(book, FIGURES_SHEET, ["指标", "数值", "算法"], widths=[24, 14, 40])
    summary.append(["统计范围", node.name, f"{date_from:%Y-%m-%d} 至 {date_to:%Y-%m-%d} 受理的诉求（按受理日期）"])
    for row in _figure_rows(figures):
        summary.append(row)
    handle = tempfile.NamedTemporaryFile(prefix="gongzhi-ledger-", suffix=".xlsx", delete=False)
    handle.close()
    book.save(handle.name)
    with transaction.atomic():
        audit.record(
            actor=by, action="appeals.ledger.export", obj=node,
            changes={"node": str(node), "from": date_from.isoformat(), "to": date_to.isoformat(), "count": count},
        )
    return handle.name, count, f"问题台账-{node.name}-{date_from:%Y%m%d}-{date_to:%Y%m%d}.xlsx"

