"""Residents joining by real name: codes, joining with a code (matched or waiting), asking without a code, the
grid worker's decision, moving out; what the person joining is told (never anything of the registry), the
throttle, and bad input (nothing written)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts import selectors
from gongzhi.accounts.actions import join as actions
from gongzhi.accounts.models import JoinAttempt, JoinCode, JoinRequest, PhoneCheck, RoleAssignment, User
from gongzhi.core.access import SYSTEM, Role
from gongzhi.core.models import AuditEvent
from gongzhi.orgs import actions as orgs_actions
from gongzhi.orgs.models import PartyMember, Resident

from .factories import make_id

PASSWORD = "Hexie-2026-join"
pytestmark = pytest.mark.django_db


def last4(resident) -> str:
    return resident.reveal_id_number()[-4:]


def add_member(household, name="张小红", birth="19850505", male=False, **kw):
    return orgs_actions.resident_create(household=household, name=name, id_number=make_id(birth, male=male),
                                        relation="spouse", by=SYSTEM, **kw)


def new_code(tree, household=None, by=None, days=30):
    return actions.join_code_create(by=by or tree.users[Role.GRID_WORKER], household=household or tree.household_a,
                                    days=days)


def rf(address="203.0.113.7"):
    return RequestFactory().post("/join/", REMOTE_ADDR=address)


def api_join(client, **body):
    return client.post("/api/v1/join", json.dumps(body), content_type="application/json")


def text(response) -> str:
    return json.dumps(response.json(), ensure_ascii=False)


def written():
    """What joining may write, counted (the throttle's own rows aside)."""
    return (User.objects.count(), JoinRequest.objects.count(), Resident.objects.filter(user__isnull=False).count(),
            RoleAssignment.objects.count())


# --- codes ------------------------------------------------------------------------------------------------------


def test_a_code_is_short_unambiguous_stored_hashed_and_audited(tree):
    code, raw = new_code(tree)
    assert len(raw) == 8 and set(raw) <= set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
    assert raw not in code.code_hash and raw not in code.code_enc and code.reveal() == raw
    assert code.org_path == tree.household_a.org_path
    assert (code.expires_at - timezone.now()).days in (29, 30)
    assert actions.code_for(raw.lower()[:4] + "-" + raw.lower()[4:]) == code  # typed in any case, with a dash
    assert AuditEvent.objects.filter(action="join.code_create", object_id=str(code.pk)).exists()


def test_code_lifetime_must_be_offered(tree):
    with pytest.raises(ValidationError):
        new_code(tree, days=365)
    assert JoinCode.objects.count() == 0


def test_a_grid_worker_makes_codes_only_for_households_they_edit(tree):
    with pytest.raises(PermissionDenied):
        actions.join_code_create(by=tree.users[Role.GRID_WORKER], household=tree.household_b, days=30)
    with pytest.raises(PermissionDenied):  # a building steward sees the household but may not edit it
        actions.join_code_create(by=tree.users[Role.BUILDING_STEWARD], household=tree.household_a, days=30)
    assert JoinCode.objects.count() == 0


def test_revoked_code_no_longer_works(tree):
    code, raw = new_code(tree)
    actions.join_code_revoke(code=code, by=tree.users[Role.COMMUNITY_STAFF])
    spouse = add_member(tree.household_a)
    before = written()
    with pytest.raises(ValidationError) as exc:
        actions.join(request=rf(), code=raw, name=spouse.name, id_last4=last4(spouse), phone="13712345678",
                     password=PASSWORD)
    assert "作废" in str(exc.value) and written() == before


# --- joining with a code -------------------------------------------------------------------------------------------


def test_a_match_makes_the_account_linked_and_active(tree):
    spouse = add_member(tree.household_a)
    _code, raw = new_code(tree)
    joined = actions.join(request=rf(), code=raw, name=" 张小红 ", id_last4=last4(spouse).lower(),
                          phone="+86 137 1234 5678", password=PASSWORD)
    assert joined.status == "active"
    user = joined.user
    assert user.username == "13712345678" and user.display_name == "张小红" and user.check_password(PASSWORD)
    spouse.refresh_from_db()
    assert spouse.user == user
    assert RoleAssignment.objects.filter(user=user, role=Role.RESIDENT, org_path=tree.household_a.org_path,
                                         is_active=True).exists()
    assert joined.join_request.status == "active" and joined.join_request.resident == spouse
    assert AuditEvent.objects.filter(action="join.active").exists()


def test_several_members_each_join_once_with_one_code_then_it_is_used(tree):
    spouse = add_member(tree.household_a)
    child = add_member(tree.household_a, name="张小明", birth="20100101", male=True)
    _code, raw = new_code(tree)
    a = actions.join(request=rf(), code=raw, name=spouse.name, id_last4=last4(spouse), phone="13712345678",
                     password=PASSWORD)
    b = actions.join(request=rf("203.0.113.8"), code=raw, name=child.name, id_last4=last4(child),
                     phone="13712345679", password=PASSWORD)
    assert (a.status, b.status) == ("active", "active")
    # everyone of the household has an account now (张建国 had one already): the code is used up
    before = written()
    with pytest.raises(ValidationError) as exc:
        actions.join(request=rf("203.0.113.9"), code=raw, name="王五", id_last4="1234", phone="13712345670",
                     password=PASSWORD)
    assert "每位成员" in str(exc.value) and written() == before


def test_every_mismatch_gets_the_same_answer_and_waits(tree, client):
    """Wrong name, wrong last 4, a member with an account already: one answer, "pending", and nothing about
    the registry in it."""
    spouse = add_member(tree.household_a)
    _code, raw = new_code(tree)
    cases = [
        {"name": "不存在", "id_last4": last4(spouse)},  # nobody of that name
        {"name": spouse.name, "id_last4": "0000" if last4(spouse) != "0000" else "1111"},  # wrong ID digits
        {"name": tree.resident_a.name, "id_last4": last4(tree.resident_a)},  # has an account already
    ]
    bodies = set()
    for i, case in enumerate(cases):
        response = api_join(client, code=raw, phone=f"1371234560{i}", password=PASSWORD, **case)
        assert response.status_code == 201, response.content
        bodies.add(response.content)
    assert bodies == {b'{"status": "pending", "username": null}'}
    assert JoinRequest.objects.filter(status="pending", household=tree.household_a).count() == 3
    spouse.refresh_from_db()
    assert spouse.user is None and not User.objects.filter(username__startswith="1371234560").exists()


def test_the_pages_answer_a_mismatch_with_the_one_waiting_page(tree, client):
    add_member(tree.household_a)
    _code, raw = new_code(tree)
    response = client.post(reverse("join:code", args=[raw]), {
        "code": raw, "name": "不存在", "id_last4": "1234", "phone": "13712345601", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("join:sent")
    page = client.get(reverse("join:sent")).content.decode()
    assert "等待" in page and "不存在" not in page and tree.household_a.address not in page
    assert client.get(reverse("join:sent")).status_code == 302  # the answer is shown once


def test_joining_on_the_page_logs_in_and_lands_on_the_household(tree, client):
    spouse = add_member(tree.household_a)
    _code, raw = new_code(tree)
    page = client.get(reverse("join:code", args=[raw]))
    assert page.status_code == 200 and tree.household_a.address not in page.content.decode()
    response = client.post(reverse("join:code", args=[raw]), {
        "code": raw, "name": spouse.name, "id_last4": last4(spouse), "phone": "13712345678", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("orgs:mine")
    mine = client.get(reverse("orgs:mine"))
    assert mine.status_code == 200 and tree.household_a.address in mine.content.decode()


@pytest.mark.parametrize("change, field, words", [
    ({"password": "12345678"}, "password", "密码"),  # entirely numeric / common
    ({"password": "short"}, "password", "密码"),
    ({"phone": "12345"}, "phone", "手机号"),
    ({"phone": "0835-1234567"}, "phone", "手机号"),  # a landline is no login name
    ({"id_last4": "12a4"}, "id_last4", "后4位"),
    ({"name": ""}, "name", "姓名"),
    ({"code": "ABCD"}, "code", "加入码"),
    ({"code": "ZZZZ-ZZZZ"}, "code", "加入码"),
])
def test_bad_input_says_what_is_wrong_and_writes_nothing(tree, client, change, field, words):
    spouse = add_member(tree.household_a)
    _code, raw = new_code(tree)
    body = {"code": raw, "name": spouse.name, "id_last4": last4(spouse), "phone": "13712345678",
            "password": PASSWORD, **change}
    before = written()
    response = api_join(client, **body)
    assert response.status_code == 422, response.content
    detail = response.json()["detail"]
    assert any(field in item["loc"] or words in item["msg"] for item in detail), detail
    assert written() == before


def test_a_phone_with_an_account_is_refused(tree, client):
    spouse = add_member(tree.household_a)
    _code, raw = new_code(tree)
    User.objects.create_user(username="13712345678", password="x")
    before = written()
    response = api_join(client, code=raw, name=spouse.name, id_last4=last4(spouse), phone="13712345678",
                        password=PASSWORD)
    assert response.status_code == 422 and "已有账号" in text(response)
    assert written() == before


def test_an_expired_code_is_refused(tree, client):
    spouse = add_member(tree.household_a)
    code, raw = new_code(tree)
    JoinCode.objects.filter(pk=code.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    before = written()
    response = api_join(client, code=raw, name=spouse.name, id_last4=last4(spouse), phone="13712345678",
                        password=PASSWORD)
    assert response.status_code == 422 and "过期" in text(response)
    assert written() == before


def test_a_waiting_request_per_phone_and_per_code_is_capped(tree, client, settings):
    settings.JOIN_MAX_PENDING_PER_CODE = 2
    add_member(tree.household_a)
    _code, raw = new_code(tree)
    assert api_join(client, code=raw, name="甲", id_last4="1234", phone="13712345601", password=PASSWORD).status_code == 201
    again = api_join(client, code=raw, name="甲", id_last4="1234", phone="13712345601", password=PASSWORD)
    assert again.status_code == 422 and "等待" in text(again)
    assert api_join(client, code=raw, name="乙", id_last4="1234", phone="13712345602", password=PASSWORD).status_code == 201
    third = api_join(client, code=raw, name="丙", id_last4="1234", phone="13712345603", password=PASSWORD)
    assert third.status_code == 422
    assert JoinRequest.objects.count() == 2


# --- the throttle -------------------------------------------------------------------------------------------------


def test_tries_are_throttled_per_address(tree, client, settings):
    settings.JOIN_MAX_ATTEMPTS_PER_ADDRESS = 3
    _code, raw = new_code(tree)
    for i in range(3):
        response = api_join(client, code=raw, name="试", id_last4="1234", phone=f"1371234561{i}", password=PASSWORD)
        assert response.status_code in (201, 422)
    spouse = add_member(tree.household_a)
    before = written()
    locked = api_join(client, code=raw, name=spouse.name, id_last4=last4(spouse), phone="13712345699",
                      password=PASSWORD)
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert "网络地址" in locked.json()["detail"]
    assert written() == before  # the right answer is not even checked
    # another address may still join
    other = Client(REMOTE_ADDR="198.51.100.9")
    ok = api_join(other, code=raw, name=spouse.name, id_last4=last4(spouse), phone="13712345699", password=PASSWORD)
    assert ok.status_code == 201 and ok.json()["status"] == "active"


def test_tries_are_throttled_per_code_from_any_address(tree, settings):
    settings.JOIN_MAX_ATTEMPTS_PER_CODE = 2
    settings.JOIN_MAX_PENDING_PER_CODE = 10
    add_member(tree.household_a)
    _code, raw = new_code(tree)
    for i in range(2):
        actions.join(request=rf(f"203.0.113.{i + 1}"), code=raw, name="试", id_last4="1234",
                     phone=f"1371234562{i}", password=PASSWORD)
    with pytest.raises(actions.JoinRefused) as exc:
        actions.join(request=rf("203.0.113.99"), code=raw, name="试", id_last4="1234", phone="13712345629",
                     password=PASSWORD)
    assert exc.value.lock.kind == "code"
    assert JoinAttempt.objects.count() == 2


def test_the_join_page_says_when_tries_are_locked(tree, client, settings):
    settings.JOIN_MAX_ATTEMPTS_PER_ADDRESS = 1
    _code, raw = new_code(tree)
    url = reverse("join:code", args=[raw])
    body = {"code": raw, "name": "试", "id_last4": "1234", "phone": "13712345631", "password": PASSWORD}
    client.post(url, body)
    response = client.post(url, {**body, "phone": "13712345632"})
    assert response.status_code == 429 and "尝试" in response.content.decode()


# --- without a code -------------------------------------------------------------------------------------------------


def test_asking_without_a_code_waits_for_the_buildings_grid_worker(tree, client):
    url = reverse("join:ask")
    assert client.get(url).status_code == 200
    options = client.get(reverse("join:places"), {"community": tree.comm_a.pk}).content.decode()
    assert tree.compound_a.name in options and tree.compound_b.name not in options
    options = client.get(reverse("join:places"), {"compound": tree.compound_a.pk}).content.decode()
    assert tree.building_a.name in options
    response = client.post(url, {
        "community": tree.comm_a.pk, "compound": tree.compound_a.pk, "building": tree.building_a.pk,
        "address": "1单元102", "name": "赵六", "id_last4": "123X", "phone": "13712345640", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("join:sent")
    jr = JoinRequest.objects.get()
    assert jr.status == "pending" and jr.org_path == tree.building_a.org_path and jr.password_hash
    assert jr in selectors.pending_join_requests(tree.users[Role.GRID_WORKER])
    assert not selectors.pending_join_requests(User.objects.get(username="shequ")).exclude(pk=jr.pk).exists()


def test_asking_with_a_building_of_another_compound_is_refused(tree, client):
    response = client.post(reverse("join:ask"), {
        "community": tree.comm_a.pk, "compound": tree.compound_a.pk, "building": tree.building_b.pk,
        "address": "1单元102", "name": "赵六", "id_last4": "1234", "phone": "13712345640", "password": PASSWORD})
    assert response.status_code == 400 and JoinRequest.objects.count() == 0


# --- the grid worker's decision ------------------------------------------------------------------------------------


def _pending(tree, name="赵六", phone="13712345650"):
    _code, raw = new_code(tree, household=tree.household_a2, by=tree.users[Role.COMMUNITY_STAFF])
    joined = actions.join(request=rf(), code=raw, name=name, id_last4="1234", phone=phone, password=PASSWORD)
    assert joined.status == "pending"
    return joined.join_request


def test_approving_makes_the_account_and_links_the_chosen_member(tree, client):
    jr = _pending(tree)
    worker = tree.users[Role.COMMUNITY_STAFF]
    client.force_login(worker)
    page = client.get(reverse("join:request", args=[jr.pk])).content.decode()
    assert tree.resident_a2.name in page
    response = client.post(reverse("join:approve", args=[jr.pk]), {"resident": tree.resident_a2.pk})
    assert response.status_code == 302
    jr.refresh_from_db()
    assert jr.status == "approved" and jr.password_hash == "" and jr.decided_by == worker
    user = User.objects.get(username="13712345650")
    assert user.check_password(PASSWORD)
    tree.resident_a2.refresh_from_db()
    assert tree.resident_a2.user == user
    assert AuditEvent.objects.filter(action="join.approve").exists()
    again = client.post(reverse("join:approve", args=[jr.pk]), {"resident": tree.resident_a2.pk})
    assert again.status_code == 400  # decided already


def test_rejecting_needs_a_reason_and_keeps_no_password(tree, client):
    jr = _pending(tree)
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    assert client.post(reverse("join:reject", args=[jr.pk]), {"reason": " "}).status_code == 400
    assert client.post(reverse("join:reject", args=[jr.pk]), {"reason": "查无此人"}).status_code == 302
    jr.refresh_from_db()
    assert jr.status == "rejected" and jr.reason == "查无此人" and jr.password_hash == ""
    assert not User.objects.filter(username="13712345650").exists()


def test_approving_to_a_resident_outside_ones_area_is_404_and_writes_nothing(tree, client):
    jr = _pending(tree)
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    response = client.post(reverse("join:approve", args=[jr.pk]), {"resident": tree.resident_b.pk})
    assert response.status_code == 404
    jr.refresh_from_db()
    assert jr.status == "pending" and not User.objects.filter(username="13712345650").exists()


def test_api_lists_approves_and_rejects_requests(tree, client):
    jr = _pending(tree)
    other = _pending(tree, name="钱七", phone="13712345651")
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    listed = client.get("/api/v1/join-requests").json()
    assert listed["count"] == 2 and {i["id"] for i in listed["items"]} == {jr.pk, other.pk}
    assert all(i["phone"].count("*") == 4 for i in listed["items"])
    ok = client.post(f"/api/v1/join-requests/{jr.pk}/approve", {"resident_id": tree.resident_a2.pk},
                     content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    no = client.post(f"/api/v1/join-requests/{other.pk}/reject", {"reason": "不是本户"},
                     content_type="application/json")
    assert no.status_code == 200 and no.json()["reason"] == "不是本户"
    assert client.get("/api/v1/join-requests").json()["count"] == 0
    assert client.get("/api/v1/join-requests?status=all").json()["count"] == 2


def test_api_makes_a_household_code(tree, client):
    client.force_login(tree.users[Role.GRID_WORKER])
    response = client.post(f"/api/v1/households/{tree.household_a.pk}/join-codes", {"days": 7},
                           content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert len(body["code"]) == 9 and body["code"][4] == "-" and body["url"].endswith(f"/join/{body['code'].replace('-', '')}/")
    assert set(body) >= {"code", "expires_at"}
    assert client.post(f"/api/v1/households/{tree.household_b.pk}/join-codes", {},
                       content_type="application/json").status_code == 404
    assert client.post(f"/api/v1/households/{tree.household_a.pk}/join-codes", {"days": 9},
                       content_type="application/json").status_code == 422


# --- moving out, party members --------------------------------------------------------------------------------------


def test_a_resident_who_moves_out_keeps_the_account_and_joins_the_new_household(tree, client):
    jumin = tree.users[Role.RESIDENT]
    actions.resident_account_unlink(resident=tree.resident_a, by=tree.users[Role.GRID_WORKER], reason="搬离")
    tree.resident_a.refresh_from_db()
    jumin.refresh_from_db()
    assert tree.resident_a.user is None and jumin.is_active
    assert not RoleAssignment.objects.filter(user=jumin, role=Role.RESIDENT, is_active=True).exists()
    # the same person is registered in the new household (the registry moves them, or they are added there)
    orgs_actions.resident_move(resident=tree.resident_a, to_household=tree.household_a2, by=SYSTEM)
    _code, raw = new_code(tree, household=tree.household_a2, by=tree.users[Role.COMMUNITY_STAFF])
    client.force_login(jumin)
    form = client.get(reverse("join:code", args=[raw])).content.decode()
    assert 'name="phone"' not in form and 'name="password"' not in form
    response = client.post(reverse("join:code", args=[raw]), {
        "code": raw, "name": tree.resident_a.name, "id_last4": last4(tree.resident_a)})
    assert response.status_code == 302 and response["Location"] == reverse("orgs:mine")
    tree.resident_a.refresh_from_db()
    assert tree.resident_a.user == jumin and User.objects.filter(username="jumin").count() == 1
    assert RoleAssignment.objects.filter(user=jumin, role=Role.RESIDENT, is_active=True,
                                         org_path=tree.household_a2.org_path).exists()


def test_a_party_member_joins_with_a_code_from_the_branch(tree, client):
    member_resident = add_member(tree.household_a, name="党员甲", birth="19700101", male=True)
    member = PartyMember.objects.create(resident=member_resident, organization=tree.branch_a,
                                        assigned_node=tree.grid_a1, org_path=tree.grid_a1.path)
    secretary = tree.users[Role.PARTY_SECRETARY]
    with pytest.raises(PermissionDenied):
        actions.join_code_create(by=tree.users[Role.BUILDING_STEWARD], party_member=member, days=30)
    client.force_login(secretary)
    response = client.post(reverse("join:party", args=[member.pk]), {"days": 30})
    assert response.status_code == 302
    code = JoinCode.objects.get(party_member=member)
    client.logout()
    raw = code.reveal()
    ok = api_join(client, code=raw, name="党员甲", id_last4=last4(member_resident), phone="13712345660",
                  password=PASSWORD)
    assert ok.status_code == 201 and ok.json() == {"status": "active", "username": "13712345660"}
    member_resident.refresh_from_db()
    assert member_resident.user.username == "13712345660"
    assert PartyMember.objects.get(resident__user__username="13712345660") == member
    used = api_join(client, code=raw, name="党员甲", id_last4=last4(member_resident), phone="13712345661",
                    password=PASSWORD)
    assert used.status_code == 422 and "已使用" in text(used)


def test_a_party_member_code_does_not_link_another_member_of_the_household(tree, client):
    member_resident = add_member(tree.household_a, name="党员甲", birth="19700101", male=True)
    spouse = add_member(tree.household_a, name="家属乙", birth="19720101")
    member = PartyMember.objects.create(resident=member_resident, organization=tree.branch_a,
                                        assigned_node=tree.grid_a1, org_path=tree.grid_a1.path)
    _code, raw = actions.join_code_create(by=tree.users[Role.PARTY_SECRETARY], party_member=member, days=30)
    response = api_join(client, code=raw, name=spouse.name, id_last4=last4(spouse), phone="13712345662",
                        password=PASSWORD)
    assert response.json()["status"] == "pending"
    spouse.refresh_from_db()
    assert spouse.user is None


# --- the door notice, the counts ------------------------------------------------------------------------------------


def test_the_door_notice_and_its_qr_code(tree, client):
    code, raw = new_code(tree)
    client.force_login(tree.users[Role.GRID_WORKER])
    page = client.get(reverse("join:code_print", args=[code.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and actions.format_code(raw) in body and tree.household_a.address in body
    assert reverse("join:code_qr", args=[code.pk]) in body and "data:" not in body
    svg = client.get(reverse("join:code_qr", args=[code.pk]))
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml" and b'<svg xmlns="http://www.w3.org/2000/svg"' in svg.content
    client.force_login(tree.users[Role.SUBDISTRICT_STAFF])  # another subdistrict's worker? no: same area
    assert client.get(reverse("join:code_qr", args=[code.pk])).status_code == 200
    client.force_login(User.objects.get(username="bumen"))
    assert client.get(reverse("join:code_qr", args=[code.pk])).status_code == 404


def test_the_grid_workers_phone_page_and_menu_count_waiting_requests(tree, client):
    _pending(tree)  # in grid_a2: the community's staff see it, grid_a1's worker does not
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    assert "1" in client.get(reverse("join:badge")).content.decode()
    card = client.get(reverse("join:badge"), {"card": "1"}).content.decode()
    assert "1" in card and reverse("join:requests") in card
    page = client.get(reverse("orgs:mobile")).content.decode()
    assert reverse("join:badge") in page
    client.force_login(tree.users[Role.GRID_WORKER])
    assert client.get(reverse("join:badge")).content.decode().strip() == ""
    add_member(tree.household_a)
    _code, raw = new_code(tree)
    actions.join(request=rf(), code=raw, name="某人", id_last4="1234", phone="13712345670", password=PASSWORD)
    assert 'data-testid="join-badge">1<' in client.get(reverse("join:badge")).content.decode()


# --- phone verification by SMS (off by default) ------------------------------------------------------------------


class CapturingSms:
    sent: list = []

    def send(self, phone, text):
        from gongzhi.accounts.sms import SmsResult

        CapturingSms.sent.append((phone, text))
        return SmsResult(True)


def test_the_log_backend_sends_nothing_and_the_page_says_so(tree, client, settings, caplog):
    settings.JOIN_VERIFY_PHONE = True
    _code, raw = new_code(tree)
    url = reverse("join:code", args=[raw])
    response = client.post(url, {"code": raw, "phone": "13712345678", "send_code": "1"}, follow=True)
    body = response.content.decode()
    assert "不能发送短信" in body and "已通过短信发送" not in body
    assert "13712345678" in caplog.text  # the message went to the log only


def test_joining_needs_the_texted_code_where_phones_are_verified(tree, settings):
    from gongzhi.accounts import sms

    settings.JOIN_VERIFY_PHONE = True
    settings.GONGZHI_SMS_BACKEND = "tests.test_join.CapturingSms"
    sms._backend.cache_clear()
    CapturingSms.sent.clear()
    spouse = add_member(tree.household_a)
    _code, raw = new_code(tree)
    person = dict(code=raw, name=spouse.name, id_last4=last4(spouse), phone="13712345678", password=PASSWORD)
    assert actions.phone_check_send(request=rf(), phone="13712345678").delivered
    texted = CapturingSms.sent[-1][1]
    code = next(w for w in texted.replace("，", " ").replace("。", " ").split() if w.isdigit() and len(w) == 6)
    before = written()
    with pytest.raises(ValidationError):
        actions.join(request=rf(), sms_code="000000" if code != "000000" else "111111", **person)
    with pytest.raises(ValidationError):
        actions.join(request=rf(), **person)  # no code at all
    assert written() == before
    assert PhoneCheck.objects.get().tries == 2  # wrong codes are counted: 5 and the code is spent
    assert actions.join(request=rf(), sms_code=code, **person).status == "active"
    sms._backend.cache_clear()
