"""Service orders (群众点单、党支部派单、党员接单、群众评单): each step by whom the rules allow, refused otherwise
with the reason and nothing written; the taker learns the name and address only once it is theirs; the API; the
take race; the figures."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from gongzhi.core.access import SYSTEM, Role
from gongzhi.core.models import AuditEvent
from gongzhi.orgs import actions as org_actions
from gongzhi.orgs.models import PartyMember
from gongzhi.participation import actions, selectors
from gongzhi.participation.models import OrderEvent, OrderStatus, ServiceOrder
from gongzhi.participation.policies import StepRefused

from .factories import make_id, make_user

API = "/api/v1"


def _member(tree, name, household, node, username):
    resident = org_actions.resident_create(household=household, name=name, id_number=make_id("19800101"),
                                           relation="other", by=SYSTEM)
    resident.user = make_user(username, Role.RESIDENT, node)
    resident.save(update_fields=["user"])
    PartyMember.objects.create(resident=resident, organization=tree.branch_a, assigned_node=node, org_path=node.path)
    return resident.user


@pytest.fixture
def members(tree):
    return {"a": _member(tree, "党员甲", tree.household_a2, tree.grid_a2, "dangyuan_a"),
            "a2": _member(tree, "党员乙", tree.household_a2, tree.grid_a2, "dangyuan_b"),
            "b": _member(tree, "党员丙", tree.household_b, tree.grid_b1, "dangyuan_c")}


@pytest.fixture
def haircut(tree):
    return actions.service_item_save(by=tree.users[Role.COMMUNITY_STAFF], community=tree.comm_a, name="老人理发")


def place(tree, item, **kw):
    start = timezone.now() + dt.timedelta(hours=2)
    args = dict(by=tree.users[Role.RESIDENT], resident=tree.resident_a, item=item, window_start=start,
                window_end=start + dt.timedelta(hours=3), note="行动不便，请上门")
    args.update(kw)
    return actions.order_place(**args)


def unchanged(fn, order, exc_type=(PermissionDenied, ValidationError), contains=""):
    before = (ServiceOrder.objects.filter(pk=order.pk).values().first(), OrderEvent.objects.count(),
              AuditEvent.objects.count())
    with pytest.raises(exc_type) as info:
        fn()
    assert before == (ServiceOrder.objects.filter(pk=order.pk).values().first(), OrderEvent.objects.count(),
                      AuditEvent.objects.count()), "nothing is written"
    assert contains in " ".join(getattr(info.value, "messages", [str(info.value)]))


def test_order_dispatch_take_complete_rate(tree, members, haircut):
    secretary = tree.users[Role.PARTY_SECRETARY]  # the branch of 第一网格
    order = place(tree, haircut)
    assert order.status == OrderStatus.ORDERED and order.dispatch_due > order.ordered_at
    order = actions.order_dispatch(order=order, by=secretary, to=members["a"])
    assert (order.status, order.assignee, order.taker_name) == (OrderStatus.DISPATCHED, members["a"], "dangyuan_a")
    order = actions.order_take(order=order, by=members["a"])
    order = actions.order_complete(order=order, by=members["a"], evidence="上门理发，老人满意", hours="1.5")
    assert (order.status, str(order.hours)) == (OrderStatus.COMPLETED, "1.5")
    order = actions.order_rate(order=order, by=tree.users[Role.RESIDENT], satisfied=True, comment="手艺好")
    assert (order.status, order.satisfied) == (OrderStatus.RATED, True)
    kinds = list(OrderEvent.objects.filter(order=order).values_list("kind", flat=True))
    assert kinds == ["order", "dispatch", "take", "complete", "rate"]
    assert AuditEvent.objects.filter(object_type="participation.serviceorder", object_id=str(order.pk)).count() == 5


def test_a_bad_rating_goes_back_to_the_branch(tree, members, haircut):
    order = actions.order_open(order=place(tree, haircut), by=tree.users[Role.COMMUNITY_STAFF])
    order = actions.order_take(order=order, by=members["a2"])
    order = actions.order_complete(order=order, by=members["a2"], evidence="已上门", hours=1)
    unchanged(lambda: actions.order_rate(order=order, by=tree.users[Role.RESIDENT], satisfied=False), order,
              contains="")
    order = actions.order_rate(order=order, by=tree.users[Role.RESIDENT], satisfied=False, comment="没有剪好")
    assert (order.status, order.return_count) == (OrderStatus.RETURNED, 1)
    assert actions.order_dispatch(order=order, by=tree.users[Role.COMMUNITY_STAFF], to=members["a"]).status == "dispatched"


def test_refusals(tree, members, haircut):
    resident, worker = tree.users[Role.RESIDENT], tree.users[Role.GRID_WORKER]
    order = place(tree, haircut)
    unchanged(lambda: actions.order_dispatch(order=order, by=worker, to=members["a"]), order)  # places, no dispatch
    unchanged(lambda: actions.order_dispatch(order=order, by=tree.users[Role.COMMUNITY_STAFF], to=members["b"]),
              order, contains="党员")  # another community's member
    unchanged(lambda: actions.order_take(order=order, by=members["a"]), order, exc_type=StepRefused)  # not open yet
    unchanged(lambda: actions.order_rate(order=order, by=resident, satisfied=True), order, exc_type=StepRefused)
    order = actions.order_open(order=order, by=tree.users[Role.COMMUNITY_STAFF])
    unchanged(lambda: actions.order_take(order=order, by=members["b"]), order)  # not their community
    order = actions.order_take(order=order, by=members["a"])
    unchanged(lambda: actions.order_take(order=order, by=members["a2"]), order, exc_type=StepRefused,
              contains="dangyuan_a")
    unchanged(lambda: actions.order_complete(order=order, by=members["a"], evidence="做了", hours=25), order)
    unchanged(lambda: actions.order_complete(order=order, by=members["a"], evidence="做了", hours=0), order)
    unchanged(lambda: actions.order_complete(order=order, by=members["a"], evidence=" ", hours=1), order)
    unchanged(lambda: actions.order_complete(order=order, by=members["a2"], evidence="做了", hours=1), order)
    order = actions.order_complete(order=order, by=members["a"], evidence="做了", hours=1)
    order = actions.order_rate(order=order, by=resident, satisfied=True)
    unchanged(lambda: actions.order_rate(order=order, by=resident, satisfied=True), order, exc_type=StepRefused)
    past = timezone.now() - dt.timedelta(days=1)
    with pytest.raises(ValidationError):
        place(tree, haircut, window_start=past - dt.timedelta(hours=2), window_end=past)
    with pytest.raises(ValidationError):
        place(tree, haircut, window_start=timezone.now() + dt.timedelta(hours=5),
              window_end=timezone.now() + dt.timedelta(hours=1))
    other = actions.service_item_save(by=SYSTEM, community=tree.comm_b, name="理发")
    with pytest.raises(ValidationError):
        place(tree, other)  # another community's list
    assert ServiceOrder.objects.count() == 1


def test_nobody_takes_their_own_order(tree, members, haircut):
    own = PartyMember.objects.get(resident__user=members["a"]).resident
    order = place(tree, haircut, by=members["a"], resident=own)
    order = actions.order_open(order=order, by=tree.users[Role.COMMUNITY_STAFF])
    unchanged(lambda: actions.order_take(order=order, by=members["a"]), order, contains="自己")
    assert order not in selectors.open_orders(members["a"]) and order in selectors.open_orders(members["a2"])


def test_the_taker_sees_the_address_only_once_it_is_theirs(client, tree, members, haircut):
    order = actions.order_open(order=place(tree, haircut), by=tree.users[Role.COMMUNITY_STAFF])
    client.force_login(members["a"])
    home = client.get(reverse("participation:m_home")).content.decode()
    address = tree.resident_a.household.address
    assert "老人理发" in home and address not in home and tree.resident_a.name not in home
    page = client.get(reverse("participation:order", args=[order.pk])).content.decode()
    assert address not in page and order.public_name in page
    client.post(reverse("participation:order_step", args=[order.pk, "take"]), {"back": "m"})
    page = client.get(reverse("participation:order", args=[order.pk])).content.decode()
    assert address in page and tree.resident_a.name in page
    client.force_login(members["a2"])  # taken: no longer theirs to see
    assert client.get(reverse("participation:order", args=[order.pk])).status_code == 404


def test_the_api(client, tree, members, haircut):
    client.force_login(tree.users[Role.RESIDENT])
    items = client.get(f"{API}/service-items").json()["items"]
    assert [i["name"] for i in items] == ["老人理发"]
    start = timezone.now() + dt.timedelta(hours=2)
    r = client.post(f"{API}/service-orders", {"item_id": haircut.pk, "window_start": start.isoformat(),
                                              "window_end": (start + dt.timedelta(hours=2)).isoformat()},
                    content_type="application/json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    client.force_login(tree.users[Role.PARTY_SECRETARY])
    r = client.post(f"{API}/service-orders/{pk}/dispatch", {"to_user_id": members["a"].pk},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["taken_by"] == "dangyuan_a"
    client.force_login(members["a2"])
    assert client.post(f"{API}/service-orders/{pk}/take", content_type="application/json").status_code == 404
    client.force_login(members["a"])
    assert client.post(f"{API}/service-orders/{pk}/take", content_type="application/json").status_code == 200
    r = client.post(f"{API}/service-orders/{pk}/complete", {"evidence": "已理发", "hours": 30},
                    content_type="application/json")
    assert r.status_code == 422
    r = client.post(f"{API}/service-orders/{pk}/complete", {"evidence": "已理发", "hours": 1},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "completed"
    client.force_login(tree.users[Role.RESIDENT])
    r = client.post(f"{API}/service-orders/{pk}/rate", {"satisfied": True}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "rated"
    r = client.post(f"{API}/service-orders/{pk}/rate", {"satisfied": True}, content_type="application/json")
    assert r.status_code == 409


def test_figures(tree, members, haircut):
    for satisfied in (True, True, False):
        order = actions.order_open(order=place(tree, haircut), by=SYSTEM)
        order = actions.order_take(order=order, by=members["a"])
        order = actions.order_complete(order=order, by=members["a"], evidence="做了", hours=2)
        actions.order_rate(order=order, by=SYSTEM, satisfied=satisfied, comment="" if satisfied else "不好")
    place(tree, haircut)
    today = timezone.localdate()
    figures = selectors.order_figures(tree.county, today, today)
    assert figures == {"orders": 4, "rated": 3, "satisfied": 2, "satisfaction_rate": round(2 / 3, 4), "hours": 4.0}


@pytest.mark.django_db(transaction=True)
def test_twenty_takers_at_once_one_wins(tree, haircut):
    order = actions.order_open(order=place(tree, haircut), by=SYSTEM)
    users = [_member(tree, f"党员{i}", tree.household_a2, tree.grid_a1, f"dy{i}") for i in range(20)]
    won, refused, errors = [], [], []
    start = threading.Barrier(len(users))

    def take(user):
        try:
            start.wait()
            actions.order_take(order=ServiceOrder.objects.get(pk=order.pk), by=user)
            won.append(user.username)
        except StepRefused as exc:
            refused.append(exc.messages[0])
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(won) == 1 and len(refused) == 19
    assert all(won[0] in message for message in refused)
