"""Participation on a phone: the party member's page (their party work, the open orders and wishes of their
community), taking an order and claiming a wish with a tap, doing the order; the resident ordering a service and
rating it. Screenshots land in test-artifacts/screens/."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from gongzhi.core.access import SYSTEM, Role
from gongzhi.orgs import actions as org_actions
from gongzhi.orgs.models import PartyMember
from gongzhi.participation import actions
from gongzhi.participation.models import OrderStatus, ServiceOrder, Wish, WishStatus

from ..factories import make_id, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def member(tree):
    resident = org_actions.resident_create(household=tree.household_a2, name="在职党员", id_number=make_id("19850101"),
                                           relation="other", by=SYSTEM)
    resident.user = make_user("zaizhi", Role.RESIDENT, tree.grid_a2)
    resident.save(update_fields=["user"])
    member = PartyMember.objects.create(resident=resident, organization=tree.branch_a, assigned_node=tree.grid_a2,
                                        org_path=tree.grid_a2.path, in_service=True, work_unit="县财政局")
    report = actions.dual_register(by=resident.user, member=member, skills="家电维修")
    actions.dual_confirm(by=SYSTEM, registration=report, micro_grid=tree.micro_a1)
    return member


def test_a_party_member_takes_an_order_and_claims_a_wish_and_the_resident_rates(tree, member, open_session):
    item = actions.service_item_save(by=SYSTEM, community=tree.comm_a, name="家电小修")
    wish = actions.wish_collect(by=SYSTEM, resident=tree.resident_a, title="一个新书包")
    actions.wish_publish(wish=actions.wish_verify(wish=wish, by=SYSTEM), by=SYSTEM)

    resident = open_session(tree.users[Role.RESIDENT].username, "phone")
    page = resident.goto("/participation/m/")
    page.locator("[data-testid=m-order-new]").tap()
    page.select_option("#id_item", str(item.pk))
    start = timezone.localtime() + dt.timedelta(days=1)
    page.fill("#id_window_start", start.strftime("%Y-%m-%dT09:00"))
    page.fill("#id_window_end", start.strftime("%Y-%m-%dT11:00"))
    page.fill("#id_note", "厨房灯不亮")
    assert resident.overflow() == 0
    with page.expect_navigation():
        page.locator("[data-testid=order-save]").tap()
    order = ServiceOrder.objects.get()
    assert (order.resident, order.status, order.note) == (tree.resident_a, OrderStatus.ORDERED, "厨房灯不亮")
    actions.order_open(order=order, by=tree.users[Role.PARTY_SECRETARY])

    s = open_session(member.resident.user.username, "phone")
    page = s.goto("/participation/m/")
    expect(page.locator("[data-testid=dual-status]")).to_contain_text(tree.micro_a1.name)
    expect(page.locator("[data-testid=open-orders]")).to_contain_text("家电小修")
    expect(page.locator("[data-testid=open-orders]")).not_to_contain_text(tree.resident_a.name)
    expect(page.locator("[data-testid=wish-wall]")).to_contain_text("一个新书包")
    assert s.overflow() == 0
    s.screenshot("participation-member-home")
    with page.expect_navigation():
        page.locator("[data-testid=open-orders] [data-testid=take]").tap()
    expect(page.locator("[data-testid=my-orders]")).to_contain_text("家电小修")
    with page.expect_navigation():
        page.locator("[data-testid=wish-wall] [data-testid=claim]").tap()
    expect(page.locator("[data-testid=my-claims]")).to_contain_text("一个新书包")
    assert Wish.objects.get(pk=wish.pk).status == WishStatus.CLAIMED
    page.locator("[data-testid=my-orders] a").first.tap()
    expect(page.locator("[data-testid=order-resident]")).to_contain_text(tree.household_a.address)  # now theirs
    page.fill("[data-step=complete] textarea", "换了灯泡")
    page.fill("[data-step=complete] input[name=hours]", "1")
    with page.expect_navigation():
        page.locator("[data-testid=order-complete]").tap()
    assert ServiceOrder.objects.get().status == OrderStatus.COMPLETED

    page = resident.goto(f"/participation/orders/{order.pk}/")
    page.locator("[data-step=rate] input[value='1']").check()
    with page.expect_navigation():
        page.locator("[data-testid=order-rate]").tap()
    order.refresh_from_db()
    assert (order.status, order.satisfied) == (OrderStatus.RATED, True)
    resident.screenshot("participation-rated")
    assert s.errors == [] and resident.errors == []
