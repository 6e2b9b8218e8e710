"""The demo county planned in memory (tree, places, households, people, party, units) from one seeded Random."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from django.utils import timezone

from . import data, people
from .people import Person, age_on

# Full-size targets; ``scale`` multiplies them, keeping the tree shape (2 towns, 6 communities, grids, micro-grids).
FULL = {
    "grids": 40, "compounds": 90, "buildings": 460, "households": 8000, "residents": 20000,
    "party_members": 1000, "partner_units": 70,
}
# Shares of the urban compounds by kind; old compounds dominate, as in the seeds.
URBAN_KINDS = [("old", 0.66), ("resettlement", 0.14), ("commodity", 0.12), ("self_built", 0.08)]
# Buildings per compound (relative weight) and their shape: floors, entrances, flats per landing.
BUILDING_WEIGHT = {"old": 5, "resettlement": 9, "commodity": 8, "self_built": 3}
HOUSEHOLD_SIZES = [(1, 26), (2, 32), (3, 20), (4, 12), (5, 7), (6, 3)]
STREET_SHARE = 0.05  # urban households at a street address rather than in a compound


@dataclass(eq=False)
class Node:
    name: str
    kind: str
    code: str
    is_rural: bool = False
    lng: float = 0.0
    lat: float = 0.0
    parent: Node | None = None
    children: list = field(default_factory=list)
    town: str = ""  # the subdistrict's and community's names, for addresses
    obj: object = None


@dataclass(eq=False)
class CompoundP:
    community: Node
    name: str
    kind: str
    address: str = ""
    built_year: int | None = None
    property_manager: str = ""
    owners_committee: bool = False
    self_management: bool = False
    grids: list = field(default_factory=list)
    buildings: list = field(default_factory=list)
    lng: float = 0.0
    lat: float = 0.0
    obj: object = None


@dataclass(eq=False)
class BuildingP:
    compound: CompoundP
    name: str
    floors: int
    entrances: int
    flats_per_landing: int
    node: Node | None = None
    households: int = 0
    steward: Person | None = None
    obj: object = None
    entrance_objs: dict = field(default_factory=dict)

    @property
    def capacity(self) -> int:
        return self.floors * self.entrances * self.flats_per_landing


@dataclass(eq=False)
class HouseholdP:
    node: Node
    address: str
    compound: CompoundP | None = None
    building: BuildingP | None = None
    entrance: int | None = None
    room: str = ""
    members: list = field(default_factory=list)
    obj: object = None


@dataclass(eq=False)
class PartyOrgP:
    name: str
    kind: str
    node: Node
    parent: PartyOrgP | None = None
    compound: CompoundP | None = None
    building: BuildingP | None = None
    secretary: Person | None = None
    members: list = field(default_factory=list)
    obj: object = None


@dataclass(eq=False)
class MemberP:
    organization: PartyOrgP
    joined_on: dt.date
    in_service: bool = False
    work_unit: str = ""
    dual_registered: bool = False
    dual_registered_on: dt.date | None = None


@dataclass(eq=False)
class UnitP:
    name: str
    kind: str
    contact_name: str
    contact_phone: str
    serves: list = field(default_factory=list)  # (Node, since)
    obj: object = None


@dataclass
class Plan:
    root: Node
    nodes: list
    compounds: list
    buildings: list
    households: list
    people: list
    party_orgs: list  # parents before children
    units: list


def apportion(total: int, weights, minimum: int = 0) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), each part at least ``minimum`` if possible."""
    n = len(weights)
    if not n:
        return []
    base = minimum if total >= minimum * n else 0
    rest = total - base * n
    wsum = float(sum(weights)) or 1.0
    raw = [rest * w / wsum for w in weights]
    parts = [int(r) for r in raw]
    for i in sorted(range(n), key=lambda i: (parts[i] - raw[i], i))[: rest - sum(parts)]:
        parts[i] += 1
    return [base + p for p in parts]


def split_contiguous(sizes: list[int], k: int) -> list[list[int]]:
    """Cut a sequence into ``k`` contiguous runs of similar total size (indices); none empty if len >= k."""
    k = max(1, min(k, len(sizes))) if sizes else 1
    total, cum = sum(sizes), [0]
    for s in sizes:
        cum.append(cum[-1] + s)
    cuts = []
    for i in range(1, k):
        target = total * i / k
        j = min(range(1, len(sizes)), key=lambda j: (abs(cum[j] - target), j)) if len(sizes) > 1 else 1
        cuts.append(j)
    for i in range(len(cuts)):  # strictly increasing, leaving room for the runs after
        low = cuts[i - 1] + 1 if i else 1
        cuts[i] = min(max(cuts[i], low), len(sizes) - (len(cuts) - i))
    bounds = [0, *cuts, len(sizes)]
    return [list(range(bounds[i], bounds[i + 1])) for i in range(k)]


def targets(scale: float) -> dict:
    """Row counts for a scale: the full-size figures times ``scale``, with floors that keep the tree's shape."""
    if not scale or scale <= 0:
        raise ValueError("scale must be positive")
    t = {key: round(value * scale) for key, value in FULL.items()}
    t["grids"] = max(6, t["grids"])
    t["compounds"] = max(6, t["compounds"])
    t["households"] = max(12, t["households"])
    t["residents"] = min(6 * t["households"], max(t["households"], t["residents"]))
    t["party_members"] = max(3, t["party_members"])
    t["partner_units"] = max(6, t["partner_units"])
    return t


def _jitter(rng, node, radius):
    angle, r = rng.random() * 2 * math.pi, radius * (0.4 + 0.6 * rng.random())
    return round(node.lng + r * math.cos(angle), 6), round(node.lat + r * math.sin(angle), 6)


def _birthday(birth: dt.date, years: int) -> dt.date:
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return birth.replace(year=birth.year + years, day=28)


class _Planner:
    """Draws the county in one fixed order from one Random, so a seed always gives the same county."""

    def __init__(self, seed: int, scale: float, today: dt.date):
        self.rng = random.Random(seed)
        self.today = today
        self.t = targets(scale)
        self.nodes: list[Node] = []
        self.compounds: list[CompoundP] = []
        self.buildings: list[BuildingP] = []
        self.households: list[HouseholdP] = []
        self.people: list[Person] = []
        self.party_orgs: list[PartyOrgP] = []
        self.units: list[UnitP] = []
        self.used_ids: set = set()
        self.used_phones: set = set()
        self.street_numbers: dict = {}

    # --- tree and places ---------------------------------------------------------------------

    def node(self, parent: Node | None, **kw) -> Node:
        n = Node(parent=parent, **kw)
        if parent is not None:
            parent.children.append(n)
        self.nodes.append(n)
        return n

    def street_address(self, community: Node, streets: list[str]) -> str:
        street = self.rng.choice(streets)
        key = (community.code, street)
        self.street_numbers[key] = self.street_numbers.get(key, 0) + self.rng.randint(1, 3)
        return f"{community.town}{street}{self.street_numbers[key]}号"

    def run(self) -> Plan:
        rng, t = self.rng, self.t
        c = data.COUNTY
        root = self.node(None, name=c["name"], kind="county", code=c["code"], lng=c["lng"], lat=c["lat"])
        communities = []
        for town, suffix, lng, lat, comms in data.SUBDISTRICTS:
            sub = self.node(root, name=town, kind="subdistrict", code=c["code"] + suffix, lng=lng, lat=lat, town=town)
            urban_no = rural_no = 0
            for i, (name, rural, weight) in enumerate(comms):
                if rural:
                    rural_no += 1
                    code = f"{sub.code}{200 + rural_no:03d}"
                else:
                    urban_no += 1
                    code = f"{sub.code}{urban_no:03d}"
                angle = 2 * math.pi * i / len(comms) + rng.random() * 0.5
                radius = 0.03 if rural else 0.007
                comm = self.node(
                    sub, name=name, kind="community", code=code, is_rural=rural, town=town + name,
                    lng=round(lng + radius * math.cos(angle), 6), lat=round(lat + radius * math.sin(angle), 6),
                )
                communities.append((comm, weight))
        weights = [w for _c, w in communities]
        households = apportion(t["households"], weights, 1)
        grids = apportion(t["grids"], weights, 1)
        compounds = apportion(t["compounds"], weights, 1)
        urban = [i for i, (comm, _w) in enumerate(communities) if not comm.is_rural]
        n_urban = sum(compounds[i] for i in urban)
        kind_counts = apportion(n_urban, [w for _k, w in URBAN_KINDS], 1 if n_urban >= len(URBAN_KINDS) else 0)
        kinds = [k for (k, _w), n in zip(URBAN_KINDS, kind_counts) for _ in range(n)]
        rng.shuffle(kinds)
        name_pos = dict.fromkeys(data.COMPOUND_NAMES, 0)
        per_comm = []
        for i, (comm, _w) in enumerate(communities):
            streets = rng.sample(data.STREETS, 4)
            mine = []
            for _ in range(compounds[i]):
                kind = kinds.pop(0) if not comm.is_rural else "rural_courtyard"
                mine.append(self.compound(comm, kind, name_pos, streets))
            per_comm.append((mine, streets))
        building_compounds = [cp for cp in self.compounds if cp.kind != "rural_courtyard"]
        n_buildings = max(len(building_compounds), t["buildings"])
        sizes = apportion(
            n_buildings, [BUILDING_WEIGHT[cp.kind] * rng.uniform(0.6, 1.4) for cp in building_compounds], 1
        )
        for cp, n in zip(building_compounds, sizes):
            for b in range(1, n + 1):
                cp.buildings.append(self.building(cp, b))
        for i, (comm, _w) in enumerate(communities):
            mine, streets = per_comm[i]
            if comm.is_rural:
                self.village(comm, grids[i], households[i], mine)
            else:
                self.urban(comm, grids[i], households[i], mine, streets)
        for cp in self.compounds:
            main = cp.grids[0] if cp.grids else cp.community
            cp.lng, cp.lat = _jitter(rng, main, 0.0008)
        self.residents()
        self.care_tags()
        self.units_plan()
        self.party()
        self.stewards()
        return Plan(root, self.nodes, self.compounds, self.buildings, self.households, self.people,
                    self.party_orgs, self.units)

    def compound(self, comm: Node, kind: str, name_pos: dict, streets: list[str]) -> CompoundP:
        rng = self.rng
        pool = data.COMPOUND_NAMES[kind]
        pos = name_pos[kind]
        name_pos[kind] += 1
        name = pool[pos % len(pool)] + ("" if pos < len(pool) else f"{pos // len(pool) + 1}区")
        years = {"old": (1982, 2005), "resettlement": (2005, 2012), "commodity": (2009, 2022),
                 "self_built": (1988, 2015), "rural_courtyard": (1965, 2005)}[kind]
        managed = {"old": 0.15, "resettlement": 0.5, "commodity": 1.0, "self_built": 0.0, "rural_courtyard": 0.0}[kind]
        cp = CompoundP(
            community=comm, name=name, kind=kind, address=self.street_address(comm, streets),
            built_year=rng.randint(*years),
            property_manager=rng.choice(data.PROPERTY_MANAGERS) if rng.random() < managed else "",
            owners_committee=rng.random() < {"commodity": 0.7, "old": 0.35, "resettlement": 0.4}.get(kind, 0.0),
            self_management=rng.random() < {"old": 0.45, "resettlement": 0.4, "self_built": 0.5,
                                            "rural_courtyard": 0.3}.get(kind, 0.05),
        )
        self.compounds.append(cp)
        return cp

    def building(self, cp: CompoundP, number: int) -> BuildingP:
        rng = self.rng
        if cp.kind == "old":
            shape = (rng.randint(4, 7), rng.randint(1, 3), 2)
        elif cp.kind == "resettlement":
            shape = (rng.choice((6, 6, 7, 7, 11)), rng.randint(2, 3), 2)
        elif cp.kind == "commodity":
            shape = (rng.randint(11, 26), rng.randint(1, 2), rng.randint(2, 4))
        else:
            shape = (rng.randint(2, 4), 1, rng.randint(1, 2))
        b = BuildingP(cp, f"{number}栋", *shape)
        self.buildings.append(b)
        return b

    def urban(self, comm: Node, n_grids: int, n_households: int, compounds: list, streets: list[str]):
        rng = self.rng
        buildings = [b for cp in compounds for b in cp.buildings]
        street = round(n_households * STREET_SHARE) if buildings else n_households
        want = apportion(n_households - street, [b.capacity for b in buildings]) if buildings else []
        for b, n in zip(buildings, want):
            b.households = min(n, b.capacity)
            street += n - b.households
        blocks = []
        while street > 0:
            n = min(street, rng.randint(6, 14))
            blocks.append(("street", n))
            street -= n
        units, per_gap = [], math.ceil(len(blocks) / max(1, len(compounds)))
        for cp in compounds:
            units += [("building", b) for b in cp.buildings]
            units += [blocks.pop(0) for _ in range(min(per_gap, len(blocks)))]
        units += blocks
        sizes = [u[1].households if u[0] == "building" else u[1] for u in units]
        for g, run in enumerate(split_contiguous(sizes, n_grids), start=1):
            grid = self.node(comm, name=f"第{data.cn_number(g)}网格", kind="grid", code=f"{comm.code}{g:02d}",
                             town=comm.town)
            grid.lng, grid.lat = _jitter(rng, comm, 0.003)
            micro_count = min(rng.randint(3, 5), max(1, len(run)))
            for m, sub in enumerate(split_contiguous([sizes[i] for i in run], micro_count), start=1):
                micro = self.node(grid, name=f"第{data.cn_number(m)}微网格", kind="micro_grid",
                                  code=f"{grid.code}{m:02d}", town=comm.town)
                micro.lng, micro.lat = _jitter(rng, grid, 0.001)
                for i in sub:
                    self.fill_unit(units[run[i]], micro, grid, comm, streets)

    def fill_unit(self, unit, micro: Node, grid: Node, comm: Node, streets: list[str]):
        rng = self.rng
        if unit[0] == "street":
            for _ in range(unit[1]):
                self.households.append(HouseholdP(node=micro, address=self.street_address(comm, streets)))
            return
        b = unit[1]
        b.node = micro
        if grid not in b.compound.grids:
            b.compound.grids.append(grid)
        flats = [(e, f, r) for e in range(1, b.entrances + 1) for f in range(1, b.floors + 1)
                 for r in range(1, b.flats_per_landing + 1)]
        for e, f, r in sorted(rng.sample(flats, b.households)):
            room = f"{f}{r:02d}"
            self.households.append(HouseholdP(
                node=micro, compound=b.compound, building=b, entrance=e, room=room,
                address=f"{comm.town}{b.compound.name}{b.name}{e}单元{room}",
            ))

    def village(self, comm: Node, n_grids: int, n_households: int, courtyards: list):
        """Village grids cover 村民小组 (N组), which are the micro-grids; addresses read 松林村3组15号."""
        rng = self.rng
        counts = [rng.randint(3, 5) for _ in range(n_grids)]
        while sum(counts) > n_households and max(counts) > 1:
            counts[counts.index(max(counts))] -= 1
        per_group = apportion(n_households, [1] * sum(counts), 1)
        group_no = 0
        groups = []
        for g, count in enumerate(counts, start=1):
            grid = self.node(comm, name=f"第{data.cn_number(g)}网格", kind="grid", code=f"{comm.code}{g:02d}",
                             is_rural=True, town=comm.town)
            grid.lng, grid.lat = _jitter(rng, comm, 0.012)
            for m in range(1, count + 1):
                group_no += 1
                micro = self.node(grid, name=f"{group_no}组", kind="micro_grid", code=f"{grid.code}{m:02d}",
                                  is_rural=True, town=comm.town)
                micro.lng, micro.lat = _jitter(rng, grid, 0.004)
                groups.append((grid, micro, group_no))
        yards = {i: [] for i in range(len(groups))}
        for j, cp in enumerate(courtyards):
            yards[j * len(groups) // max(1, len(courtyards))].append(cp)
        for gi, ((grid, micro, no), n) in enumerate(zip(groups, per_group)):
            number, members = 0, []
            for _ in range(n):
                number += rng.randint(1, 2)
                members.append(HouseholdP(node=micro, address=f"{comm.town}{no}组{number}号"))
            # Each courtyard in the group takes a run of neighbouring households; the rest live apart.
            runs = split_contiguous([1] * len(members), len(yards[gi]) + 1) if members else []
            for cp, run in zip(yards[gi], runs):
                if grid not in cp.grids:
                    cp.grids.append(grid)
                for k in run:
                    members[k].compound = cp
            self.households += members

    # --- people -------------------------------------------------------------------------------

    def residents(self):
        rng, today = self.rng, self.today
        size_of = people.Weighted(HOUSEHOLD_SIZES)
        sizes = [size_of.pick(rng) for _ in self.households]
        diff = self.t["residents"] - sum(sizes)
        while diff:
            i = rng.randrange(len(sizes))
            if diff > 0 and sizes[i] < 6:
                sizes[i], diff = sizes[i] + 1, diff - 1
            elif diff < 0 and sizes[i] > 1:
                sizes[i], diff = sizes[i] - 1, diff + 1
        for h, size in zip(self.households, sizes):
            rural = h.node.is_rural
            p_float = 0.02 if rural else (0.15 if h.compound and h.compound.kind == "commodity" else 0.08)
            floating = rng.random() < p_float
            members = people.compose(rng, size, rural=rural, floating=floating)
            for p in members:
                p.birth = people.birth_date(rng, p.age, today)
            people.name_family(rng, members, rural=rural)
            family_region = rng.choice(data.OTHER_REGIONS) if floating else data.HOME_REGION
            for p in members:
                region = family_region
                if p.relation in ("spouse", "child_in_law") and rng.random() < 0.1:
                    region = rng.choice(data.OTHER_REGIONS)
                p.id_number = people.id_number(rng, region, p.birth, p.gender, self.used_ids)
                if age_on(p.birth, today) >= 18:
                    p.phone = people.mobile(rng, self.used_phones)
                p.household = h
            h.members = members
            self.people += members

    def care_tags(self):
        rng, today = self.rng, self.today

        def since(earliest, lo=60, hi=3000):
            return max(earliest, today - dt.timedelta(days=rng.randint(lo, hi)))

        for h in self.households:
            members = h.members
            rural = h.node.is_rural
            parents = [m for m in members if m.relation in ("child", "child_in_law")]
            parents_away = bool(parents) and all(m.residency == "away" for m in parents)
            subsistence = rng.random() < (0.05 if rural else 0.025) * (2 if len(members) == 1 else 1)
            hardship = rng.random() < 0.015
            for p in members:
                age = age_on(p.birth, today)
                if age >= 80:
                    p.care.append(("advanced_age", _birthday(p.birth, 80)))
                if age >= 60 and len(members) == 1:
                    p.care.append(("elderly_alone", since(_birthday(p.birth, 60))))
                if age < 16 and p.relation == "grandchild" and parents_away:
                    p.care.append(("left_behind_child", since(p.birth, 30, 1500)))
                if subsistence:
                    p.care.append(("subsistence", since(p.birth)))
                if hardship and p.relation == "head":
                    p.care.append(("hardship", since(p.birth)))
                disabled = 0.005 if age < 18 else 0.015 if age < 60 else 0.04 if age < 80 else 0.08
                if rng.random() < disabled:
                    p.care.append(("disabled", since(p.birth, 60, 5000)))
                if p.gender == "M" and age >= 22 and rng.random() < (0.035 if 40 <= age <= 75 else 0.01):
                    p.care.append(("veteran", since(_birthday(p.birth, 21), 300, 15000)))

    # --- units and party ----------------------------------------------------------------------

    def contact(self):
        rng = self.rng
        p = Person("head", "M" if rng.random() < 0.6 else "F", rng.randint(28, 55))
        p.birth = people.birth_date(rng, p.age, self.today)
        people.name_family(rng, [p], rural=False)
        return p.name, people.mobile(rng, self.used_phones)

    def units_plan(self):
        rng, today = self.rng, self.today
        subs = [n for n in self.nodes if n.kind == "subdistrict"]
        for name in data.DEPARTMENTS:
            unit = UnitP(name, "department", *self.contact())
            unit.serves = [(s, today - dt.timedelta(days=rng.randint(200, 2000))) for s in subs]
            self.units.append(unit)
        grids = [n for n in self.nodes if n.kind == "grid"]
        pool = data.PARTNER_UNITS
        for i in range(self.t["partner_units"]):
            name = pool[i % len(pool)] + ("" if i < len(pool) else f"第{i // len(pool) + 1}分部")
            unit = UnitP(name, "partner_unit", *self.contact())
            grid = grids[i % len(grids)]
            when = today - dt.timedelta(days=rng.randint(100, 1800))
            unit.serves = [(grid.parent, when)]
            if i < len(grids) or rng.random() < 0.5:
                unit.serves.append((grid, when))
            self.units.append(unit)

    def party(self):
        rng, today = self.rng, self.today
        orgs = self.party_orgs
        branch_of_grid, branch_of_compound, group_of_building = {}, {}, {}
        for sub in (n for n in self.nodes if n.kind == "subdistrict"):
            committee = PartyOrgP(f"{sub.name}党委", "party_committee", sub)
            orgs.append(committee)
            for comm in sub.children:
                joint = PartyOrgP(f"{comm.name}大党委", "joint_party_committee", comm, parent=committee)
                orgs.append(joint)
                for grid in comm.children:
                    branch = PartyOrgP(f"{comm.name}{grid.name}党支部", "party_branch", grid, parent=joint)
                    orgs.append(branch)
                    branch_of_grid[grid] = branch
                for cp in (c for c in self.compounds if c.community is comm and c.buildings and c.grids):
                    if rng.random() < (0.8 if len(cp.buildings) >= 3 else 0.3) or not branch_of_compound:
                        branch = PartyOrgP(f"{cp.name}党支部", "party_branch", cp.grids[0], parent=joint, compound=cp)
                        orgs.append(branch)
                        branch_of_compound[cp] = branch
                        for b in cp.buildings:
                            if b.node is not None and (rng.random() < 0.35 or not group_of_building):
                                group = PartyOrgP(f"{cp.name}{b.name}党小组", "party_group", b.node, parent=branch,
                                                  compound=cp, building=b)
                                orgs.append(group)
                                group_of_building[b] = group
        # Members: adults living here, more often older and male, as in a county town's rolls.
        keyed = []
        for i, p in enumerate(self.people):
            age = age_on(p.birth, today)
            if age < 18 or p.residency == "floating":
                continue
            w = 0.5 if age <= 30 else 0.9 if age <= 45 else 1.2 if age <= 59 else 1.8 if age < 80 else 1.5
            w *= 1.8 if p.gender == "M" else 1.0
            keyed.append((rng.random() ** (1.0 / w), i))
        chosen = sorted(i for _k, i in sorted(keyed, reverse=True)[: self.t["party_members"]])
        work_units = [u.name for u in self.units]  # members in service work at a unit of this county
        for i in chosen:
            p = self.people[i]
            h = p.household
            org = (group_of_building.get(h.building) or branch_of_compound.get(h.compound)
                   or branch_of_grid[h.node.parent])
            age = age_on(p.birth, today)
            eligible = _birthday(p.birth, 18)
            member = MemberP(org, eligible + dt.timedelta(days=rng.randint(0, max(0, (today - eligible).days - 1))))
            if 22 <= age <= 59 and rng.random() < 0.45:
                member.in_service, member.work_unit = True, rng.choice(work_units)
                if rng.random() < 0.85:
                    member.dual_registered = True
                    member.dual_registered_on = max(member.joined_on, today - dt.timedelta(days=rng.randint(30, 2200)))
            p.member = member
            org.members.append(p)
        subtree = {id(o): list(o.members) for o in orgs}
        for o in reversed(orgs):  # children come after parents: fold members upwards
            if o.parent is not None:
                subtree[id(o.parent)] += subtree[id(o)]
        for o in orgs:
            pool = subtree[id(o)]
            seasoned = [p for p in pool if 35 <= age_on(p.birth, today) <= 65]
            o.secretary = rng.choice(seasoned or pool) if pool else None

    def stewards(self):
        """A building steward (楼栋长) for most buildings: a settled adult living there."""
        rng, today = self.rng, self.today
        living = {}
        for p in self.people:
            if p.household.building is not None and p.residency == "registered" and 35 <= age_on(p.birth, today) <= 75:
                living.setdefault(p.household.building, []).append(p)
        for b in self.buildings:
            if living.get(b) and rng.random() < 0.85:
                b.steward = rng.choice(living[b])


def plan_county(*, seed: int = 1, scale: float = 1.0, today: dt.date | None = None) -> Plan:
    """The whole county in memory; the same seed, scale and day give the same plan."""
    return _Planner(seed, scale, today or timezone.localdate()).run()
