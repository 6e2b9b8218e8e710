"""Six months of appeals for the demo county: every life simulated in memory from one seed, then bulk-inserted.

Each appeal runs through the same steps as ``actions.py`` (file, dispatch, return, accept, extension,
resolve, rate or callback, reopen, verify, close, void, merge, supervise, escalation by the deadline
sweep) on working time, and stops where "now" finds it, so states, deadlines, counters and the
timeline agree. A few scripted lives give the demo accounts work to do.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.core.access import Role
from gongzhi.core import audit, workdays
from gongzhi.accounts.demo import DEMO_OPEN311_KEY, ensure_demo_accounts
from gongzhi.orgs.demo import data, people
from gongzhi.orgs.demo.load import DemoError
from gongzhi.core.pii import blind_index, encrypt, mask_phone
from gongzhi.core.scoping import under
from gongzhi.orgs.models import Household, NodeKind, OrgNode, Resident, Unit, UnitKind

from . import demo_texts as T
from . import policies, routing
from .actions import ALLOWED_FROM, appeal_number, clean_attributes
from .defaults import ensure_default_categories, leaf_codes
from .models import (
    Appeal,
    AppealEvent,
    AppealFollower,
    AppealRequest,
    Category,
    Channel,
    DueState,
    RoutingRule,
    Satisfaction,
    Status,
    TimeUnit,
)
from .actions.sweep import sweep

PER_MONTH = 1000  # appeals a month at scale 1: about 6,000 in six months for 20,000 residents
MIN_APPEALS = 150  # however small the scale: enough for every state, channel and category
SWEEP_MINUTES = 5  # how late after a deadline the periodic sweep escalates
BATCH = 2000
STEP = OrgNode.steplen
OPEN_WORK = (Status.SUBMITTED, Status.DISPATCHED, Status.ACCEPTED)  # the deadline still runs

H, C, S = "household", "compound", "street"  # where a category's problems are
SCOPE = {
    "garbage": C, "dumping": C, "street-vending": S, "greening": C, "drainage": C, "water": C, "power": C,
    "gas": H, "heating": H, "property-service": C, "parking": C, "elevator": C, "property-fee": H, "leak": H,
    "structure": C, "road-damage": S, "streetlight": S, "manhole": S, "illegal-parking": S,
    "construction-noise": C, "living-noise": C, "neighbour": H, "family": H, "subsistence": H, "pension": H,
    "medical-insurance": H, "renovation-wish": C, "renovation-works": C, "public-order": C, "fire-hazard": C,
    "gas-leak": C, "falling-objects": C, "geo-hazard": S, "policy-question": H, "suggestion": S,
}
WEIGHTS = {
    "garbage": 10, "dumping": 6, "street-vending": 4, "greening": 3, "drainage": 4, "water": 5, "power": 4,
    "gas": 2, "heating": 0.4, "property-service": 6, "parking": 5, "elevator": 2, "property-fee": 2, "leak": 4,
    "structure": 1, "road-damage": 4, "streetlight": 4, "manhole": 1, "illegal-parking": 4,
    "construction-noise": 3, "living-noise": 4, "neighbour": 5, "family": 2, "subsistence": 3, "pension": 3,
    "medical-insurance": 2, "renovation-wish": 3, "renovation-works": 2, "public-order": 2, "fire-hazard": 2,
    "gas-leak": 0.5, "falling-objects": 1, "geo-hazard": 0.4, "policy-question": 4, "suggestion": 3,
}
RURAL_FACTOR = {"property-service": 0.05, "parking": 0.1, "elevator": 0, "property-fee": 0.05, "street-vending": 0.2,
                "renovation-wish": 0.1, "renovation-works": 0.1, "geo-hazard": 5, "road-damage": 2, "water": 1.5}
CHANNELS = [(Channel.ONLINE, 30), (Channel.VISIT, 22), (Channel.HOTLINE, 15), (Channel.WINDOW, 12),
            (Channel.SNAPSHOT, 10), (Channel.WISH_WALL, 6), (Channel.MEETING, 5)]
SATISFACTION = [(Satisfaction.SATISFIED, 85), (Satisfaction.BASIC, 11), (Satisfaction.UNSATISFIED, 4)]
# Hours residents and the hotline file at: mostly daytime, some evenings.
HOURS = [(7, 3), (8, 8), (9, 10), (10, 10), (11, 8), (12, 5), (13, 5), (14, 8), (15, 8), (16, 8), (17, 6), (18, 5),
         (19, 6), (20, 7), (21, 5), (22, 2)]
STAFF_CHANNELS = (Channel.VISIT, Channel.WINDOW, Channel.WISH_WALL, Channel.MEETING)


class _Stop(Exception):
    """The next step would happen after "now": the appeal stays where it is."""


@dataclass(eq=False)
class _Home:
    """A household as the simulation sees it."""

    id: int
    address: str
    node: OrgNode
    grid: OrgNode
    community: OrgNode
    town: OrgNode
    compound: str = ""
    building: str = ""
    lng: float | None = None
    lat: float | None = None


@dataclass(eq=False)
class _Life:
    """One appeal being simulated: the row's values, its timeline, ledger requests and followers."""

    f: dict
    home: _Home
    category: Category
    policy: object
    office: bool  # staff work on office time (not for emergencies and utilities, handled round the clock)
    t: dt.datetime
    reporter_user: User | None = None
    events: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    followers: list = field(default_factory=list)
    filer: User | None = None
    supervise_at: dt.datetime | None = None
    merge_into: _Life | None = None
    id: int = 0



class _History:
    """Draws and runs every appeal in one fixed order from one Random, so a seed gives the same history."""

    def __init__(self, county: OrgNode, *, seed: int, months: int, now: dt.datetime, scale: float):
        self.rng = random.Random(seed)
        self.county, self.now = county, now
        self.start = now - dt.timedelta(days=round(months * 30.44))
        self.pick_channel, self.pick_hour = people.Weighted(CHANNELS), people.Weighted(HOURS)
        self.pick_satisfaction = people.Weighted(SATISFACTION)
        self.pick_content = people.Weighted(SATISFACTION[:2])  # after a reopening: mostly settled
        self.lives: list[_Life] = []
        self.routes: dict = {}
        self.policies: dict = {}
        self.used_phones: set = set()
        self.new_users: list[User] = []
        self.new_roles: list[RoleAssignment] = []
        with override(settings.LANGUAGE_CODE):  # the sweep's own words, stored in the site's language
            self.escalate_note = _("Overdue: escalated to the supervisors of the handling unit.")

    # --- the county as it is in the database ------------------------------------------------

    def load(self):
        county = self.county
        self.nodes = {n.pk: n for n in OrgNode.objects.filter(under(county.path, "path")).order_by("path")}
        self.nodes_by_path = by_path = {n.path: n for n in self.nodes.values()}
        self.rule_paths = set(RoutingRule.objects.values_list("org_path", flat=True))
        self.communities = [n for n in self.nodes.values() if n.kind == NodeKind.COMMUNITY]
        self.homes_of: dict[int, list[_Home]] = {c.pk: [] for c in self.communities}
        self.homes: dict[int, _Home] = {}
        rows = (Household.objects.filter(under(county.path)).order_by("id")
                .values_list("id", "address", "grid_id", "micro_grid_id", "compound__name", "building__name",
                             "compound__lng", "compound__lat"))
        for hid, address, grid_id, micro_id, compound, building, lng, lat in rows:
            grid = self.nodes[grid_id]
            community = by_path[grid.path[: 3 * STEP]]
            home = _Home(hid, address, self.nodes[micro_id] if micro_id else grid, grid, community,
                         by_path[grid.path[: 2 * STEP]], compound or "", building or "", lng, lat)
            self.homes[hid] = home
            self.homes_of[community.pk].append(home)
        self.adults_of: dict[int, list[tuple]] = {c.pk: [] for c in self.communities}
        self.resident_user: dict[int, User] = {}
        adult_born = self.now.date().replace(year=self.now.year - 18, day=1)
        for rid, name, hid, user_id, born, residency in (
            Resident.objects.filter(under(county.path)).order_by("id")
            .values_list("id", "name", "household_id", "user_id", "birth_date", "residency")
        ):
            if born <= adult_born and residency != "away":
                self.adults_of[self.homes[hid].community.pk].append((rid, name, hid, user_id, born))
        self.units = list(Unit.objects.filter(under(county.path)).order_by("kind", "name"))
        self.categories = {c.code: c for c in Category.objects.filter(code__in=leaf_codes())}
        self.streets = {}
        for community in self.communities:
            addresses = [h.address for h in self.homes_of[community.pk] if not h.compound]
            self.streets[community.pk] = [s for s in data.STREETS if any(s in a for a in addresses)]
        self.staff_days = self._day_weights(staff=True)
        self.any_days = self._day_weights(staff=False)
        self.pick_community = people.Weighted([(c, len(self.homes_of[c.pk]) + 1) for c in self.communities])
        self.pick_urban = people.Weighted([(c, len(self.homes_of[c.pk]) + 1) for c in self.communities
                                           if not c.is_rural])
        self.pick_code = {
            rural: people.Weighted([(c, WEIGHTS[c] * (RURAL_FACTOR.get(c, 1) if rural else 1))
                                    for c in self.categories if not rural or RURAL_FACTOR.get(c, 1)])
            for rural in (False, True)
        }

    # --- people who act ---------------------------------------------------------------------

    def _name(self) -> str:
        rng = self.rng
        gender = "M" if rng.random() < 0.5 else "F"
        return people.SURNAMES.pick(rng) + people.given_name(rng, gender, rng.randint(1965, 1998))

    def _new_user(self, username: str, display_name: str, role: str, node: OrgNode, unit: Unit | None = None) -> User:
        user = User(username=username, display_name=display_name, password=make_password(None))
        self.new_users.append(user)
        self.new_roles.append(RoleAssignment(user=user, role=role, node=node, org_path=node.path, unit=unit))
        return user

    def save_accounts(self, linked) -> None:
        """Write the accounts made above at once: the timeline needs their ids."""
        User.objects.bulk_create(self.new_users, batch_size=BATCH)
        for role in self.new_roles:
            role.user_id = role.user.pk
        RoleAssignment.objects.bulk_create(self.new_roles, batch_size=BATCH)
        Resident.objects.bulk_update([Resident(pk=rid, user_id=user.pk) for rid, user in linked], ["user"],
                                     batch_size=BATCH)

    def staff(self):
        """One worker per grid, community and subdistrict, one handler per unit: the demo accounts where they
        sit, otherwise made here (no password: they act in the history, nobody logs in as them)."""
        held = {}
        for a in (RoleAssignment.objects.filter(under(self.county.path), is_active=True)
                  .select_related("user").order_by("id")):
            held.setdefault((a.role, a.node_id, a.unit_id), a.user)
        self.worker, self.officer = {}, {}
        wanted = {NodeKind.GRID: Role.GRID_WORKER, NodeKind.COMMUNITY: Role.COMMUNITY_STAFF,
                  NodeKind.SUBDISTRICT: Role.SUBDISTRICT_STAFF}
        prefix = {Role.GRID_WORKER: "wg", Role.COMMUNITY_STAFF: "sq", Role.SUBDISTRICT_STAFF: "jd"}
        for node in self.nodes.values():
            role = wanted.get(node.kind)
            if role:
                self.worker[node.pk] = held.get((role, node.pk, None)) or self._new_user(
                    f"demo-{prefix[role]}-{node.code or node.pk}", self._name(), role, node)
        for i, unit in enumerate(self.units, start=1):
            role = Role.DEPARTMENT_HANDLER if unit.kind == UnitKind.DEPARTMENT else Role.PARTNER_CONTACT
            self.officer[unit.pk] = held.get((role, unit.home_id, unit.pk)) or self._new_user(
                f"demo-unit-{i:03d}", self._name(), role, unit.home, unit)

    def online_accounts(self):
        """Residents who file on their phones have accounts: a few per community, more where people are young."""
        rng = self.rng
        self.pool: dict[int, list[tuple]] = {}
        linked = []
        n = 0
        for community in self.communities:
            adults = [a for a in self.adults_of[community.pk] if a[4].year >= self.now.year - 70]
            want = max(2, round(len(adults) * 0.025))
            chosen = [a for a in adults if a[3]] + rng.sample([a for a in adults if not a[3]],
                                                              min(want, len([a for a in adults if not a[3]])))
            self.pool[community.pk] = chosen
            for rid, name, hid, user_id, _born in chosen:
                if user_id:
                    self.resident_user[rid] = User.objects.get(pk=user_id)
                    continue
                n += 1
                user = self._new_user(f"demo-jm-{n:04d}", name, Role.RESIDENT, self.homes[hid].grid)
                self.resident_user[rid] = user
                linked.append((rid, user))
        return linked

    # --- when ------------------------------------------------------------------------------

    def _day_weights(self, staff: bool):
        days, weights = [], []
        first, last = self.start.date(), timezone.localdate(self.now)
        span = max(1, (last - first).days)
        day = first
        while day <= last:
            growth = 0.85 + 0.3 * (day - first).days / span  # a little busier lately, as sign-ups grow
            work = workdays.is_workday(day)
            w = growth * (1.0 if work else (0.0 if staff else 0.6))
            if w:
                days.append(day)
                weights.append(w)
            day += dt.timedelta(days=1)
        return people.Weighted(list(zip(days, weights)))

    def _moment(self, channel: str) -> dt.datetime:
        rng, tz = self.rng, timezone.get_current_timezone()
        staff = channel in STAFF_CHANNELS
        days = self.staff_days if staff else self.any_days
        for _attempt in range(50):
            day = days.pick(rng)
            if channel == Channel.MEETING:
                clock = rng.choice((dt.time(19, 30), dt.time(20, 0), dt.time(10, 0)))
                minutes = rng.randint(0, 50)
            elif staff:
                window = rng.choice(workdays.office_hours())
                clock, minutes = window[0], rng.randint(5, _minutes(window) - 5)
            else:  # residents and the hotline: mostly daytime, some evenings
                clock, minutes = dt.time(self.pick_hour.pick(rng)), rng.randint(0, 59)
            moment = dt.datetime.combine(day, clock, tzinfo=tz) + dt.timedelta(minutes=minutes,
                                                                              seconds=rng.randint(0, 59))
            if self.start <= moment < self.now - dt.timedelta(minutes=10):
                return moment
        return self.now - dt.timedelta(hours=rng.randint(24, 24 * 30))

    def daytime(self, moment: dt.datetime) -> dt.datetime:
        """The moment, or the next morning when it falls in the night: residents sleep too."""
        local = timezone.localtime(moment)
        if 7 <= local.hour < 23:
            return moment
        day = local.date() + dt.timedelta(days=1 if local.hour >= 23 else 0)
        return dt.datetime.combine(day, dt.time(7, self.rng.randint(0, 59)), tzinfo=local.tzinfo) + dt.timedelta(
            minutes=self.rng.randint(0, 90))

    def later(self, life: _Life, hours: float, *, office: bool | None = None) -> dt.datetime:
        office = life.office if office is None else office
        if office:
            return workdays.add_working_hours(life.t, hours).at
        return life.t + dt.timedelta(hours=hours)

    # --- drawing an appeal -----------------------------------------------------------------

    def _route(self, node: OrgNode, category: Category):
        if node.kind == NodeKind.MICRO_GRID and node.path not in self.rule_paths:
            # Without rules of its own a micro-grid routes as its grid does (same grid, same community).
            node = self.nodes_by_path[node.path[: 4 * STEP]]
        key = (node.pk, category.pk)
        if key not in self.routes:
            self.routes[key] = routing.route(node, category)
        return self.routes[key]

    def _policy(self, category: Category):
        if category.pk not in self.policies:
            self.policies[category.pk] = routing.policy_for(category)
        return self.policies[category.pk]

    def _phone(self) -> str:
        return people.mobile(self.rng, self.used_phones)

    def draw(self, *, channel=None, code=None, community=None, home=None, reporter=None, filer=None,
             at=None, text=None) -> _Life:
        """One appeal's who, where, what and when; ``reporter`` is a registry row (id, name, household id,
        user id, birth date), or "" for a typed name and phone."""
        rng = self.rng
        channel = channel or self.pick_channel.pick(rng)
        if community is None and home is not None:
            community = home.community
        elif community is None:
            fits = self.pick_community if code is None or RURAL_FACTOR.get(code, 1) else self.pick_urban
            community = fits.pick(rng)
        if code is None:
            code = self.pick_code[community.is_rural].pick(rng)
        scope = SCOPE[code]
        if channel == Channel.SNAPSHOT and scope == H:
            channel = Channel.VISIT  # nobody photographs a pension question
        if channel == Channel.ONLINE and not self.pool[community.pk] and reporter is None:
            channel = Channel.WINDOW
        # who
        if reporter is None:
            if channel == Channel.ONLINE or (channel == Channel.SNAPSHOT and self.pool[community.pk]
                                             and rng.random() < 0.3):
                reporter = rng.choice(self.pool[community.pk])
            elif channel == Channel.SNAPSHOT or (channel == Channel.HOTLINE and rng.random() < 0.6) or (
                    channel == Channel.WINDOW and rng.random() < 0.1):
                reporter = ""
            elif home is not None:
                reporter = next((a for a in self.adults_of[community.pk] if a[2] == home.id), None) or rng.choice(
                    self.adults_of[community.pk])
            else:
                reporter = rng.choice(self.adults_of[community.pk])
        if reporter and home is None:
            home = self.homes[reporter[2]]
        if home is None:
            home = rng.choice(self.homes_of[community.pk])
        if filer is None:
            if reporter and reporter[0] in self.resident_user and channel in (Channel.ONLINE, Channel.SNAPSHOT):
                filer = self.resident_user[reporter[0]]
            elif channel in (Channel.VISIT, Channel.SNAPSHOT):
                filer = self.worker[home.grid.pk]
            elif channel == Channel.HOTLINE:
                filer = None
            else:
                filer = self.worker[community.pk]
        # where
        category = self.categories[code]
        where, address = self._where(home, scope, code)
        # what
        title, description = text or rng.choice(T.APPEALS[code])
        slots = {"where": where, "addr": home.address, "days": rng.randint(2, 5), "n": rng.randint(2, 4),
                 "street": rng.choice(self.streets[community.pk] or data.STREETS)}
        title, description = title.format(**slots)[:120], description.format(**slots)
        submitted = at or self._moment(channel)
        policy = self._policy(category)
        due = routing.deadlines(policy, submitted)
        owner = (home.grid if channel in (Channel.VISIT, Channel.SNAPSHOT) and filer is not None
                 and filer.pk == self.worker[home.grid.pk].pk else community)
        lng = (home.lng if scope != S and home.lng else home.node.lng) or community.lng
        lat = (home.lat if scope != S and home.lat else home.node.lat) or community.lat
        phone = ""
        name = reporter[1] if reporter else ""
        if reporter == "" and channel != Channel.SNAPSHOT:
            name, phone = self._name(), self._phone()
        f = {
            "title": title, "description": description, "category_id": category.pk, "channel": channel,
            "status": Status.SUBMITTED, "due_state": DueState.NORMAL, "node_id": home.node.pk,
            "org_path": home.node.path, "household_id": home.id if (reporter or scope == H) else None,
            "address": address[:200], "attributes": self._attributes(code, scope, submitted),
            "lng": round(lng + rng.uniform(-0.0006, 0.0006), 6) if lng else None,
            "lat": round(lat + rng.uniform(-0.0006, 0.0006), 6) if lat else None,
            "reporter_id": reporter[0] if reporter else None, "reporter_name": name,
            "reporter_phone_enc": encrypt(phone), "reporter_phone_hash": blind_index("phone", phone),
            "reporter_phone_masked": mask_phone(phone), "filed_by_id": filer.pk if filer else None,
            "owner_node_id": owner.pk, "owner_path": owner.path, "handler_node_id": None, "handler_unit_id": None,
            "handler_path": "", "accepted_by_id": None, "submitted_at": submitted, "response_due": due.response_due,
            "resolve_due": due.resolve_due, "due_soon_at": due.due_soon_at, "deadline_unconfirmed": due.unconfirmed,
            "result": "", "rating_resolved": None, "satisfaction": "", "rating_comment": "", "rated_at": None,
            "rated_by_callback": False, "return_count": 0, "reopen_count": 0, "supervise_count": 0,
            "extension_count": 0, "escalated_at": None,
        }
        office = policy.resolve_unit in (TimeUnit.WORKING_DAYS, TimeUnit.WORKING_HOURS)
        life = _Life(f, home, category, policy, office, submitted, filer=filer)
        if reporter and reporter[0] in self.resident_user:  # appeal_file: the reporter's account follows
            life.reporter_user = self.resident_user[reporter[0]]
            life.followers.append({"user_id": life.reporter_user.pk, "resident_id": reporter[0]})
        return life

    def _where(self, home: _Home, scope: str, code: str = "") -> tuple[str, str]:
        rng = self.rng
        prefix = f"{home.town.name}{home.community.name}"
        if scope == H:
            where = f"{home.compound}{home.building}" if home.building else home.address.removeprefix(prefix)
            return where, home.address
        if home.community.is_rural:
            group = re.search(r"\d+组", home.address)
            where = f"{home.community.name}{group.group(0) if group else ''}{rng.choice(T.SPOTS_VILLAGE)}"
            return where, home.town.name + where
        if scope == C and home.compound:
            building = home.building if home.building and rng.random() < 0.6 else ""
            spots = T.SPOTS_INDOOR if code in T.INDOOR and building else T.SPOTS_COMPOUND
            where = f"{home.compound}{building}{rng.choice(spots)}"
            return where, prefix + where
        street = rng.choice(self.streets[home.community.pk] or data.STREETS)
        number = f"{rng.randint(1, 120)}号" if rng.random() < 0.5 else ""
        where = f"{street}{number}{rng.choice(T.SPOTS_STREET)}"
        return where, prefix + where

    def _attributes(self, code: str, scope: str, at: dt.datetime) -> dict:
        rng = self.rng
        values = {}
        if code in ("water", "power"):
            values = {"scope": rng.choice(("building", "compound", "household")),
                      "since": f"{timezone.localtime(at) - dt.timedelta(hours=rng.randint(1, 30)):%Y-%m-%dT%H:00}"}
        elif code == "streetlight":
            values = {"pole": f"LD-{rng.randint(100, 999)}", "count": rng.randint(1, 4)}
        elif code == "illegal-parking" and rng.random() < 0.5:
            values = {"plate": "川T" + "".join(rng.choice("ABCDEFGHJKLMN0123456789") for _i in range(5))}
        elif code == "living-noise":
            source = rng.choice(("dance", "shop", "neighbour", "other"))
            values = {"when": {"dance": "evening", "shop": "day", "neighbour": "night"}.get(source, "evening"),
                      "source": source}
        elif code == "fire-hazard":
            values = {"hazards": rng.sample(["charging", "stairwell", "passage", "extinguisher"], rng.randint(1, 2))}
        return clean_attributes(self.categories[code], values) if values else {}

    # --- the steps: the same changes as actions.py -----------------------------------------

    def _at(self, life: _Life, t: dt.datetime) -> dt.datetime:
        t = max(t, life.t + dt.timedelta(seconds=self.rng.randint(20, 120)))
        self._tick(life, min(t, self.now))
        if t > self.now:
            raise _Stop
        life.t = t
        return t

    def _tick(self, life: _Life, until: dt.datetime):
        """What the periodic deadline sweep and the supervisors did while the appeal waited."""
        f = life.f
        if f["status"] in OPEN_WORK and f["escalated_at"] is None:
            when = f["resolve_due"] + dt.timedelta(minutes=SWEEP_MINUTES)
            if when <= until and when > life.t:
                f["escalated_at"] = when
                self._event(life, "escalate", when, None, note=self.escalate_note, public=False,
                            data={"resolve_due": f["resolve_due"].isoformat()})
                if self.rng.random() < 0.5:
                    life.supervise_at = workdays.add_working_hours(when, self.rng.uniform(1, 16)).at
        if life.supervise_at and life.supervise_at <= until and f["status"] in OPEN_WORK:
            when, life.supervise_at = life.supervise_at, None
            if when > life.t:
                f["supervise_count"] += 1
                self._event(life, "supervise", when, self.worker[life.home.town.pk],
                            note=self.rng.choice(T.SUPERVISE_NOTES), public=False)

    def _event(self, life: _Life, kind: str, at, actor, *, note="", public=True, data=None, before=None,
               actor_name=None):
        life.events.append({
            "at": at, "actor_id": actor.pk if actor else None, "kind": kind,
            "actor_name": actor_name if actor_name is not None else (str(actor) if actor else ""),
            "from_status": life.f["status"] if before is None else before, "to_status": life.f["status"],
            "note": note, "public": public, "data": data or {},
        })

    def _handler(self, life: _Life, wrong: bool = False):
        route = self._route(life.home.node, life.category)
        if wrong:
            right = route.unit.pk if route.unit else None
            options = [u for u in self.units if u.kind == UnitKind.DEPARTMENT and u.pk != right]
            return None, self.rng.choice(options), route
        return route.node, route.unit, route

    def _person(self, node: OrgNode | None, unit: Unit | None) -> User:
        return self.officer[unit.pk] if unit is not None else self.worker[node.pk]

    def owner_staff(self, life: _Life) -> User:
        return self.worker[life.f["owner_node_id"]]

    def community_staff(self, life: _Life) -> User:
        return self.worker[life.home.community.pk]

    def file(self, life: _Life):
        f = life.f
        actor_name = T.HOTLINE if f["channel"] == Channel.HOTLINE else None
        self._event(life, "file", life.t, life.filer, before="", data={"channel": f["channel"]},
                    actor_name=actor_name)
        route = self._route(life.home.node, life.category)
        if route.auto_dispatch:
            life.t += dt.timedelta(seconds=2)
            self._dispatch(life, route.node, route.unit, None, T.AUTO_DISPATCH_NOTE)

    def _dispatch(self, life: _Life, node, unit, by, note=""):
        f, before = life.f, life.f["status"]
        f.update(status=Status.DISPATCHED, dispatched_at=life.t, accepted_by_id=None, accepted_at=None,
                 handler_node_id=node.pk if node else None, handler_unit_id=unit.pk if unit else None,
                 handler_path=node.path if node else "")
        self._event(life, "dispatch", life.t, by, before=before, note=note, data={"to": str(unit or node)})

    def _handler_user(self, life: _Life) -> User:
        f = life.f
        if f["handler_unit_id"]:
            return self.officer[f["handler_unit_id"]]
        return self.worker[f["handler_node_id"]]

    def step(self, life: _Life, token: str, fast: bool):
        """Run one step of a life; tokens not allowed in the current state are skipped, as the action would refuse."""
        rng, f = self.rng, life.f
        name, _sep, arg = token.partition(":")
        action = {"dispatch_wrong": "dispatch", "ext": "extension_request", "rate": "rate", "callback": "rate",
                  "void": "void", "verify_reject": "verify_reject"}.get(name, name)
        if action in ALLOWED_FROM and f["status"] not in ALLOWED_FROM[action]:
            return
        if action == "rate" and f["rated_at"] is not None:
            return
        quick = 0.15 if fast else None

        def staff_delay(lo, hi, tail=0.0, tail_hi=0.0):
            if quick:
                return quick
            # Most staff act within the hour; a few are out on a case and take much longer.
            return rng.uniform(tail, tail_hi) if tail_hi and rng.random() < 0.06 else rng.uniform(lo, hi)

        if name in ("dispatch", "dispatch_wrong"):
            self._at(life, self.later(life, staff_delay(0.1, 0.8, 1.5, 6)))
            node, unit, route = self._handler(life, wrong=name == "dispatch_wrong")
            self._dispatch(life, node, unit, self.owner_staff(life), rng.choice(T.DISPATCH_NOTES))
        elif name == "return":
            self._at(life, self.later(life, staff_delay(0.3, 3)))
            by, before = self._handler_user(life), f["status"]
            right = self._handler(life)[2]
            f.update(status=Status.SUBMITTED, handler_node_id=None, handler_unit_id=None, handler_path="",
                     accepted_by_id=None, accepted_at=None, return_count=f["return_count"] + 1)
            reason = rng.choice(T.RETURN_REASONS).format(right=right.label)
            self._event(life, "return", life.t, by, before=before, note=reason, data={"ledger": True})
        elif name == "accept":
            t = self._at(life, self.later(life, staff_delay(0.05, 0.6, 1.5, 8)))
            by = self._handler_user(life)
            f.update(status=Status.ACCEPTED, accepted_by_id=by.pk, accepted_at=t,
                     responded_on_time=t <= f["response_due"])
            self._event(life, "accept", t, by, before=Status.DISPATCHED, note=rng.choice(T.ACCEPT_NOTES))
        elif name == "ext":
            by = self._handler_user(life)
            self._at(life, self.later(life, staff_delay(2, 16)))
            days = rng.choice((3, 5, 5, 7, 10))
            reason = rng.choice(T.EXTENSION_REASONS).format(days=days)
            request = {"kind": AppealRequest.Kind.EXTENSION, "state": AppealRequest.State.PENDING, "reason": reason,
                       "extend_days": days, "requested_by_id": by.pk, "requested_at": life.t, "decided_by_id": None,
                       "decided_at": None, "decision_note": ""}
            life.requests.append(request)
            self._event(life, "extension_request", life.t, by, note=reason, data={"days": days, "ledger": True})
            if arg == "pending":
                return
            t = self._at(life, self.later(life, staff_delay(0.5, 6)))
            approve = arg == "ok"
            chief = self.community_staff(life)
            note = "同意延期。" if approve else rng.choice(T.EXTENSION_REJECTIONS)
            request.update(state=AppealRequest.State.APPROVED if approve else AppealRequest.State.REJECTED,
                           decided_by_id=chief.pk, decided_at=t, decision_note=note)
            if approve:
                due = workdays.add_working_days(f["resolve_due"], days)
                f.update(resolve_due=due.at, due_soon_at=routing.due_soon(f["submitted_at"], due.at,
                                                                         life.policy.due_soon_percent),
                         due_state=DueState.NORMAL, extension_count=f["extension_count"] + 1,
                         deadline_unconfirmed=f["deadline_unconfirmed"] or due.warning)
            self._event(life, "extension_decide", t, chief, note=note,
                        data={"approved": approve, "days": days, "ledger": True})
        elif name == "resolve":
            if quick:
                t = self.later(life, 2 + rng.random() * 4)
            else:
                span = max(f["resolve_due"] - life.t, dt.timedelta(hours=1))
                r = rng.random()
                share = (rng.uniform(0.03, 0.3) if r < 0.5 else rng.uniform(0.3, 0.7) if r < 0.8
                         else rng.uniform(0.7, 0.98) if r < 0.92 else rng.uniform(1.0, 1.6) if r < 0.985
                         else rng.uniform(3, 20))
                t = life.t + span * share
                if life.office:
                    t = workdays.add_working_hours(t, rng.uniform(0.05, 0.5)).at
            t = self._at(life, t)
            by = self._handler_user(life)
            result = rng.choice(T.RESULTS[life.category.code])
            f.update(status=Status.RESOLVED, resolved_at=t, result=result, resolved_on_time=t <= f["resolve_due"],
                     rating_resolved=None, satisfaction="", rated_at=None, rating_comment="", rated_by_callback=False)
            self._event(life, "resolve", t, by, before=Status.ACCEPTED, note=result)
        elif name in ("rate", "callback"):
            satisfaction, _s, unresolved = arg.partition(":")
            callback = name == "callback"
            wording = "unresolved" if unresolved else satisfaction
            if callback:
                t = self._at(life, self.later(life, quick or rng.uniform(1, 16), office=True))
                by = self.community_staff(life)
                comment = rng.choice(T.CALLBACK_NOTES[wording])
            else:
                t = self._at(life, self.daytime(life.t + dt.timedelta(hours=quick or rng.uniform(0.5, 40))))
                by = life.reporter_user
                comment = rng.choice(T.COMMENTS[wording])
            resolved = not unresolved
            f.update(rating_resolved=resolved, satisfaction=satisfaction, rating_comment=comment, rated_at=t,
                     rated_by_callback=callback)
            self._event(life, name, t, by, note=comment, data={"resolved": resolved, "satisfaction": satisfaction})
            unhappy = satisfaction == Satisfaction.UNSATISFIED or not resolved
            if unhappy and life.policy.reopen_on_unsatisfied and f["reopen_count"] < life.policy.max_reopens:
                life.t = t + dt.timedelta(seconds=1)
                self._reopen(life, comment or "居民不满意。")
        elif name in ("verify", "verify_reject"):
            t = self._at(life, self.later(life, quick or rng.uniform(0.5, 16), office=True))
            by = self.community_staff(life)
            if name == "verify":
                note = rng.choice(T.VERIFY_NOTES)
                f.update(status=Status.VERIFIED, verified_at=t)
            else:
                note = rng.choice(T.VERIFY_REJECTS)
                f.update(status=Status.ACCEPTED, resolved_at=None, resolved_on_time=None)
            self._event(life, name, t, by, before=Status.RESOLVED, note=note)
        elif name == "close":
            t = self.later(life, quick or rng.uniform(0.1, 8), office=True)
            if f["rated_at"] is None:  # nobody rated it: closed once the wait for an answer is over
                t = max(t, (f["resolved_at"] or t) + policies.rating_wait())
            t = self._at(life, t)
            f.update(status=Status.CLOSED, closed_at=t)
            self._event(life, "close", t, self.community_staff(life), before=Status.VERIFIED,
                        note=rng.choice(T.CLOSE_NOTES))
        elif name == "void":
            asker = self.community_staff(life)
            self._at(life, self.later(life, quick or rng.uniform(0.2, 4), office=True))
            reason = rng.choice(T.VOID_REASONS)
            request = {"kind": AppealRequest.Kind.VOID, "state": AppealRequest.State.PENDING, "reason": reason,
                       "extend_days": None, "requested_by_id": asker.pk, "requested_at": life.t,
                       "decided_by_id": None, "decided_at": None, "decision_note": ""}
            life.requests.append(request)
            self._event(life, "void_request", life.t, asker, note=reason, public=False, data={"ledger": True})
            if arg == "pending":
                return
            t = self._at(life, self.later(life, quick or rng.uniform(1, 16), office=True))
            approve, before = arg == "ok", f["status"]
            chief = self.worker[life.home.town.pk]
            note = "同意作废。" if approve else rng.choice(T.VOID_REJECTIONS)
            request.update(state=AppealRequest.State.APPROVED if approve else AppealRequest.State.REJECTED,
                           decided_by_id=chief.pk, decided_at=t, decision_note=note)
            if approve:
                f.update(status=Status.VOIDED, closed_at=t)
            self._event(life, "void_decide", t, chief, before=before, note=note,
                        data={"approved": approve, "ledger": True})
        elif name == "supervise":
            t = self._at(life, self.later(life, quick or rng.uniform(1, 8), office=True))
            f["supervise_count"] += 1
            self._event(life, "supervise", t, self.worker[life.home.town.pk], note=rng.choice(T.SUPERVISE_NOTES),
                        public=False)
        elif name == "merge":
            into = life.merge_into
            t = self._at(life, self.later(life, quick or rng.uniform(0.2, 3), office=True))
            if _status_at(into, t) in (None, *_ENDED):
                return  # the main appeal was finished by then: this one goes its own way
            by, before = self.community_staff(life), f["status"]
            note = rng.choice(T.MERGE_NOTES)
            f.update(status=Status.MERGED, closed_at=t)
            self._event(life, "merge", t, by, before=before, note=note, data={"into": into})
            into.events.append({"at": t, "actor_id": by.pk, "actor_name": str(by), "kind": "merge",
                                "from_status": _status_at(into, t), "to_status": _status_at(into, t), "note": note,
                                "public": False, "data": {"from": life}})
            into.events.sort(key=lambda e: e["at"])
            rid = f["reporter_id"]
            moved = [dict(x, from_appeal=life) for x in life.followers]
            if rid and not any(x["resident_id"] == rid for x in moved):
                user = life.reporter_user
                moved.append({"user_id": user.pk if user else None, "resident_id": rid, "from_appeal": life})
            into.followers += moved

    def _reopen(self, life: _Life, reason: str):
        f, before = life.f, life.f["status"]
        due = routing.deadlines(life.policy, life.t)
        f.update(status=Status.DISPATCHED, dispatched_at=life.t, accepted_by_id=None, accepted_at=None,
                 resolved_at=None, verified_at=None, closed_at=None, resolved_on_time=None,
                 resolve_due=due.resolve_due, due_soon_at=due.due_soon_at, due_state=DueState.NORMAL,
                 escalated_at=None, deadline_unconfirmed=due.unconfirmed, rating_resolved=None, satisfaction="",
                 rated_at=None, rating_comment="", rated_by_callback=False, reopen_count=f["reopen_count"] + 1)
        self._event(life, "reopen", life.t, None, before=before, note=reason, data={"ledger": True})

    def run(self, life: _Life, script: list[str], fast: bool = False):
        try:
            self.file(life)
            for token in script:
                self.step(life, token, fast)
        except _Stop:
            pass
        self._tick(life, self.now)
        life.f["due_state"] = due_state(life.f, self.now)
        self.lives.append(life)
        return life

    # --- random lives ----------------------------------------------------------------------

    def script(self, life: _Life) -> list[str]:
        rng = self.rng
        s = []
        r = rng.random()
        if r < 0.008:
            return ["void:ok"]
        if rng.random() < 0.06 and not self._route(life.home.node, life.category).auto_dispatch:
            s += ["dispatch_wrong", "return"]
        s.append("dispatch")
        if rng.random() < 0.008:
            s.append("void:no")
        if r > 0.988:
            return [*s, "void:ok"]
        s.append("accept")
        if rng.random() < 0.05:
            s.append(rng.choice(("ext:ok", "ext:ok", "ext:ok", "ext:no")))
        s.append("resolve")
        stubborn = False  # a demand nobody can meet: unsatisfied until the policy stops reopening
        for round_ in range(3):
            satisfaction = (self.pick_satisfaction if round_ == 0 else self.pick_content).pick(rng)
            if stubborn:
                satisfaction = Satisfaction.UNSATISFIED
            elif satisfaction == Satisfaction.UNSATISFIED:
                stubborn = rng.random() < 0.25
            unresolved = ":unresolved" if satisfaction == Satisfaction.UNSATISFIED and rng.random() < 0.5 else ""
            if life.reporter_user is not None and rng.random() < 0.75:
                s.append(f"rate:{satisfaction}{unresolved}")
            elif rng.random() < 0.75:
                s.append(f"callback:{satisfaction}{unresolved}")
            else:
                break
            if satisfaction != Satisfaction.UNSATISFIED:
                break
            s += ["accept", "resolve"]
        if rng.random() < 0.025:
            s += ["verify_reject", "resolve"]
        return [*s, "verify", "close"]

    def random_lives(self, count: int):
        rng = self.rng
        codes, channels = list(self.categories), [c for c, _w in CHANNELS]
        for i in range(count):
            # The first ones go round every category and channel, so a small demo still shows them all.
            life = self.draw(code=codes[i] if i < len(codes) else None,
                             channel=channels[i % len(channels)] if i < 3 * len(channels) else None)
            self.run(life, self.script(life))
        for life in list(self.lives):
            if SCOPE[life.category.code] != H and rng.random() < 0.035:
                self.duplicate(life, ["merge"], fallback=True)
        # Make sure every end state shows up however small the demo (the lives drawn above end at random).
        unhappy = ["accept", "resolve", "callback:unsatisfied"]
        for script in (["void:ok"], ["dispatch", "void:no", "accept"],
                       ["dispatch", "accept", "ext:no", "resolve", "callback:satisfied", "verify"],
                       ["dispatch", "accept", "ext:ok", "resolve", "callback:basic", "verify", "close"],
                       ["dispatch", *unhappy, *unhappy, *unhappy, "verify", "close"]):
            self.run(self.draw(channel=Channel.WINDOW, at=self.office_time(rng.randint(15, 40))), script, fast=True)
        oldest = min((x for x in self.lives if SCOPE[x.category.code] != H and x.office),
                     key=lambda x: x.f["submitted_at"])
        self.duplicate(oldest, ["merge"], hours=1, fallback=True)

    def duplicate(self, main: _Life, script, hours=None, fallback=False, **kw):
        """Another report of the same problem: same place and category, a similar text, then merged."""
        rng = self.rng
        at = self.daytime(main.f["submitted_at"] + dt.timedelta(hours=hours or rng.uniform(0.5, 30)))
        if at >= self.now:
            return None
        home = main.home
        text = next((p for p in T.APPEALS[main.category.code] if p[0].format(
            where="", addr="", days=0, n=0, street="") in main.f["title"]), None)
        # Second reports come in any time, from residents and the hotline (staff channels keep office hours).
        kw.setdefault("channel", rng.choice((Channel.ONLINE, Channel.HOTLINE, Channel.SNAPSHOT)))
        life = self.draw(code=main.category.code, community=home.community, home=home, at=at, text=text, **kw)
        life.f.update(node_id=main.f["node_id"], org_path=main.f["org_path"], address=main.f["address"],
                      lng=main.f["lng"], lat=main.f["lat"], title=main.f["title"],
                      description=rng.choice(("我也反映一下：", "再次反映：", "邻居们都在说，")) + main.f["description"])
        life.merge_into = main
        # When the main appeal is finished before the merge, this report is handled on its own.
        return self.run(life, [*script, *self.script(life)] if fallback else script)

    # --- scripted lives: work waiting for the demo accounts ----------------------------------

    def office_time(self, working_days_back: int, hour: int = 10) -> dt.datetime:
        """``hour`` o'clock on the working day that many working days before today (0: today or the last one)."""
        day, left = timezone.localdate(self.now), working_days_back
        while not workdays.is_workday(day) or left:
            if workdays.is_workday(day):
                left -= 1
            day -= dt.timedelta(days=1)
        tz = timezone.get_current_timezone()
        moment = dt.datetime.combine(day, dt.time(hour, self.rng.randint(0, 40)), tzinfo=tz)
        return moment if moment < self.now else self.office_time(working_days_back + 1, hour)

    def _back_for(self, code: str, want: str) -> dt.datetime | None:
        """A filing time on a working day whose deadline is ``want`` (due soon, overdue) now, if there is one
        (in a long holiday nothing filed in office hours is due soon)."""
        policy = self._policy(self.categories[code])
        for back in range(1, 40):
            at = self.office_time(back)
            d = routing.deadlines(policy, at)
            state = due_state({"status": Status.ACCEPTED, "resolve_due": d.resolve_due, "due_soon_at": d.due_soon_at},
                              self.now)
            if state == want and (want != DueState.OVERDUE or d.resolve_due < self.now - dt.timedelta(days=1)):
                return at
        return None

    def scripted(self, accounts: dict):
        wangge, shequ, jumin = accounts.get("wangge"), accounts.get("shequ"), accounts.get("jumin")
        if not (wangge and shequ):
            return
        grid = next(a.node for a in wangge.active_assignments if a.role == Role.GRID_WORKER)
        community = next(a.node for a in shequ.active_assignments if a.role == Role.COMMUNITY_STAFF)
        in_grid = [h for h in self.homes_of[community.pk] if h.grid.pk == grid.pk] or self.homes_of[community.pk]
        rng = self.rng

        def life(code, channel, back, script, *, home=None, fast=True, **kw):
            at = back if isinstance(back, dt.datetime) else self.office_time(back)
            one = self.draw(code=code, channel=channel, community=community, home=home or rng.choice(in_grid),
                            at=at, **kw)
            return self.run(one, script, fast=fast)

        # wangge: dispatched to the grid (to accept), accepted (to resolve), one waiting for more time, overdue ones.
        w1 = life("garbage", Channel.VISIT, 1, ["dispatch"])
        life("dumping", Channel.WINDOW, 0, ["dispatch"])
        overdue = self._back_for("garbage", DueState.OVERDUE) or 12  # same policy as drainage
        life("drainage", Channel.WINDOW, overdue, ["dispatch"])
        w4 = life("greening", Channel.VISIT, 2, ["dispatch", "accept"])
        life("garbage", Channel.WINDOW, overdue, ["dispatch", "accept", "supervise"])
        soon = self._back_for("living-noise", DueState.DUE_SOON)
        if soon is not None:
            life("living-noise", Channel.HOTLINE, soon, ["dispatch", "accept"])
        else:  # an emergency (2 hours, sent to the grid at once) reported 100 minutes ago is due soon any day
            life("fire-hazard", Channel.HOTLINE, self.now - dt.timedelta(minutes=100), [])
        life("dumping", Channel.VISIT, 4, ["dispatch", "accept", "ext:pending"])
        # shequ: to dispatch (new, returned, a possible duplicate), to verify and close, a void waiting for jiedao.
        life("property-service", Channel.HOTLINE, self.now - dt.timedelta(hours=2), [], reporter="")
        life("road-damage", Channel.WINDOW, 1, ["dispatch_wrong", "return"])
        life("suggestion", Channel.WISH_WALL, 0, [])
        self.duplicate(w1, [], hours=max(0.5, (self.now - w1.f["submitted_at"]).total_seconds() / 3600 / 2),
                       channel=Channel.HOTLINE, reporter="")
        life("property-service", Channel.WINDOW, 3, ["dispatch", "accept", "resolve"])
        life("water", Channel.HOTLINE, 2, ["dispatch", "accept", "resolve", "callback:satisfied"])
        life("parking", Channel.WINDOW, 4, ["dispatch", "accept", "resolve", "callback:basic", "verify"])
        life("public-order", Channel.HOTLINE, 1, ["void:pending"], reporter="")
        if jumin is None:
            return
        resident = next((a for adults in self.adults_of.values() for a in adults if a[3] == jumin.pk), None)
        if resident is None:
            return
        home = self.homes[resident[2]]
        mine = {"home": home, "reporter": resident, "filer": jumin}
        life("parking", Channel.ONLINE, self.now - dt.timedelta(hours=1, minutes=20), [], **mine)
        life("streetlight", Channel.ONLINE, 1, ["dispatch"], **mine)
        life("leak", Channel.ONLINE, 3, ["dispatch", "accept"], **mine)
        life("garbage", Channel.ONLINE, 2, ["dispatch", "accept", "resolve"], **mine)
        life("drainage", Channel.ONLINE, 12, ["dispatch", "accept", "resolve", "rate:satisfied", "verify", "close"],
             **mine)
        life("property-service", Channel.ONLINE, 25,
             ["dispatch", "accept", "resolve", "rate:unsatisfied", "accept", "resolve", "rate:basic", "verify",
              "close"],
             **mine)
        self.duplicate(w4, ["merge"], hours=3, channel=Channel.ONLINE, reporter=resident, filer=jumin)


_ENDED = (Status.CLOSED, Status.VOIDED, Status.MERGED)


def _status_at(life: _Life, t: dt.datetime) -> str | None:
    """The state an appeal was in at ``t``, read back from its timeline."""
    state = None
    for e in life.events:
        if e["at"] > t:
            break
        state = e["to_status"]
    return state


def _minutes(window) -> int:
    opens, closes = window
    return (closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute)


def due_state(f: dict, now: dt.datetime) -> str:
    """Red when the resolution deadline has passed, yellow from ``due_soon_at``, for appeals whose handling
    still runs; an appeal that left that stretch keeps the colour it had then."""
    if f["status"] in OPEN_WORK:
        at = now
    else:
        at = f.get("resolved_at") or f.get("closed_at") or now
    if at >= f["resolve_due"]:
        return DueState.OVERDUE
    if at >= f["due_soon_at"]:
        return DueState.DUE_SOON
    return DueState.NORMAL


def _demo_county() -> OrgNode | None:
    return OrgNode.objects.filter(depth=1, kind=NodeKind.COUNTY, code=data.COUNTY["code"]).first()


def _write(history: _History) -> dict:
    lives = sorted(history.lives, key=lambda x: x.f["submitted_at"])
    next_id = (Appeal.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    for i, life in enumerate(lives):  # ids in filing order, as appeal_file would give them
        life.id = next_id + i
    appeals = []
    for life in lives:
        f = life.f
        number = appeal_number(life.id, f["submitted_at"])
        merged = life.merge_into.id if life.merge_into is not None and f["status"] == Status.MERGED else None
        appeals.append(Appeal(id=life.id, number=number, merged_into_id=merged, client_id=None, **f))
    numbers = {life: a.number for life, a in zip(lives, appeals)}
    Appeal.objects.bulk_create(appeals, batch_size=BATCH)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Appeal]):
                cursor.execute(sql)
    events, requests, followers = [], [], []
    for life in lives:
        for e in life.events:
            d = e["data"]
            if "into" in d:
                d = {**d, "into": numbers[d["into"]]}
            if "from" in d:
                d = {**d, "from": numbers[d["from"]]}
            events.append(AppealEvent(appeal_id=life.id, **{**e, "data": d}))
        requests += [AppealRequest(appeal_id=life.id, **r) for r in life.requests]
        for x in life.followers:
            source = x.get("from_appeal")
            followers.append(AppealFollower(appeal_id=life.id, user_id=x["user_id"], resident_id=x["resident_id"],
                                            from_appeal_id=source.id if source is not None else None))
    AppealEvent.objects.bulk_create(events, batch_size=BATCH)
    AppealRequest.objects.bulk_create(requests, batch_size=BATCH)
    AppealFollower.objects.bulk_create(followers, batch_size=BATCH)
    return {"appeals": len(appeals), "events": len(events), "requests": len(requests), "followers": len(followers),
            "staff_accounts": sum(1 for r in history.new_roles if r.role != Role.RESIDENT),
            "resident_accounts": sum(1 for r in history.new_roles if r.role == Role.RESIDENT)}


def needs_history() -> bool:
    """True when the demo county is loaded and has no appeals yet."""
    county = _demo_county()
    return county is not None and not Appeal.objects.filter(under(county.path)).exists()


def generate_history(*, seed: int, months: int = 6, today: dt.date | None = None, scale: float = 1.0,
                     now: dt.datetime | None = None) -> dict:
    """Load ``months`` of appeals into the demo county (about 1,000 a month at scale 1, never fewer than
    150) and return the row counts. Same seed, scale and "now" give the same history.

    "Now" is the current time, or 18:00 on ``today`` when that is another day. Categories and routing
    rules are ensured first; afterwards the deadline sweep and the dashboard roll-ups run.
    """
    if now is None:
        if today is None or today == timezone.localdate():
            now = timezone.now()
        else:
            now = dt.datetime.combine(today, dt.time(18, 0), tzinfo=timezone.get_current_timezone())
    with transaction.atomic():
        county = _demo_county()
        if county is None:
            raise DemoError("The demo county is not loaded.")
        if Appeal.objects.filter(under(county.path)).exists():
            raise DemoError("The demo county already has appeals.")
        ensure_default_categories(county)
        ensure_demo_accounts()
        accounts = {u.username: u for u in User.objects.filter(username__in=("wangge", "shequ", "jumin"))}
        history = _History(county, seed=seed, months=months, now=now, scale=scale)
        history.load()
        history.staff()
        history.save_accounts(history.online_accounts())
        history.random_lives(max(MIN_APPEALS, round(PER_MONTH * months * scale)))
        history.scripted(accounts)
        counts = _write(history)
        audit.record(actor=None, action="appeals.demo_history", obj=county,
                     changes={"seed": seed, "months": months, "scale": scale, **counts})
    _after_load(now)
    return counts


def _after_load(now: dt.datetime) -> None:
    """The deadline sweep (it should find nothing left to do); the dashboards' demo part builds the roll-ups."""
    sweep(now=now)


def ensure_demo_client():
    """The Open311 client of the demo (key ``DEMO_OPEN311_KEY``) at the demo county, once."""
    from .actions.open311 import ensure_open311_client

    return ensure_open311_client(name="演示应用", node=_demo_county(), raw_key=DEMO_OPEN311_KEY)


def load_demo(*, seed: int, scale: float, say) -> None:
    """The demo part: six months of appeals in the demo county, once (an older demo database gets them
    too), and the Open311 demo client."""
    import time

    from django.utils.translation import gettext as _

    if _demo_county() is None:
        return
    ensure_demo_client()
    if not needs_history():
        return
    say(_("Loading six months of appeals…"))
    started = time.monotonic()
    counts = generate_history(seed=seed, scale=scale)
    say(_("Appeals loaded in %(seconds).1f s: %(appeals)s appeals, %(events)s timeline events.")
        % {"seconds": time.monotonic() - started, **counts})
