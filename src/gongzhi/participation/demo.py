"""The demo part: micro-wishes in every state across the demo county's communities, six months of them, with
the demo party member (``dangyuan``) among the claimants. Made through the actions (as the system), then dated
back; once per database."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from gongzhi.core.access import SYSTEM
from gongzhi.core.pii import mask_name
from gongzhi.core.scoping import under
from gongzhi.orgs.demo import data
from gongzhi.orgs.models import NodeKind, OrgNode, PartyMember, Resident, UnitService

from . import actions
from .models import Wish, WishChannel, WishEvent, WishKind, WishStatus

WISHES = {
    WishKind.GOODS: ["一个新书包", "一台轮椅", "冬天的厚棉被", "一副老花镜", "一盏护眼台灯", "一双保暖棉鞋", "一套课外书",
                     "一个助行器", "一台收音机", "一件新羽绒服", "一套画笔和画本", "一个电饭煲"],
    WishKind.SERVICE: ["帮忙修理漏水的水龙头", "上门理发", "帮忙换厨房的灯泡", "辅导孩子数学作业", "帮忙疏通下水道",
                       "教我用智能手机视频通话"],
    WishKind.VISIT: ["有人陪我聊聊天", "过生日时有人来看看我", "陪我去医院复查", "周末有人陪孩子读书"],
    WishKind.OTHER: ["想学写毛笔字", "想参加一次社区合唱"],
}
# The share of wishes that end in each state (the rest are still waiting at an earlier step).
_FATES = [(WishStatus.COLLECTED, 8), (WishStatus.VERIFIED, 7), (WishStatus.PUBLISHED, 20), (WishStatus.CLAIMED, 20),
          (WishStatus.FULFILLED, 40), (WishStatus.REJECTED, 5)]
PER_COMMUNITY = 70  # the demo county has 6 communities: 420 wishes


def _county() -> OrgNode | None:
    return OrgNode.objects.filter(depth=1, kind=NodeKind.COUNTY, code=data.COUNTY["code"]).first()


def load_demo(*, seed: int, scale: float, say) -> None:
    from django.utils.translation import gettext as _

    county = _county()
    if county is None or Wish.objects.exists():
        return
    say(_("Loading micro-wishes and service orders…"))
    registered = generate_party_work(county, seed=seed)
    counts = generate(county, seed=seed, scale=scale)
    counts.update(generate_orders(county, seed=seed, scale=scale))
    counts["reports"] = registered
    say(_("Loaded %(wishes)s micro-wishes and %(orders)s service orders.") % counts)


@transaction.atomic
def generate(county: OrgNode, *, seed: int, scale: float) -> dict:
    rng = random.Random(seed + 13)
    now = timezone.now()
    member = PartyMember.objects.filter(resident__user__username="dangyuan").select_related("resident__user").first()
    dangyuan = member.resident.user if member is not None else None
    made = 0
    for community in OrgNode.objects.filter(under(county.path, "path"), kind=NodeKind.COMMUNITY).order_by("path"):
        residents = list(Resident.objects.filter(under(community.path)).values_list("id", flat=True)[:4000])
        if not residents:
            continue
        members = list(PartyMember.objects.filter(under(community.path)).values_list("resident__name", flat=True)[:200])
        partners = list(UnitService.objects.filter(node=community).values_list("unit__name", flat=True))
        claimants = members + partners or ["社区志愿者"]
        mine = dangyuan is not None and member.org_path.startswith(community.path)
        for _i in range(max(3, round(PER_COMMUNITY * scale))):
            resident = Resident.objects.select_related("household").get(pk=rng.choice(residents))
            kind = rng.choice(list(WISHES))
            wish = actions.wish_collect(by=SYSTEM, resident=resident, title=rng.choice(WISHES[kind]), kind=kind,
                                        channel=rng.choice(list(WishChannel.values)))
            fate = rng.choices([f for f, _w in _FATES], weights=[w for _f, w in _FATES])[0]
            _live(wish, fate, rng, claimant=dangyuan if mine and rng.random() < 0.5 else None,
                  claimant_name=rng.choice(claimants))
            _date_back(wish, now - dt.timedelta(days=rng.uniform(2, 180)), rng, now)
            made += 1
    return {"wishes": made}


def _live(wish: Wish, fate: str, rng: random.Random, *, claimant, claimant_name: str) -> None:
    if fate == WishStatus.COLLECTED:
        return
    if fate == WishStatus.REJECTED:
        actions.wish_reject(wish=wish, by=SYSTEM, reason="经核实已由民政救助解决")
        return
    actions.wish_verify(wish=wish, by=SYSTEM, note="入户核实属实")
    if fate == WishStatus.VERIFIED:
        return
    actions.wish_publish(wish=wish, by=SYSTEM)
    if fate == WishStatus.PUBLISHED:
        return
    if claimant is not None:
        actions.wish_claim(wish=wish, by=claimant)
    else:
        actions.wish_claim(wish=wish, by=SYSTEM, for_name=claimant_name)
    if fate == WishStatus.FULFILLED:
        wish.refresh_from_db()
        actions.wish_fulfil(wish=wish, by=claimant or SYSTEM, note="已送到家中，老人很高兴")
        if rng.random() < 0.5:
            actions.wish_thank(wish=wish, by=SYSTEM, note="谢谢你们，心里暖暖的")


def _date_back(wish: Wish, start: dt.datetime, rng: random.Random, now: dt.datetime) -> None:
    """Move the wish's times (and its timeline's) into the past, in order."""
    wish.refresh_from_db()
    at = {"collect": start}
    at["verify"] = at["reject"] = start + dt.timedelta(days=rng.uniform(0.2, 3))
    at["publish"] = at["verify"] + dt.timedelta(days=rng.uniform(0.1, 2))
    at["claim"] = at["publish"] + dt.timedelta(days=rng.uniform(0.05, 10))
    at["fulfil"] = at["claim"] + dt.timedelta(days=rng.uniform(0.5, 14))
    at["thank"] = at["fulfil"] + dt.timedelta(days=rng.uniform(0.1, 3))
    at = {k: min(v, now - dt.timedelta(minutes=5)) for k, v in at.items()}
    fields = {"collected_at": at["collect"]}
    for name, step in (("verified_at", "verify"), ("published_at", "publish"), ("claimed_at", "claim"),
                       ("fulfilled_at", "fulfil")):
        if getattr(wish, name) is not None:
            fields[name] = at[step]
    Wish.objects.filter(pk=wish.pk).update(**fields)
    for event in WishEvent.objects.filter(wish=wish):
        WishEvent.objects.filter(pk=event.pk).update(at=at.get(event.kind, start))


# --- service orders: a list per community, six months of orders, written in bulk ---------------------------------

SERVICES = [("老人理发", "每月第一个周六上门或在活动室"), ("代买代购", "为行动不便的老人代买米面油、药品"),
            ("家电小修", "更换灯泡、修理水龙头等小维修"), ("作业辅导", "周末辅导小学生作业"),
            ("陪同就医", "陪独居老人到医院复查"), ("聊天陪伴", "上门陪老人聊天、读报"),
            ("打扫卫生", "为高龄、残疾居民打扫房间"), ("代办证件", "帮忙代办社保、医保等证件")]
ORDERS_PER_COMMUNITY = 260  # 1,560 orders in six months
EVIDENCE = {"老人理发": "上门理发，老人很满意", "代买代购": "代买大米一袋、食用油一桶，已送到", "家电小修": "更换了厨房灯泡",
            "作业辅导": "辅导数学作业两小时", "陪同就医": "陪同到县医院复查，已送回家", "聊天陪伴": "陪老人聊天、读报",
            "打扫卫生": "打扫了客厅和厨房", "代办证件": "代办医保卡补办，材料已提交"}


def generate_orders(county: OrgNode, *, seed: int, scale: float) -> dict:
    from gongzhi.core import audit

    from .models import OrderEvent, OrderStatus, ServiceOrder

    rng = random.Random(seed + 29)
    now = timezone.now()
    member = PartyMember.objects.filter(resident__user__username="dangyuan").select_related("resident__user").first()
    orders, lives = [], []
    for community in OrgNode.objects.filter(under(county.path, "path"), kind=NodeKind.COMMUNITY).order_by("path"):
        items = [actions.service_item_save(by=SYSTEM, community=community, name=name, description=text)
                 for name, text in SERVICES]
        people = list(Resident.objects.filter(under(community.path)).select_related("household")
                      .only("id", "name", "org_path", "household__grid_id", "household__micro_grid_id")[:3000])
        if not people:
            continue
        names = list(PartyMember.objects.filter(under(community.path)).values_list("resident__name", flat=True)[:100])
        names = names or ["社区志愿者"]
        mine = member is not None and member.org_path.startswith(community.path)
        for _i in range(max(4, round(ORDERS_PER_COMMUNITY * scale))):
            resident = rng.choice(people)
            item = rng.choice(items)
            at = now - dt.timedelta(days=rng.uniform(0.2, 182))
            start = at + dt.timedelta(hours=rng.uniform(4, 72))
            fate = _order_fate(rng, at, now)
            taker = member.resident.user if mine and rng.random() < 0.35 else None
            order = ServiceOrder(
                item=item, community=community, node_id=resident.household.micro_grid_id or resident.household.grid_id,
                org_path=resident.org_path, resident=resident,
                public_name=mask_name(resident.name), note="",
                window_start=start, window_end=start + dt.timedelta(hours=rng.choice((2, 3, 4, 24))),
                status=fate, ordered_at=at, dispatch_due=at + dt.timedelta(days=1), return_count=0,
            )
            steps = [("order", "", OrderStatus.ORDERED, at, "")]
            if fate not in (OrderStatus.ORDERED, OrderStatus.CANCELLED):
                order.dispatched_at = at + dt.timedelta(hours=rng.uniform(0.5, 20))
                order.assignee = taker
                order.taker_name = str(taker) if taker else rng.choice(names)
                if fate == OrderStatus.OPEN:
                    order.assignee, order.taker_name = None, ""
                steps.append(("open" if fate == OrderStatus.OPEN else "dispatch", OrderStatus.ORDERED,
                              OrderStatus.OPEN if fate == OrderStatus.OPEN else OrderStatus.DISPATCHED,
                              order.dispatched_at, ""))
            if fate in (OrderStatus.TAKEN, OrderStatus.COMPLETED, OrderStatus.RATED, OrderStatus.RETURNED):
                order.taken_at = order.dispatched_at + dt.timedelta(hours=rng.uniform(0.2, 6))
                steps.append(("take", OrderStatus.DISPATCHED, OrderStatus.TAKEN, order.taken_at, ""))
            if fate in (OrderStatus.COMPLETED, OrderStatus.RATED, OrderStatus.RETURNED):
                # done already: its window starts after it was taken and ends before it was done
                length = order.window_end - order.window_start
                start = max(order.taken_at, min(start, now - dt.timedelta(hours=4)))
                order.window_start, order.window_end = start, start + length
                order.completed_at = min(start + dt.timedelta(hours=rng.uniform(1, 3)), now - dt.timedelta(minutes=30))
                order.completed_at = max(order.completed_at, order.taken_at)
                order.evidence, order.hours = EVIDENCE[item.name], rng.choice((1, 1, 1.5, 2, 2, 3))
                steps.append(("complete", OrderStatus.TAKEN, OrderStatus.COMPLETED, order.completed_at, order.evidence))
            if fate in (OrderStatus.RATED, OrderStatus.RETURNED):
                order.rated_at = min(order.completed_at + dt.timedelta(hours=rng.uniform(1, 48)), now - dt.timedelta(minutes=5))
                order.satisfied = fate == OrderStatus.RATED
                order.rating_comment = "" if order.satisfied else "约好的时间没来，改天又来的"
                order.return_count = 0 if order.satisfied else 1
                steps.append(("rate", OrderStatus.COMPLETED, fate, order.rated_at, order.rating_comment))
            if fate == OrderStatus.CANCELLED:
                steps.append(("cancel", OrderStatus.ORDERED, OrderStatus.CANCELLED, at + dt.timedelta(hours=2), "不需要了"))
            orders.append(order)
            lives.append(steps)
    made = ServiceOrder.objects.bulk_create(orders, batch_size=500)
    OrderEvent.objects.bulk_create([
        OrderEvent(order=order, at=when, actor_name="system", kind=kind, from_status=before, to_status=after, note=note)
        for order, steps in zip(made, lives) for kind, before, after, when, note in steps
    ], batch_size=1000)
    with transaction.atomic():
        audit.record(actor=None, action="participation.demo_history", object_type="participation.serviceorder",
                     object_id="", object_repr="demo", org_path=county.path, changes={"orders": len(made)})
    return {"orders": len(made)}


def _order_fate(rng: random.Random, at: dt.datetime, now: dt.datetime) -> str:
    """What became of an order placed at ``at``: recent ones are still on their way."""
    from .models import OrderStatus

    age = (now - at).days
    if age < 2:
        return rng.choice([OrderStatus.ORDERED, OrderStatus.OPEN, OrderStatus.DISPATCHED, OrderStatus.TAKEN])
    if age < 6:
        return rng.choice([OrderStatus.TAKEN, OrderStatus.COMPLETED, OrderStatus.RATED, OrderStatus.RATED])
    return rng.choices([OrderStatus.RATED, OrderStatus.RETURNED, OrderStatus.CANCELLED], weights=[90, 5, 5])[0]


# --- party members at work ---------------------------------------------------------------------------------------


@transaction.atomic
def generate_party_work(county: OrgNode, *, seed: int) -> int:
    """``dangyuan`` is an in-service member who reported to their community and looks after a micro-grid; in
    every community a few in-service members have reported, some confirmed, some waiting for the community."""
    from .actions import dual_confirm, dual_register

    rng = random.Random(seed + 41)
    made = 0
    member = PartyMember.objects.filter(resident__user__username="dangyuan").select_related("resident").first()
    if member is not None:
        PartyMember.objects.filter(pk=member.pk).update(in_service=True, work_unit=member.work_unit or "汉源县财政局")
        registration = dual_register(by=SYSTEM, member=member, skills="水电维修、代买代购", availability="周末、工作日晚上")
        cell = OrgNode.objects.filter(path__startswith=registration.community.path, kind=NodeKind.MICRO_GRID).filter(
            path__startswith=member.resident.org_path[:len(registration.community.path) + OrgNode.steplen]).order_by(
            "path").first() or OrgNode.objects.get(path=member.resident.org_path)
        dual_confirm(by=SYSTEM, registration=registration, micro_grid=cell)
        made += 1
    for community in OrgNode.objects.filter(under(county.path, "path"), kind=NodeKind.COMMUNITY).order_by("path"):
        cells = list(OrgNode.objects.filter(path__startswith=community.path, kind=NodeKind.MICRO_GRID).order_by("path"))
        others = list(PartyMember.objects.filter(under(community.path), resident__user__isnull=True)
                      .select_related("resident").order_by("id")[:12])
        for i, other in enumerate(others):
            PartyMember.objects.filter(pk=other.pk).update(in_service=True, work_unit=other.work_unit or rng.choice(
                ["县教育局", "县人民医院", "县供电公司", "县税务局", "县农业农村局"]))
            registration = dual_register(by=SYSTEM, member=other, skills=rng.choice(
                ["理发", "作业辅导", "家电维修", "法律咨询", "健康咨询", "驾驶"]), availability=rng.choice(["周末", "工作日晚上"]))
            if i % 3 and cells:
                dual_confirm(by=SYSTEM, registration=registration, micro_grid=rng.choice(cells))
            made += 1
    return made
