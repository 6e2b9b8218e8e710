"""Micro-wishes (微心愿): taken down, verified, published on the wall, claimed by one claimant, fulfilled and
thanked, each step by whom the rules allow and refused otherwise with the reason and nothing written; who sees
what (the wall shows the surname only); the API; the claim race."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from gongzhi.core.access import SYSTEM, Role
from gongzhi.core.models import AuditEvent
from gongzhi.orgs import actions as org_actions
from gongzhi.orgs.models import PartyMember
from gongzhi.participation import actions, selectors
from gongzhi.participation.models import Wish, WishEvent, WishStatus
from gongzhi.participation.policies import StepRefused

from .factories import make_id, make_user

API = "/api/v1"


@pytest.fixture
def members(tree):
    """Two party members living in 城东社区 with accounts, and one in 文明社区."""
    def member(name, household, node, username):
        resident = org_actions.resident_create(household=household, name=name, id_number=make_id("19800101"),
                                               relation="other", by=SYSTEM)
        resident.user = make_user(username, Role.RESIDENT, node)
        resident.save(update_fields=["user"])
        PartyMember.objects.create(resident=resident, organization=tree.branch_a, assigned_node=node, org_path=node.path)
        return resident.user
    return {
        "a": member("党员甲", tree.household_a2, tree.grid_a2, "dangyuan_a"),
        "a2": member("党员乙", tree.household_a2, tree.grid_a2, "dangyuan_b"),
        "b": member("党员丙", tree.household_b, tree.grid_b1, "dangyuan_c"),
    }


def collect(tree, **kw):
    args = dict(by=tree.users[Role.GRID_WORKER], resident=tree.resident_a, title="一个新书包", description="孩子上学用")
    args.update(kw)
    return actions.wish_collect(**args)


def published(tree):
    staff = tree.users[Role.COMMUNITY_STAFF]
    wish = collect(tree)
    actions.wish_verify(wish=wish, by=staff)
    return actions.wish_publish(wish=wish, by=staff)


def test_a_wish_from_visit_to_thanks(tree, members):
    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    wish = collect(tree)
    assert (wish.status, wish.public_name, wish.community, wish.collected_by) == (
        WishStatus.COLLECTED, "张**", tree.comm_a, worker)
    assert wish.node == tree.resident_a.household.micro_grid or wish.node == tree.resident_a.household.grid
    wish = actions.wish_verify(wish=wish, by=staff, note="入户核实")
    wish = actions.wish_publish(wish=wish, by=staff)
    assert list(selectors.wall(members["a"])) == [wish]
    wish = actions.wish_claim(wish=wish, by=members["a"])
    assert (wish.status, wish.claimed_by, wish.claimant_name) == (WishStatus.CLAIMED, members["a"], "dangyuan_a")
    wish = actions.wish_fulfil(wish=wish, by=members["a"], note="书包已送到")
    wish = actions.wish_thank(wish=wish, by=tree.users[Role.RESIDENT], note="谢谢")
    assert (wish.status, wish.thanks_note) == (WishStatus.FULFILLED, "谢谢")
    steps = list(WishEvent.objects.filter(wish=wish).values_list("kind", "from_status", "to_status"))
    assert steps == [("collect", "", "collected"), ("verify", "collected", "verified"),
                     ("publish", "verified", "published"), ("claim", "published", "claimed"),
                     ("fulfil", "claimed", "fulfilled"), ("thank", "fulfilled", "fulfilled")]
    audited = list(AuditEvent.objects.filter(object_id=str(wish.pk), object_type="participation.wish")
                   .values_list("action", flat=True).order_by("id"))
    assert audited == ["wish.collect", "wish.verify", "wish.publish", "wish.claim", "wish.fulfil", "wish.thank"]


def _refused(exc_type, fn, wish, *, contains=""):
    before = (Wish.objects.filter(pk=wish.pk).values().first(), WishEvent.objects.count(), AuditEvent.objects.count())
    with pytest.raises(exc_type) as info:
        fn()
    after = (Wish.objects.filter(pk=wish.pk).values().first(), WishEvent.objects.count(), AuditEvent.objects.count())
    assert before == after, "nothing is written"
    assert contains in " ".join(getattr(info.value, "messages", [str(info.value)]))


def test_refusals_say_why_and_write_nothing(tree, members):
    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    wish = collect(tree)
    _refused(PermissionDenied, lambda: actions.wish_verify(wish=wish, by=worker), wish)  # collects, does not verify
    _refused(StepRefused, lambda: actions.wish_publish(wish=wish, by=staff), wish, contains="已采集")
    _refused(StepRefused, lambda: actions.wish_claim(wish=wish, by=members["a"]), wish)  # not on the wall yet
    actions.wish_verify(wish=wish, by=staff)
    wish = actions.wish_publish(wish=wish, by=staff)
    _refused(PermissionDenied, lambda: actions.wish_claim(wish=wish, by=members["b"]), wish, contains="党员")
    _refused(PermissionDenied, lambda: actions.wish_claim(wish=wish, by=tree.users[Role.RESIDENT]), wish)
    wish = actions.wish_claim(wish=wish, by=members["a"])
    _refused(StepRefused, lambda: actions.wish_claim(wish=wish, by=members["a2"]), wish, contains="dangyuan_a")
    _refused(PermissionDenied, lambda: actions.wish_fulfil(wish=wish, by=members["a2"], note="我做的"), wish)
    from django.core.exceptions import ValidationError
    _refused(ValidationError, lambda: actions.wish_fulfil(wish=wish, by=members["a"], note="  "), wish)
    _refused(ValidationError, lambda: actions.wish_reject(wish=wish, by=staff, reason=""), wish)
    wish = actions.wish_fulfil(wish=wish, by=members["a"], note="已送达")
    actions.wish_thank(wish=wish, by=tree.users[Role.RESIDENT], note="谢谢")
    _refused(StepRefused, lambda: actions.wish_thank(wish=wish, by=tree.users[Role.RESIDENT], note="再谢"), wish)


def test_nobody_claims_their_own_wish(tree, members):
    """A party member's own wish is on the wall of their community, but they may not claim it."""
    own = PartyMember.objects.get(resident__user=members["a"]).resident
    staff = tree.users[Role.COMMUNITY_STAFF]
    wish = collect(tree, resident=own, by=members["a"])  # made online by themselves
    assert wish.channel == "online"
    actions.wish_verify(wish=wish, by=staff)
    wish = actions.wish_publish(wish=wish, by=staff)
    _refused(PermissionDenied, lambda: actions.wish_claim(wish=wish, by=members["a"]), wish, contains="自己")


def test_a_released_wish_goes_back_on_the_wall_and_staff_record_offline_claims(tree, members):
    staff = tree.users[Role.COMMUNITY_STAFF]
    wish = actions.wish_claim(wish=published(tree), by=members["a"])
    wish = actions.wish_release(wish=wish, by=members["a"], reason="临时出差")
    assert (wish.status, wish.claimed_by, wish.claimant_name) == (WishStatus.PUBLISHED, None, "")
    _refused(PermissionDenied, lambda: actions.wish_claim(wish=wish, by=members["a"], for_name="老李"), wish)
    wish = actions.wish_claim(wish=wish, by=staff, for_name="退休教师李老师")
    assert (wish.status, wish.claimant_name, wish.claimed_by) == (WishStatus.CLAIMED, "退休教师李老师", None)
    assert WishEvent.objects.filter(wish=wish, kind="claim").last().actor == staff


def test_partner_units_claim_for_their_unit(tree):
    contact = tree.users[Role.PARTNER_CONTACT]  # 县供电公司 serves 城东社区
    wish = actions.wish_claim(wish=published(tree), by=contact, unit=tree.partner)
    assert (wish.claimant_name, wish.claimed_unit) == ("县供电公司", tree.partner)


# --- who sees what ----------------------------------------------------------------------------------------------

# role -> (staff list shows the wish, its page answers, the wisher's name shown whole); the wish is in 城东社区
SEES = {
    Role.COUNTY_ADMIN: (True, 200, True),
    Role.SUBDISTRICT_STAFF: (True, 200, True),
    Role.COMMUNITY_STAFF: (True, 200, True),
    Role.GRID_WORKER: (True, 200, True),
    Role.PARTY_SECRETARY: (True, 200, True),
    Role.BUILDING_STEWARD: (False, 404, False),
    Role.DEPARTMENT_HANDLER: (False, 404, False),
    Role.PARTNER_CONTACT: (False, 200, False),  # on the wall of a community its unit serves
    Role.RESIDENT: (False, 200, True),  # their own
}


@pytest.mark.parametrize("role", list(SEES))
def test_who_sees_a_published_wish(client, tree, role):
    wish = published(tree)
    listed, status, whole = SEES[role]
    client.force_login(tree.users[role])
    body = client.get(reverse("participation:wishes")).content.decode() if listed else ""
    assert (wish.title in body) == listed
    response = client.get(reverse("participation:wish", args=[wish.pk]))
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert (tree.resident_a.name in page) == whole
        assert whole or "张**" in page


def test_out_of_scope_answers_like_missing(client, tree, members):
    wish = published(tree)
    for user in (members["b"], tree.users[Role.BUILDING_STEWARD]):
        client.force_login(user)
        missing = client.get(reverse("participation:wish", args=[999999]))
        there = client.get(reverse("participation:wish", args=[wish.pk]))
        assert missing.status_code == there.status_code == 404 and missing.content == there.content
        assert client.post(reverse("participation:wish_step", args=[wish.pk, "claim"])).status_code == 404
    assert Wish.objects.get(pk=wish.pk).status == WishStatus.PUBLISHED


def test_the_wall_on_the_phone_shows_the_surname_and_claims(client, tree, members):
    wish = published(tree)
    client.force_login(members["a"])
    page = client.get(reverse("participation:m_home")).content.decode()
    assert wish.title in page and "张**" in page and "张三" not in page and tree.resident_a.household.address not in page
    response = client.post(reverse("participation:wish_step", args=[wish.pk, "claim"]), {"back": "m"})
    assert response.status_code == 302 and response["Location"] == reverse("participation:m_home")
    assert Wish.objects.get(pk=wish.pk).claimed_by == members["a"]
    page = client.get(reverse("participation:m_home")).content.decode()
    assert 'data-testid="my-claims"' in page and wish.title in page.split('data-testid="my-claims"')[1]


def test_a_resident_makes_a_wish_on_the_phone(client, tree):
    client.force_login(tree.users[Role.RESIDENT])
    response = client.post(reverse("participation:m_wish_new"), {"title": "想要一副老花镜", "kind": "goods"})
    assert response.status_code == 302
    wish = Wish.objects.get()
    assert (wish.resident, wish.channel, wish.status) == (tree.resident_a, "online", WishStatus.COLLECTED)
    assert client.post(reverse("participation:m_wish_new"), {"title": "", "kind": "goods"}).status_code == 200
    assert Wish.objects.count() == 1


# --- API ----------------------------------------------------------------------------------------------------------


def test_the_api(client, tree, members):
    staff = tree.users[Role.COMMUNITY_STAFF]
    client.force_login(staff)
    r = client.post(f"{API}/wishes", {"title": "一台轮椅", "kind": "goods", "resident_id": tree.resident_a.pk},
                    content_type="application/json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert r.json()["wisher"] == tree.resident_a.name and set(r.json()["allowed"]) == {"verify", "reject"}
    for step in ("verify", "publish"):
        assert client.post(f"{API}/wishes/{pk}/{step}", {}, content_type="application/json").status_code == 200
    client.force_login(members["a"])
    items = client.get(f"{API}/wishes", {"status": "published"}).json()["items"]
    assert [(i["id"], i["wisher"], i["allowed"]) for i in items] == [(pk, "张**", ["claim"])]
    r = client.post(f"{API}/wishes/{pk}/claim", content_type="application/json")
    assert r.status_code == 200 and r.json()["claimed_by"] == "dangyuan_a"
    client.force_login(members["a2"])
    r = client.post(f"{API}/wishes/{pk}/claim", content_type="application/json")
    assert r.status_code == 409 and "dangyuan_a" in r.json()["detail"]
    client.force_login(members["b"])
    assert client.post(f"{API}/wishes/{pk}/claim", content_type="application/json").status_code == 404
    client.force_login(members["a"])
    r = client.post(f"{API}/wishes/{pk}/fulfil", {"note": "已送到"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "fulfilled"
    assert client.post(f"{API}/wishes/{pk}/fly", content_type="application/json").status_code == 422
    assert client.get(f"{API}/wishes/99999999").status_code == 404


def test_figures(tree, members):
    staff = tree.users[Role.COMMUNITY_STAFF]
    wishes = [published(tree) for _ in range(3)]
    collect(tree)
    actions.wish_claim(wish=wishes[0], by=members["a"])
    Wish.objects.filter(pk=wishes[0].pk).update(published_at=timezone.now() - dt.timedelta(days=3))
    actions.wish_reject(wish=wishes[2], by=staff, reason="已由民政解决")
    today = timezone.localdate()
    figures = selectors.figures(tree.county, today - dt.timedelta(days=1), today)
    assert figures["collected"] == 4 and figures["published"] == 3 and figures["claimed"] == 1
    assert figures["claim_rate"] == round(1 / 3, 4) and figures["days_to_claim"] == pytest.approx(3, abs=0.1)
    assert selectors.figures(tree.comm_b, today, today)["claim_rate"] is None


# --- the claim race ---------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_claimants_at_once_one_wins(tree):
    """On PostgreSQL the claims wait on the wish's row lock; on SQLite on the database's one writer."""
    wish = published(tree)
    users = []
    for i in range(20):
        user = make_user(f"dy{i}", Role.RESIDENT, tree.grid_a1)
        resident = org_actions.resident_create(household=tree.household_a2, name=f"党员{i}", id_number=make_id("19800101"),
                                               relation="other", by=SYSTEM)
        resident.user = user
        resident.save(update_fields=["user"])
        PartyMember.objects.create(resident=resident, organization=tree.branch_a, assigned_node=tree.grid_a1,
                                   org_path=tree.grid_a1.path)
        users.append(user)
    won, refused, errors = [], [], []
    start = threading.Barrier(len(users))

    def claim(user):
        try:
            start.wait()
            actions.wish_claim(wish=Wish.objects.get(pk=wish.pk), by=user)
            won.append(user.username)
        except StepRefused as exc:
            refused.append(exc.messages[0])
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(won) == 1 and len(refused) == 19
    assert all(won[0] in message for message in refused)
    assert WishEvent.objects.filter(wish=wish, kind="claim").count() == 1
