"""Party members at work: 双报到 from the phone, confirmed by the community's party organisation with a micro-grid
(下沉) or declined; the member's page shows the households they look after (names and masked phones only), their
hours and their branch's ranking; the participation rate."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from gongzhi.core.access import SYSTEM, Role
from gongzhi.orgs import actions as org_actions
from gongzhi.orgs.models import PartyMember
from gongzhi.participation import actions, selectors
from gongzhi.participation.models import DualRegistration, DualStatus
from gongzhi.participation.policies import StepRefused

from .factories import make_id, make_user


@pytest.fixture
def member(tree):
    resident = org_actions.resident_create(household=tree.household_a2, name="在职党员", id_number=make_id("19850101"),
                                           relation="other", by=SYSTEM)
    resident.user = make_user("zaizhi", Role.RESIDENT, tree.grid_a2)
    resident.save(update_fields=["user"])
    return PartyMember.objects.create(resident=resident, organization=tree.branch_a, assigned_node=tree.grid_a2,
                                      org_path=tree.grid_a2.path, in_service=True, work_unit="县财政局")


def test_report_confirm_and_assign(client, tree, member):
    user = member.resident.user
    client.force_login(user)
    page = client.get(reverse("participation:m_home")).content.decode()
    assert 'data-testid="dual-form"' in page
    client.post(reverse("participation:dual_register"), {"skills": "水电维修", "availability": "周末"})
    registration = DualRegistration.objects.get()
    assert (registration.community, registration.status, registration.skills) == (tree.comm_a, DualStatus.PENDING, "水电维修")
    with pytest.raises(StepRefused):
        actions.dual_register(by=user, member=member)
    staff = tree.users[Role.COMMUNITY_STAFF]
    client.force_login(staff)
    listed = client.get(reverse("participation:dual")).content.decode()
    assert "在职党员" in listed and "县财政局" in listed
    client.post(reverse("participation:dual_decide", args=[registration.pk, "confirm"]), {"micro_grid": tree.micro_a1.pk})
    registration.refresh_from_db()
    member.refresh_from_db()
    assert registration.status == DualStatus.CONFIRMED and registration.micro_grid == tree.micro_a1
    assert (member.dual_registered, member.assigned_node, member.dual_registered_on) == (
        True, tree.micro_a1, timezone.localdate())
    client.force_login(user)
    page = client.get(reverse("participation:m_home")).content.decode()
    assert 'data-testid="dual-status"' in page and tree.micro_a1.name in page
    households = page.split('data-testid="my-households"')[1]
    assert tree.household_a.address in households
    assert tree.resident_a.phone_masked in households if tree.resident_a.phone_masked else True
    assert tree.resident_a.id_number_masked not in households


def test_only_the_communitys_party_organisation_decides(client, tree, member):
    registration = actions.dual_register(by=member.resident.user, member=member)
    for user in (tree.users[Role.GRID_WORKER], member.resident.user):
        with pytest.raises(PermissionDenied):
            actions.dual_confirm(by=user, registration=registration, micro_grid=tree.micro_a1)
    with pytest.raises(ValidationError):  # a grid of another community
        actions.dual_confirm(by=tree.users[Role.COMMUNITY_STAFF], registration=registration, micro_grid=tree.grid_b1)
    client.force_login(tree.users[Role.GRID_WORKER])
    assert client.get(reverse("participation:dual")).status_code == 403
    assert DualRegistration.objects.get().status == DualStatus.PENDING
    with pytest.raises(ValidationError):
        actions.dual_decline(by=tree.users[Role.COMMUNITY_STAFF], registration=registration, reason="")
    actions.dual_decline(by=tree.users[Role.COMMUNITY_STAFF], registration=registration, reason="不在本社区居住")
    with pytest.raises(StepRefused):
        actions.dual_confirm(by=tree.users[Role.COMMUNITY_STAFF], registration=registration, micro_grid=tree.micro_a1)
    registration = actions.dual_register(by=member.resident.user, member=member)  # may report again
    assert registration.status == DualStatus.PENDING


def test_hours_ranking_and_participation_rate(tree, member):
    user = member.resident.user
    item = actions.service_item_save(by=SYSTEM, community=tree.comm_a, name="家电小修")
    registration = actions.dual_register(by=user, member=member)
    actions.dual_confirm(by=SYSTEM, registration=registration, micro_grid=tree.grid_a2)
    today = timezone.localdate()
    assert selectors.party_participation(tree.comm_a, today) == {"registered": 1, "active": 0, "rate": 0.0}
    for hours, satisfied in ((2, True), (1.5, True), (3, False)):
        start = timezone.now() + dt.timedelta(hours=1)
        order = actions.order_place(by=tree.users[Role.RESIDENT], resident=tree.resident_a, item=item,
                                    window_start=start, window_end=start + dt.timedelta(hours=2))
        order = actions.order_dispatch(order=order, by=SYSTEM, to=user)
        order = actions.order_take(order=order, by=user)
        order = actions.order_complete(order=order, by=user, evidence="修好了", hours=hours)
        actions.order_rate(order=order, by=SYSTEM, satisfied=satisfied, comment="" if satisfied else "没修好")
    assert selectors.hours_of(user, today) == {"month": 3.5, "total": 3.5}
    ranking = selectors.branch_ranking(member, today)
    assert ranking == [{"name": "在职党员", "hours": 3.5, "orders": 2, "me": True}]
    assert selectors.party_participation(tree.comm_a, today) == {"registered": 1, "active": 1, "rate": 1.0}
    assert selectors.party_participation(tree.comm_b, today)["rate"] is None


def test_the_participation_figures_api(client, tree, member):
    """GET /api/v1/metrics/participation: the figures docs/metrics.md defines, scoped, with bounded periods."""
    user = member.resident.user
    item = actions.service_item_save(by=SYSTEM, community=tree.comm_a, name="家电小修")
    registration = actions.dual_register(by=user, member=member)
    actions.dual_confirm(by=SYSTEM, registration=registration, micro_grid=tree.grid_a2)
    start = timezone.now() + dt.timedelta(hours=1)
    order = actions.order_place(by=tree.users[Role.RESIDENT], resident=tree.resident_a, item=item,
                                window_start=start, window_end=start + dt.timedelta(hours=2))
    order = actions.order_take(order=actions.order_open(order=order, by=SYSTEM), by=user)
    actions.order_rate(order=actions.order_complete(order=order, by=user, evidence="修好了", hours=2), by=SYSTEM,
                       satisfied=True)
    wish = actions.wish_collect(by=SYSTEM, resident=tree.resident_a, title="一个书包")
    actions.wish_publish(wish=actions.wish_verify(wish=wish, by=SYSTEM), by=SYSTEM)
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    body = client.get("/api/v1/metrics/participation").json()
    assert body["node_id"] == tree.comm_a.pk
    figures = body["figures"]
    assert (figures["orders"], figures["orders_satisfaction_rate"], figures["volunteer_hours"]) == (1, 1.0, 2.0)
    assert (figures["wishes_published"], figures["wishes_claim_rate"]) == (1, 0.0)
    assert (figures["party_members_registered"], figures["party_member_participation_rate"]) == (1, 1.0)
    assert client.get("/api/v1/metrics/participation", {"node": tree.comm_b.pk}).status_code == 404
    assert client.get("/api/v1/metrics/participation", {"from": "2026-01-01", "to": "2025-01-01"}).status_code == 422
    assert client.get("/api/v1/metrics/participation", {"from": "2020-01-01", "to": "2026-01-01"}).status_code == 422
    client.force_login(tree.users[Role.RESIDENT])
    assert client.get("/api/v1/metrics/participation").status_code == 403
