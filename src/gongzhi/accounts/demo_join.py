"""The joining demo part (after the demo accounts): in the demo grid worker's grid (``wangge``), households
with printed join codes and join requests waiting for him, made through the joining actions. The demo
resident ``jumin`` is left as the accounts part made him."""

from __future__ import annotations

from django.db.models import Count, Q
from django.test import RequestFactory

from gongzhi.core.access import Role
from gongzhi.orgs.models import Household

from .actions import join as actions
from .demo import DEMO_PASSWORD, ensure_demo_accounts
from .models import JoinCode, JoinRequest, User

PRINTED_HOUSEHOLDS = 4
DEMO_ADDRESS = "192.0.2.10"  # TEST-NET-1: the demo's tries at joining, apart from any real address


def _request():
    return RequestFactory().post("/join/", REMOTE_ADDR=DEMO_ADDRESS)


def load_demo(*, seed: int, scale: float, say) -> None:
    accounts = {a.username: a for a in ensure_demo_accounts()}
    if "wangge" not in accounts:
        return
    worker = User.objects.get(username="wangge")
    grid = accounts["wangge"].node
    if JoinCode.objects.filter(created_by=worker).exists():
        return  # loaded before
    households = list(
        Household.objects.filter(grid=grid, building__isnull=False)
        .annotate(free=Count("members", filter=Q(members__user__isnull=True))).filter(free__gte=2)
        .select_related("building", "compound").order_by("address")[:PRINTED_HOUSEHOLDS]
    )
    if not households:
        return
    raws = []
    for household in households:
        _code, raw = actions.join_code_create(by=worker, household=household, days=30)
        raws.append(raw)
    # Waiting for wangge: two people whose details did not match a member of their household (a typo in the
    # name, a tenant not yet in the registry), and one asking without a code.
    tries = [
        (raws[0], households[0].members.filter(user__isnull=True).order_by("id").first().name + "某", "19900000001"),
        (raws[-1], "周租户", "19900000002"),
    ]
    for raw, name, phone in tries:
        actions.join(request=_request(), code=raw, name=name, id_last4="1234", phone=phone, password=DEMO_PASSWORD)
    building = households[0].building
    actions.join_ask(request=_request(), community=building.compound.community, compound=building.compound,
                     building=building, address=f"{building.compound.name}{building.name}", name="吴新来",
                     id_last4="5678", phone="19900000003", password=DEMO_PASSWORD)
    pending = JoinRequest.objects.filter(status=JoinRequest.Status.PENDING, org_path__startswith=grid.path).count()
    say(f"joining: {len(raws)} households with printed join codes, {pending} join requests waiting for "
        f"{Role(Role.GRID_WORKER).label} wangge")
