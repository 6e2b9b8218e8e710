"""Staff accounts as a county runs them (issue 12, sections 1 and 3): making an account whose login name is the
phone, giving roles without escalation, withdrawing them with history, resets with a one-time password and the
forced change at the next login, disabling with the open work listed, imported accounts activated with a code,
and party members' accounts made by their branch."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from gongzhi.accounts import actions, policies, selectors
from gongzhi.accounts.models import ActivationCode, ApiToken, RoleAssignment, User
from gongzhi.appeals.models import Appeal, Status
from gongzhi.core.access import SYSTEM, Role
from gongzhi.core.models import AuditEvent
from gongzhi.orgs.models import PartyMember

from .appeals_factories import make_categories
from .factories import make_user


@pytest.fixture
def cats(db):
    return make_categories()


def counts():
    return User.objects.count(), RoleAssignment.objects.count(), AuditEvent.objects.count()


@pytest.fixture
def shequ(tree):
    return tree.users[Role.COMMUNITY_STAFF]


def test_community_staff_make_a_grid_worker_with_a_one_time_password(tree, shequ):
    user, raw = actions.user_create(by=shequ, display_name="  刘网格 ", phone="138 0013 8000", role=Role.GRID_WORKER,
                                    node=tree.grid_a2)
    assert user.username == "13800138000" and user.display_name == "刘网格"
    assert user.must_change_password and user.check_password(raw) and len(raw.replace("-", "")) == 12
    assert not user.password.startswith(("pbkdf2", "md5")) or raw not in user.password  # hashed, never plain
    (assignment,) = user.role_assignments.all()
    assert (assignment.role, assignment.node, assignment.assigned_by) == (Role.GRID_WORKER, tree.grid_a2, shequ)
    assert user.created_by == shequ
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk), actor=shequ).exists()
    assert AuditEvent.objects.filter(action="role.assign", object_id=str(assignment.pk)).exists()
    assert policies.can_manage_user(shequ, user)


@pytest.mark.parametrize("phone, problem", [
    ("13800001", "11-digit"),  # too short
    ("0835-2223333", "11-digit"),  # a landline is no login name
    ("23800138000", "11-digit"),
    ("13800138000", "already used"),
])
def test_bad_phones_are_refused_and_nothing_is_written(tree, shequ, phone, problem):
    make_user("13800138000")
    before = counts()
    with translation.override("en"), pytest.raises(ValidationError, match=problem):
        actions.user_create(by=shequ, display_name="刘网格", phone=phone, role=Role.GRID_WORKER, node=tree.grid_a2)
    assert counts() == before


def test_a_phone_already_used_is_said_in_chinese(client, tree, shequ):
    make_user("13800138000")
    client.force_login(shequ)
    response = client.post(reverse("accounts:user_new"), {"display_name": "刘网格", "phone": "13800138000",
                                                          "role": Role.GRID_WORKER, "node": tree.grid_a2.pk})
    assert response.status_code == 400
    assert "13800138000 已被其他账号使用" in response.content.decode()
    assert not User.objects.filter(display_name="刘网格").exists()


# --- no escalation ---------------------------------------------------------------------------------------------

ESCALATIONS = [
    # (who, role, where, unit, exception): beyond the giver, refused with nothing written.
    (Role.COMMUNITY_STAFF, Role.COUNTY_ADMIN, "county", None, PermissionDenied),  # outside the subtree
    (Role.COMMUNITY_STAFF, Role.SUBDISTRICT_STAFF, "comm_a", None, PermissionDenied),  # more rights than held
    (Role.COMMUNITY_STAFF, Role.GRID_WORKER, "grid_b1", None, PermissionDenied),  # another town's grid
    (Role.COMMUNITY_STAFF, Role.DEPARTMENT_HANDLER, "comm_a", "department", PermissionDenied),  # the county's unit
    (Role.SUBDISTRICT_STAFF, Role.PARTNER_CONTACT, "comm_a", "partner", PermissionDenied),
    (Role.SUBDISTRICT_STAFF, Role.GRID_WORKER, "grid_b1", None, PermissionDenied),
    (Role.GRID_WORKER, Role.GRID_WORKER, "grid_a1", None, PermissionDenied),  # no users.manage at all
    (Role.PARTY_SECRETARY, Role.BUILDING_STEWARD, "grid_a1", None, PermissionDenied),
    (Role.SUBDISTRICT_STAFF, Role.COUNTY_ADMIN, "town_a", None, ValidationError),  # only at the top of a tree
    (Role.COUNTY_ADMIN, Role.GRID_WORKER, "comm_a", None, ValidationError),  # a grid worker sits at a grid
    (Role.COUNTY_ADMIN, Role.DEPARTMENT_HANDLER, "comm_a", None, ValidationError),  # a unit role without its unit
]


@pytest.mark.parametrize("who, role, where, unit, refused", ESCALATIONS)
def test_roles_beyond_the_giver_are_refused(tree, who, role, where, unit, refused):
    by, node = tree.users[who], getattr(tree, where)
    unit = getattr(tree, unit) if unit else None
    before = counts()
    with pytest.raises(refused):
        actions.user_create(by=by, display_name="新人", phone="13911112222", role=role, node=node, unit=unit)
    target = make_user("xinren", Role.GRID_WORKER, tree.grid_a1)  # an account every manager here manages
    before = counts()
    with pytest.raises((refused, PermissionDenied)):
        actions.role_assign(user=target, role=role, node=node, unit=unit, by=by)
    assert counts() == before


def test_an_account_outside_ones_subtree_is_not_managed(tree, shequ):
    other = make_user("jiuxiang-wg", Role.GRID_WORKER, tree.grid_b1)
    before = counts()
    with pytest.raises(PermissionDenied):
        actions.role_assign(user=other, role=Role.GRID_WORKER, node=tree.grid_a2, by=shequ)
    for act in (lambda: actions.password_reset(user=other, by=shequ),
                lambda: actions.user_disable(user=other, by=shequ, reason="离职")):
        with pytest.raises(PermissionDenied):
            act()
    assert counts() == before
    assert not selectors.managed_users(shequ).filter(pk=other.pk).exists()


def test_what_a_manager_may_give(tree):
    community = policies.assignable_roles(tree.users[Role.COMMUNITY_STAFF])
    assert {Role.GRID_WORKER, Role.BUILDING_STEWARD, Role.PARTY_SECRETARY, Role.COMMUNITY_STAFF} <= set(community)
    assert Role.COUNTY_ADMIN not in community and Role.SUBDISTRICT_STAFF not in community
    assert policies.assignable_roles(tree.users[Role.GRID_WORKER]) == []
    assert Role.COUNTY_ADMIN in policies.assignable_roles(tree.users[Role.COUNTY_ADMIN])


def test_unit_roles_are_given_for_a_unit_of_ones_area(tree):
    admin = tree.users[Role.COUNTY_ADMIN]
    user, _raw = actions.user_create(by=admin, display_name="住建局办理人", phone="13911113333",
                                     role=Role.DEPARTMENT_HANDLER, node=tree.county, unit=tree.department)
    assert user.role_assignments.get().unit == tree.department
    # The community's staff do not manage a handler of the county's department, though the node is theirs.
    handler = tree.users[Role.DEPARTMENT_HANDLER]
    assert not policies.can_manage_user(tree.users[Role.COMMUNITY_STAFF], handler)
    assert policies.can_manage_user(admin, handler)
    with pytest.raises(ValidationError):
        actions.role_assign(user=user, role=Role.GRID_WORKER, node=tree.grid_a1, unit=tree.department, by=admin)


# --- withdrawing, moving, history ------------------------------------------------------------------------------


def test_a_grid_worker_moves_to_another_grid_and_keeps_their_history(tree, shequ, cats):
    from gongzhi.appeals import actions as appeal_actions

    worker = make_user("liu", Role.GRID_WORKER, tree.grid_a1)
    appeal = appeal_actions.appeal_file(by=tree.users[Role.RESIDENT], category=cats["garbage"], title="垃圾",
                                        description="3栋门口垃圾堆了三天", channel="online", reporter=tree.resident_a)
    appeal_actions.appeal_dispatch(appeal=appeal, by=shequ, to_node=tree.grid_a1)
    appeal_actions.appeal_accept(appeal=appeal, by=worker)
    old = worker.role_assignments.get()
    new = actions.role_move(assignment=old, node=tree.grid_a2, by=shequ, reason="调整网格")
    old.refresh_from_db()
    assert not old.is_active and old.withdrawn_by == shequ and old.withdraw_reason == "调整网格" and old.withdrawn_at
    assert new.is_active and new.node == tree.grid_a2
    assert [a.pk for a in selectors.role_history(worker)] == [new.pk, old.pk]
    assert Appeal.objects.get(pk=appeal.pk).accepted_by == worker  # their work stays theirs
    assert AuditEvent.objects.filter(action="role.withdraw", object_id=str(old.pk), reason="调整网格").exists()
    # Given back at the first grid later: a new row beside the withdrawn one, never a delete.
    again = actions.role_assign(user=worker, role=Role.GRID_WORKER, node=tree.grid_a1, by=shequ)
    assert again.pk != old.pk and RoleAssignment.objects.filter(user=worker).count() == 3


def test_withdrawn_roles_stop_applying_and_nobody_withdraws_their_own(tree, shequ):
    worker = tree.users[Role.GRID_WORKER]
    assignment = worker.role_assignments.get()
    with pytest.raises(PermissionDenied):
        actions.role_withdraw(assignment=shequ.role_assignments.get(), by=shequ, reason="自己")
    actions.role_withdraw(assignment=assignment, by=shequ, reason="离岗")
    worker = User.objects.get(pk=worker.pk)
    assert not worker.can("registry.view")
    # With no role left, the account is still the community's to manage (by the roles it held).
    assert policies.can_manage_user(shequ, worker)
    assert selectors.managed_users(shequ).filter(pk=worker.pk).exists()
    with pytest.raises(ValidationError):
        actions.role_withdraw(assignment=assignment, by=shequ, reason="again")


# --- resets, the forced change, disabling ----------------------------------------------------------------------


def test_reset_gives_a_one_time_password_and_the_next_login_must_change_it(client, tree, shequ):
    worker = tree.users[Role.GRID_WORKER]
    _token, raw_token = actions.token_create(user=worker, name="phone")
    raw = actions.password_reset(user=worker, by=shequ)
    worker.refresh_from_db()
    assert worker.must_change_password and worker.check_password(raw)
    assert ApiToken.objects.get(user=worker).revoked_at is not None  # a lost phone's token stops too
    assert AuditEvent.objects.filter(action="user.password_reset", object_id=str(worker.pk), actor=shequ).exists()
    with pytest.raises(PermissionDenied):
        actions.password_reset(user=shequ, by=shequ)  # one's own: the password page

    response = client.post(reverse("accounts:login"), {"username": worker.username, "password": raw})
    assert response.status_code == 302
    for url in (reverse("home"), reverse("orgs:residents"), reverse("accounts:me")):
        page = client.get(url)
        assert page.status_code == 302 and page.url == reverse("accounts:password_change"), url
    assert client.get("/api/v1/nodes").status_code == 403
    form = client.get(reverse("accounts:password_change"))
    assert form.status_code == 200 and 'data-testid="forced"' in form.content.decode()
    weak = client.post(reverse("accounts:password_change"),
                       {"old_password": raw, "new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 200 and "太常见" in weak.content.decode()
    done = client.post(reverse("accounts:password_change"),
                       {"old_password": raw, "new_password1": "Wangge-2025-qiu", "new_password2": "Wangge-2025-qiu"})
    assert done.status_code == 302 and done.url == reverse("home")
    worker.refresh_from_db()
    assert not worker.must_change_password
    assert client.get(reverse("orgs:residents")).status_code == 200


def test_tokens_wait_for_the_forced_change(client, tree, shequ):
    worker = tree.users[Role.GRID_WORKER]
    raw = actions.password_reset(user=worker, by=shequ)
    obtain = client.post("/api/v1/auth/token", {"username": worker.username, "password": raw},
                         content_type="application/json")
    assert obtain.status_code == 403
    User.objects.filter(pk=worker.pk).update(must_change_password=False)
    ok = client.post("/api/v1/auth/token", {"username": worker.username, "password": raw},
                     content_type="application/json")
    assert ok.status_code == 201
    User.objects.filter(pk=worker.pk).update(must_change_password=True)
    refused = client.get("/api/v1/nodes", HTTP_AUTHORIZATION=f"Bearer {ok.json()['token']}")
    assert refused.status_code == 401


def test_disable_lists_open_work_and_enable_gives_the_account_back(client, tree, shequ, cats):
    from gongzhi.appeals import actions as appeal_actions

    worker = tree.users[Role.GRID_WORKER]
    appeal = appeal_actions.appeal_file(by=tree.users[Role.RESIDENT], category=cats["garbage"], title="垃圾",
                                        description="3栋门口垃圾堆了三天", channel="online", reporter=tree.resident_a)
    appeal_actions.appeal_dispatch(appeal=appeal, by=shequ, to_node=tree.grid_a1)
    appeal_actions.appeal_accept(appeal=appeal, by=worker)
    with translation.override("en"):
        work = actions.user_disable(user=worker, by=shequ, reason="调离")
    labels = {w.label: w.count for w in work}
    assert labels == {"Appeals they accepted and have not resolved": 1}
    worker.refresh_from_db()
    assert not worker.is_active and worker.disabled_reason == "调离" and worker.disabled_at
    assert worker.role_assignments.filter(is_active=True).count() == 1  # roles kept
    assert User.objects.filter(pk=worker.pk).exists()
    event = AuditEvent.objects.get(action="user.disable", object_id=str(worker.pk))
    assert event.reason == "调离"
    client.force_login(worker)
    assert client.get(reverse("orgs:residents")).status_code == 302  # logged out: to the login page
    with pytest.raises(ValidationError):
        actions.user_disable(user=worker, by=shequ, reason="again")
    with pytest.raises(ValidationError):
        actions.user_disable(user=tree.users[Role.BUILDING_STEWARD], by=shequ, reason="  ")
    actions.user_enable(user=worker, by=shequ)
    worker.refresh_from_db()
    assert worker.is_active and not worker.disabled_reason
    assert AuditEvent.objects.filter(action="user.enable", object_id=str(worker.pk)).exists()


def test_a_sole_handler_leaving_lists_the_queue_nobody_else_handles(tree, shequ, cats):
    from gongzhi.appeals import actions as appeal_actions

    appeal = appeal_actions.appeal_file(by=tree.users[Role.RESIDENT], category=cats["garbage"], title="垃圾",
                                        description="3栋门口垃圾堆了三天", channel="online", reporter=tree.resident_a)
    appeal_actions.appeal_dispatch(appeal=appeal, by=shequ, to_node=tree.grid_a1)
    assert Appeal.objects.get(pk=appeal.pk).status == Status.DISPATCHED
    with translation.override("en"):
        work = actions.user_disable(user=tree.users[Role.GRID_WORKER], by=shequ, reason="离职")
    assert [(w.label, w.count) for w in work] == [("Appeals waiting on 第一网格, which has no other handler", 1)]
    assert "handler=n" in work[0].url


# --- activation codes ------------------------------------------------------------------------------------------


def test_imported_accounts_activate_with_their_code_once(client, tree, shequ):
    user = User.objects.create(username="13911110000", display_name="新网格员", password="!unusable")
    actions.role_assign(user=user, role=Role.GRID_WORKER, node=tree.grid_a2, by=SYSTEM)  # as the import does
    ((_u, first),) = actions.activation_codes(users=[user], by=shequ)
    ((_u, code),) = actions.activation_codes(users=[user], by=shequ)  # a new sheet: the first code stops
    assert ActivationCode.objects.filter(user=user).count() == 2
    assert len(code.replace("-", "")) == 12 and not ActivationCode.objects.filter(code_hash=code).exists()
    url = reverse("accounts:activate")
    old = client.post(url, {"username": user.username, "code": first, "new_password1": "Wangge-2025-qiu",
                            "new_password2": "Wangge-2025-qiu"})
    assert old.status_code == 400
    weak = client.post(url, {"username": user.username, "code": code, "new_password1": "password",
                             "new_password2": "password"})
    assert weak.status_code == 400 and "太常见" in weak.content.decode()
    typed = code.lower().replace("-", " ")  # as read off a sheet
    ok = client.post(url, {"username": user.username, "code": typed, "new_password1": "Wangge-2025-qiu",
                           "new_password2": "Wangge-2025-qiu"})
    assert ok.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Wangge-2025-qiu") and not user.must_change_password
    assert client.get(reverse("orgs:residents")).status_code == 200  # logged in
    client.logout()
    again = client.post(url, {"username": user.username, "code": code, "new_password1": "Other-2025-qiu",
                              "new_password2": "Other-2025-qiu"})
    assert again.status_code == 400
    assert AuditEvent.objects.filter(action="user.activate", object_id=str(user.pk)).count() == 1


def test_activation_guesses_are_throttled(client, tree):
    user = User.objects.create(username="13911110001", display_name="新网格员", password="!unusable")
    ((_u, code),) = actions.activation_codes(users=[user], by=SYSTEM)
    url = reverse("accounts:activate")
    guess = {"username": user.username, "new_password1": "Wangge-2025-qiu", "new_password2": "Wangge-2025-qiu"}
    for i in range(5):
        assert client.post(url, {**guess, "code": f"AAAA-BBBB-CCC{i}"}).status_code == 400
    locked = client.post(url, {**guess, "code": code})
    assert locked.status_code == 429
    user.refresh_from_db()
    assert not user.has_usable_password()


# --- party members ---------------------------------------------------------------------------------------------


def test_the_branch_makes_or_links_a_party_members_account(client, tree):
    secretary = tree.users[Role.PARTY_SECRETARY]  # 第一网格, party.edit there
    member = PartyMember.objects.create(resident=tree.resident_a2, organization=tree.branch_a,
                                        assigned_node=tree.grid_a1, org_path=tree.grid_a1.path)
    client.force_login(secretary)
    url = reverse("accounts:party_member_account", args=[member.pk])
    assert client.get(url).status_code == 200
    staff_phone = make_user("13800009999", Role.GRID_WORKER, tree.grid_a2)
    refused = client.post(url, {"phone": staff_phone.username})
    assert refused.status_code == 400 and not User.objects.filter(resident__pk=tree.resident_a2.pk).exists()
    made = client.post(url, {"phone": "13900002222"})
    assert made.status_code == 200 and 'data-testid="one-time-password"' in made.content.decode()
    tree.resident_a2.refresh_from_db()
    account = tree.resident_a2.user
    assert account.username == "13900002222" and account.display_name == "李秀英" and account.must_change_password
    assert account.role_assignments.get().role == Role.RESIDENT
    assert AuditEvent.objects.filter(action="party_member.account_create", object_id=str(member.pk)).exists()
    # Linking an existing resident-less account instead.
    loose = User.objects.create_user(username="13700001234", password="x-Strong-2025")
    member_b = PartyMember.objects.create(resident=tree.resident_a, organization=tree.branch_a,
                                          assigned_node=tree.grid_a1, org_path=tree.grid_a1.path)
    tree.resident_a.user = None
    tree.resident_a.save(update_fields=["user"])
    user, raw = actions.party_member_account(member=member_b, by=secretary, phone="13700001234")
    assert user == loose and raw is None


def test_a_party_member_elsewhere_is_not_the_branch_secretarys(client, tree):
    from gongzhi.orgs import actions as orgs_actions
    from gongzhi.orgs.models import PartyOrgKind

    branch_b = orgs_actions.party_org_create(name="文明社区党支部", kind=PartyOrgKind.BRANCH, node=tree.grid_b1, by=SYSTEM)
    member = PartyMember.objects.create(resident=tree.resident_b, organization=branch_b, assigned_node=tree.grid_b1,
                                        org_path=tree.grid_b1.path)
    client.force_login(tree.users[Role.PARTY_SECRETARY])
    url = reverse("accounts:party_member_account", args=[member.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"phone": "13900007777"}).status_code == 404
    assert not User.objects.filter(username="13900007777").exists()


# --- words ---------------------------------------------------------------------------------------------------


def test_user_pages_show_no_english_by_default(client, tree):
    """The pages of this issue, in Chinese: every string is in the catalog (login names aside: the fixture's are
    Latin, a county's are phone numbers)."""
    from .test_i18n import _english_words

    worker = tree.users[Role.GRID_WORKER]
    member = PartyMember.objects.create(resident=tree.resident_a2, organization=tree.branch_a,
                                        assigned_node=tree.grid_a1, org_path=tree.grid_a1.path)
    logins = set(User.objects.values_list("username", flat=True))
    pages = {
        "users": reverse("accounts:users"),
        "user_new": reverse("accounts:user_new"),
        "user_detail": reverse("accounts:user_detail", args=[worker.pk]),
        "roster": reverse("accounts:roster"),
        "party_member": reverse("accounts:party_member_account", args=[member.pk]),
    }
    client.force_login(tree.users[Role.COUNTY_ADMIN])
    english = {}
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        if words := _english_words(response.content.decode()) - logins:
            english[name] = sorted(words)
    client.logout()
    if words := _english_words(client.get(reverse("accounts:activate")).content.decode()):
        english["activate"] = sorted(words)
    assert english == {}
