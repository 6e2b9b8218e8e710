"""The audit log as staff read it: it opens after any action (a grid split, a demo load), and it says what
happened in words (actions, object types, objects, the filter choices), never in codes."""

import re
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from gongzhi.accounts.actions import role_assign
from gongzhi.appeals.actions import ACTION_LABELS
from gongzhi.core import audit
from gongzhi.core.access import Role
from gongzhi.orgs import actions

from .factories import make_user

SRC = Path(__file__).resolve().parents[1] / "src" / "gongzhi"


def _page(client, user, **query):
    client.force_login(user)
    response = client.get(reverse("core:audit"), query)
    assert response.status_code == 200
    return response


def test_audit_page_opens_after_a_grid_split_and_a_demo_load(client, tree):
    admin = tree.users[Role.COUNTY_ADMIN]
    actions.grid_split(grid=tree.grid_a1, new_name="第三网格", households=[tree.household_a], by=admin, reason="人口增长")
    with transaction.atomic():  # what the demo loader records: counts named after the node's reverse relations
        audit.record(actor=None, action="demo.load", obj=tree.county,
                     changes={"seed": 7, "scale": 0.1, "households": 3, "residents": 7, "role_assignments": 2})
    body = _page(client, admin).content.decode()
    assert "网格拆分" in body and "人口增长" in body and "<b>新网格</b>: 第三网格" in body
    assert "生成演示数据" in body and "<b>住户</b>: 3" in body and "<b>随机种子</b>: 7" in body


def test_audit_page_shows_words_not_codes(client, tree):
    admin = tree.users[Role.COUNTY_ADMIN]
    role_assign(user=make_user("xinren"), role=Role.GRID_WORKER, node=tree.grid_a2, by=admin)
    actions.resident_reveal(resident=tree.resident_a, by=admin, field="phone", reason="核实电话")
    with transaction.atomic():  # an object recorded without its string: named by its type and number
        audit.record(actor=admin, action="resident.update", object_type="orgs.resident", object_id="12",
                     org_path=tree.grid_a1.path, changes={"name": ["张三", "张叁"]})
    response = _page(client, admin)
    body = response.content.decode()
    rows = re.search(r'<tbody>(.*)</tbody>', body, re.S).group(1)
    for code in ("role.assign", "pii.reveal.phone", "resident.create", "accounts.roleassignment", "orgs.resident"):
        assert code not in rows, code
    for words in ("分配角色", "查看完整手机号", "新增居民", "角色分配", "居民 #12", "xinren · 网格员"):
        assert words in rows, words
    form = response.context["form"]
    actions_offered = dict(form.fields["action"].choices)
    assert actions_offered["role.assign"] == "分配角色"
    assert actions_offered["pii.reveal.phone"] == "查看完整手机号"
    types_offered = dict(form.fields["object_type"].choices)
    assert types_offered["orgs.resident"] == "居民" and types_offered["accounts.roleassignment"] == "角色分配"
    # Filtering still goes by the code behind the words.
    only = _page(client, admin, action="role.assign").context["rows"]
    assert {e.action for e in only} == {"role.assign"}


def test_audit_words_follow_the_reader_language(client, tree):
    admin = tree.users[Role.COUNTY_ADMIN]
    role_assign(user=make_user("xinren"), role=Role.GRID_WORKER, node=tree.grid_a2, by=admin)
    client.force_login(admin)
    client.cookies["django_language"] = "en"
    body = client.get(reverse("core:audit")).content.decode()
    assert "Resident created" in body and "Role assigned" in body
    assert "<b>Role</b>: Grid worker" in body  # field names as words, capitalised like the column heads


def _recorded_codes() -> set[str]:
    """Every audit action code the source writes as a literal (``action="…"`` and the two branches of
    ``"a" if … else "b"``, the bulk SQL of the sweep), and the codes built from a name at run time."""
    codes = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r'action="([a-z0-9_.]+)"(?: if [^\n]*? else "([a-z0-9_.]+)")?', text):
            codes.update(c for c in match.groups() if c)
        for match in re.finditer(r'self\.event\("([a-z0-9_.]+)"', text):
            codes.add(match.group(1))
        codes.update(re.findall(r"'(appeal\.[a-z_]+)', 'appeals\.appeal'", text))
    codes.discard("store_true")
    codes.discard("store_false")
    codes |= {f"appeal.{step}" for step in ACTION_LABELS} | {"appeal.follow"}
    codes |= {"pii.reveal.phone", "pii.reveal.id_number"}
    return codes


@pytest.mark.django_db
def test_every_recorded_action_has_words():
    codes = _recorded_codes()
    assert {"grid.split", "role.assign", "appeal.dispatch", "appeal.escalate", "registry.import",
            "household.update", "webhook.test", "demo.load"} <= codes  # the scan finds them
    with translation.override("zh-hans"):
        missing = sorted(c for c in codes if audit.action_label(c) == c)
    assert missing == []
