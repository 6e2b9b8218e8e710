"""Who may take which step on an appeal: one table, written out by hand, and four places that must all answer it.

For every role of the test tree and every action, on an appeal in the role's scope and on one outside it, the
table says allowed (Y) or refused (-). The same answer must come from

- the policy: ``policies.allowed_actions`` lists the action or not;
- the action itself, really called: allowed, it writes; refused, ``PermissionDenied`` and nothing written;
- the API: the transition route answers 200, or 403 (404 when the caller cannot see the appeal), nothing written;
- the page: the appeal page offers the form or not, and its POST goes through or is refused, nothing written
  (rating is the resident's, on their phone pages; everything else on the staff appeal page).

The appeals ("in scope"): in 城东社区 (town A), filed online by the resident 张建国, first received by the
community; handled by 第一网格, or for a department handler or partner contact by their own unit. "Out of scope":
the same steps in 文明社区 (town B), handled by its grid, which only the county sees. Each appeal is in the state
the action needs (a pending request for the decisions, a rating before closing).

The tree and the appeals are built once for the module inside a transaction that is rolled back at its end;
each case runs inside its own savepoint (pytest-django's ``db``), and each write it tries is rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from gongzhi.appeals import actions, policies, selectors
from gongzhi.appeals.models import Appeal, AppealEvent, AppealRequest, Channel
from gongzhi.core.access import Role
from gongzhi.core.models import AuditEvent

from .appeals_factories import make_categories
from .factories import build_tree, make_user

ROLES = {  # the table's column names
    "admin": Role.COUNTY_ADMIN, "jiedao": Role.SUBDISTRICT_STAFF, "shequ": Role.COMMUNITY_STAFF,
    "wangge": Role.GRID_WORKER, "louzhang": Role.BUILDING_STEWARD, "shuji": Role.PARTY_SECRETARY,
    "bumen": Role.DEPARTMENT_HANDLER, "gongjian": Role.PARTNER_CONTACT, "jumin": Role.RESIDENT,
}

# Each cell: in scope, out of scope. Y allowed, - refused.
TABLE = """
                    admin jiedao shequ wangge louzhang shuji bumen gongjian jumin
dispatch            YY    Y-     Y-    --     --       --    --    --       --
accept              YY    Y-     Y-    Y-     --       --    Y-    Y-       --
return              YY    Y-     Y-    Y-     --       --    Y-    Y-       --
resolve             YY    Y-     Y-    Y-     --       --    Y-    Y-       --
extension_request   YY    Y-     Y-    Y-     --       --    Y-    Y-       --
extension_decide    YY    Y-     Y-    --     --       --    --    --       --
verify              YY    Y-     Y-    --     --       --    --    --       --
close               YY    Y-     Y-    --     --       --    --    --       --
merge               YY    Y-     Y-    --     --       --    --    --       --
void_request        YY    Y-     Y-    Y-     --       --    Y-    Y-       --
void_decide         YY    Y-     --    --     --       --    --    --       --
supervise           YY    Y-     --    --     --       --    --    --       --
rate                --    --     --    --     --       --    --    --       Y-
callback            YY    Y-     Y-    --     --       --    --    --       --
reopen              YY    Y-     Y-    --     --       --    --    --       --
"""


def _parse(table: str) -> dict[tuple[str, str, str], bool]:
    lines = [line.split() for line in table.strip().splitlines()]
    names = lines[0]
    out = {}
    for action, *cells in lines[1:]:
        assert len(cells) == len(names), action
        for name, cell in zip(names, cells):
            out[(action, name, "in")], out[(action, name, "out")] = cell[0] == "Y", cell[1] == "Y"
    return out


EXPECTED = _parse(TABLE)
ACTIONS = list(dict.fromkeys(action for action, _name, _scope in EXPECTED))

# The state each action is tried in.
STATE = {
    "dispatch": "submitted", "merge": "submitted", "accept": "dispatched", "return": "dispatched",
    "resolve": "accepted", "extension_request": "accepted", "void_request": "accepted", "supervise": "accepted",
    "extension_decide": "extension_pending", "void_decide": "void_pending", "verify": "resolved",
    "rate": "resolved", "callback": "resolved", "reopen": "resolved", "close": "verified",
}


@dataclass
class World:
    tree: object
    appeals: dict  # (scope, handler key, state) -> Appeal; submitted ones have no handler (key None)
    into: dict  # scope -> the main appeal a duplicate is merged into
    grid: dict  # scope -> the grid the appeals there are dispatched to


MD5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=MD5), transaction.atomic():
        yield _build()
        transaction.set_rollback(True)


def _build() -> World:
    tree = build_tree()
    cats = make_categories()
    u = tree.users
    # Town B's own staff, so that its appeals go round the loop without the county's hand.
    staff_b = make_user("shequ_b", Role.COMMUNITY_STAFF, tree.comm_b)
    worker_b = make_user("wangge_b", Role.GRID_WORKER, tree.grid_b1)
    description = "滨河小区门口垃圾堆了三天没人清运"
    scopes = {
        "in": {"file": dict(by=u[Role.RESIDENT], channel=Channel.ONLINE, reporter=tree.resident_a),
               "owner": u[Role.COMMUNITY_STAFF], "rater": (u[Role.RESIDENT], False),
               "handlers": {"grid": (tree.grid_a1, None, u[Role.GRID_WORKER]),
                            "department": (None, tree.department, u[Role.DEPARTMENT_HANDLER]),
                            "partner": (None, tree.partner, u[Role.PARTNER_CONTACT])}},
        "out": {"file": dict(by=staff_b, channel=Channel.WINDOW, reporter=tree.resident_b),
                "owner": staff_b, "rater": (staff_b, True),
                "handlers": {"grid": (tree.grid_b1, None, worker_b)}},
    }
    appeals, into = {}, {}
    for scope, s in scopes.items():
        def new():
            return actions.appeal_file(category=cats["garbage"], title="垃圾没人清", description=description, **s["file"])

        into[scope] = new()
        appeals[(scope, None, "submitted")] = new()
        for key, (node, unit, handler) in s["handlers"].items():
            def step(to: str):
                appeal = new()
                actions.appeal_dispatch(appeal=appeal, by=s["owner"], to_node=node, to_unit=unit)
                if to == "dispatched":
                    return appeal
                actions.appeal_accept(appeal=appeal, by=handler)
                if to == "extension_pending":
                    actions.extension_request(appeal=appeal, by=handler, days=3, reason="等待配件")
                elif to == "void_pending":
                    actions.void_request(appeal=appeal, by=s["owner"], reason="重复提交")
                elif to in ("resolved", "verified"):
                    actions.appeal_resolve(appeal=appeal, by=handler, result="已清运")
                if to == "verified":
                    rater, callback = s["rater"]
                    actions.appeal_rate(appeal=appeal, by=rater, resolved=True, satisfaction="satisfied",
                                        callback=callback)
                    actions.appeal_verify(appeal=appeal, by=s["owner"])
                return appeal

            for state in ("dispatched", "accepted", "extension_pending", "void_pending", "resolved", "verified"):
                appeals[(scope, key, state)] = step(state)
    return World(tree, appeals, into, {"in": tree.grid_a1, "out": tree.grid_b1})


def _appeal(world: World, role: str, action: str, scope: str) -> Appeal:
    state = STATE[action]
    if state == "submitted":
        key = None
    elif scope == "in" and role == Role.DEPARTMENT_HANDLER:
        key = "department"
    elif scope == "in" and role == Role.PARTNER_CONTACT:
        key = "partner"
    else:
        key = "grid"
    return Appeal.objects.get(pk=world.appeals[(scope, key, state)].pk)


def _snapshot(appeal: Appeal):
    """Everything an action on the appeal writes."""
    return (
        Appeal.objects.filter(pk=appeal.pk).values().get(),
        sorted(AppealRequest.objects.filter(appeal=appeal).values_list("id", "state")),
        AppealEvent.objects.count(), AuditEvent.objects.count(),
    )


def _pending(appeal: Appeal, kind: str) -> AppealRequest:
    return AppealRequest.objects.get(appeal=appeal, kind=kind, state=AppealRequest.State.PENDING)


def _call(action: str, appeal: Appeal, user, world: World, scope: str) -> None:
    """The action, called as the pages and the API call it."""
    note = {"reason": "说明一下原因"}
    calls = {
        "dispatch": lambda: actions.appeal_dispatch(appeal=appeal, by=user, to_node=world.grid[scope]),
        "merge": lambda: actions.appeal_merge(appeal=appeal, into=world.into[scope], by=user),
        "accept": lambda: actions.appeal_accept(appeal=appeal, by=user),
        "return": lambda: actions.appeal_return(appeal=appeal, by=user, **note),
        "resolve": lambda: actions.appeal_resolve(appeal=appeal, by=user, result="已处理完毕"),
        "extension_request": lambda: actions.extension_request(appeal=appeal, by=user, days=3, **note),
        "extension_decide": lambda: actions.extension_decide(
            request=_pending(appeal, "extension"), by=user, approve=True),
        "verify": lambda: actions.appeal_verify(appeal=appeal, by=user),
        "close": lambda: actions.appeal_close(appeal=appeal, by=user),
        "void_request": lambda: actions.void_request(appeal=appeal, by=user, **note),
        "void_decide": lambda: actions.void_decide(request=_pending(appeal, "void"), by=user, approve=True),
        "supervise": lambda: actions.appeal_supervise(appeal=appeal, by=user, note="请尽快办理"),
        "rate": lambda: actions.appeal_rate(appeal=appeal, by=user, resolved=True, satisfaction="satisfied"),
        "callback": lambda: actions.appeal_rate(appeal=appeal, by=user, resolved=True, satisfaction="basic",
                                                callback=True),
        "reopen": lambda: actions.appeal_reopen(appeal=appeal, by=user, **note),
    }
    calls[action]()


def _api(action: str, world: World, scope: str) -> tuple[str, dict]:
    reason = {"reason": "说明一下原因"}
    return {
        "dispatch": ("dispatch", {"to_node_id": world.grid[scope].pk}),
        "merge": ("merge", {"into_id": world.into[scope].pk}),
        "accept": ("accept", {}), "return": ("return", reason), "resolve": ("resolve", {"result": "已处理完毕"}),
        "extension_request": ("extension", {"days": 3, **reason}),
        "extension_decide": ("extension/decide", {"approve": True}),
        "verify": ("verify", {}), "close": ("close", {}), "void_request": ("void", reason),
        "void_decide": ("void/decide", {"approve": True}), "supervise": ("supervise", {"note": "请尽快办理"}),
        "rate": ("rate", {"resolved": True, "satisfaction": "satisfied"}),
        "callback": ("rate", {"resolved": True, "satisfaction": "basic", "callback": True}),
        "reopen": ("reopen", reason),
    }[action]


def _form(action: str, appeal: Appeal, world: World, scope: str) -> dict:
    """What the appeal page's form for ``action`` posts."""
    seen = appeal.status
    if action in ("extension_decide", "void_decide"):
        return {"request": _pending(appeal, action.split("_")[0]).pk, "approve": "1"}
    return {
        "dispatch": {"seen": seen, "target": f"n{world.grid[scope].pk}"},
        "merge": {"merge-seen": seen, "merge-into": world.into[scope].pk},
        "accept": {"accept-seen": seen},
        "return": {"return-seen": seen, "return-reason": "说明一下原因"},
        "resolve": {"resolve-seen": seen, "resolve-result": "已处理完毕"},
        "extension_request": {"ext-seen": seen, "ext-days": "3", "ext-reason": "说明一下原因"},
        "verify": {"verify-seen": seen, "verify-ok": "1"},
        "close": {"close-seen": seen},
        "void_request": {"void-seen": seen, "void-reason": "说明一下原因"},
        "supervise": {"supervise-seen": seen, "supervise-note": "请尽快办理"},
        "callback": {"callback-seen": seen, "callback-resolved": "1", "callback-satisfaction": "basic"},
        "reopen": {"reopen-seen": seen, "reopen-reason": "说明一下原因"},
    }[action]


def _rolled_back(fn):
    """Run ``fn`` (a write, or one that fails) and undo whatever it wrote; return its result or exception."""
    try:
        with transaction.atomic():
            result = fn()
            transaction.set_rollback(True)
        return result
    except Exception as exc:  # noqa: BLE001 - the caller asserts which
        return exc


def test_the_table_is_not_trivial():
    assert set(ACTIONS) == set(policies.ACTIONS)  # every action the policy knows is in the table
    assert {name for name in ROLES} == set(TABLE.split()[:len(ROLES)])
    assert all(any(EXPECTED[(a, n, "in")] for n in ROLES) for a in ACTIONS)
    assert all(not all(EXPECTED[(a, n, "in")] for n in ROLES) for a in ACTIONS)
    assert any(EXPECTED[(a, n, "in")] != EXPECTED[(a, n, "out")] for a in ACTIONS for n in ROLES)


@pytest.mark.parametrize("scope", ["in", "out"])
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("name", list(ROLES))
def test_policy_action_api_and_page_agree(world, db, client, name, action, scope):
    role = ROLES[name]
    user = world.tree.users[role]
    allowed = EXPECTED[(action, name, scope)]
    appeal = _appeal(world, role, action, scope)
    visible = selectors.appeals(user).filter(pk=appeal.pk).exists()
    before = _snapshot(appeal)

    # the policy
    assert (action in policies.allowed_actions(user, appeal)) is allowed, "policy"

    # the action, really called
    outcome = _rolled_back(lambda: _call(action, Appeal.objects.get(pk=appeal.pk), user, world, scope))
    if allowed:
        assert not isinstance(outcome, Exception), f"action refused: {outcome!r}"
    else:
        assert isinstance(outcome, PermissionDenied), f"action: {outcome!r}"
    assert _snapshot(appeal) == before

    # the API
    client.force_login(user)
    route, body = _api(action, world, scope)
    response = _rolled_back(lambda: client.post(f"/api/v1/appeals/{appeal.pk}/{route}", body,
                                                content_type="application/json"))
    assert response.status_code == (200 if allowed else 403 if visible else 404), f"API: {response.content!r}"
    assert _snapshot(appeal) == before

    # the page
    changed = []

    def post(url, data):
        response = client.post(url, data)
        changed.append(_snapshot(appeal) != before)
        return response

    if action == "rate":  # the resident's phone pages
        page = client.get(reverse("appeals:m_detail", args=[appeal.pk]))
        assert page.status_code == (200 if visible else 404), "page"
        if visible:
            assert (page.context["rate_form"] is not None) is allowed, "page offers"
        form = {"resolved": "1", "satisfaction": "satisfied"}
        response = _rolled_back(lambda: post(reverse("appeals:m_rate", args=[appeal.pk]), form))
    else:
        staff = role != Role.RESIDENT
        page = client.get(reverse("appeals:detail", args=[appeal.pk]))
        assert page.status_code == (403 if not staff else 200 if visible else 404), "page"
        if page.status_code == 200:
            assert (f'data-action="{action}"' in page.content.decode()) is allowed, "page offers"
            assert 'data-action="rate"' not in page.content.decode()
        form = _form(action, appeal, world, scope)
        response = _rolled_back(lambda: post(reverse("appeals:act", args=[appeal.pk, action]), form))
        if not allowed:
            assert response.status_code == (403 if not staff else 200 if visible else 404), "page POST"
            if response.status_code == 200:
                assert 'data-testid="action-error"' in response.content.decode()
    if allowed:
        assert response.status_code == 302 and changed == [True], "page POST"
    else:
        assert changed in ([], [False]), "page POST wrote"
    assert _snapshot(appeal) == before
