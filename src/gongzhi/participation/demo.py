"""The demo part: micro-wishes in every state across the demo county's communities, six months of them, with
the demo party member (``dangyuan``) among the claimants. Made through the actions (as the system), then dated
back; once per database."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from gongzhi.core.access import SYSTEM
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
PER_COMMUNITY = 30


def _county() -> OrgNode | None:
    return OrgNode.objects.filter(depth=1, kind=NodeKind.COUNTY, code=data.COUNTY["code"]).first()


def load_demo(*, seed: int, scale: float, say) -> None:
    from django.utils.translation import gettext as _

    county = _county()
    if county is None or Wish.objects.exists():
        return
    say(_("Loading micro-wishes…"))
    counts = generate(county, seed=seed, scale=scale)
    say(_("Micro-wishes loaded: %(wishes)s.") % counts)


@transaction.atomic
def generate(county: OrgNode, *, seed: int, scale: float) -> dict:
    rng = random.Random(seed + 13)
    now = timezone.now()
    member = PartyMember.objects.filter(resident__user__username="dangyuan").select_related("resident__user").first()
    dangyuan = member.resident.user if member is not None else None
    made = 0
    for community in OrgNode.objects.filter(under(county.path), kind=NodeKind.COMMUNITY).order_by("path"):
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
