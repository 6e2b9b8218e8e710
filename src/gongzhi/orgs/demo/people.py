"""Demo people: household make-up, ages, names, ID numbers and phones, all drawn from one seeded Random."""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect
from itertools import accumulate

from gongzhi.core.pii import id_check_char

from . import data


class Weighted:
    """A fixed weighted choice, fast enough to call 20,000 times."""

    def __init__(self, pairs):
        self.values = [v for v, _w in pairs]
        self.cum = list(accumulate(w for _v, w in pairs))

    def pick(self, rng: random.Random):
        return self.values[bisect(self.cum, rng.random() * self.cum[-1])]


SURNAMES = Weighted(data.SURNAMES)
PREFIXES = Weighted(data.MOBILE_PREFIXES)
ETHNICITY = {False: Weighted(data.ETHNICITIES_URBAN), True: Weighted(data.ETHNICITIES_RURAL)}
# Ages of people living alone or as old couples: a Sichuan county town has many in their 70s and 80s.
ELDER_AGE = Weighted([((60, 69), 42), ((70, 79), 36), ((80, 89), 18), ((90, 99), 4)])


# Marks a grandchild through a daughter: the child carries her husband's family name, not the head's.
OTHER_LINE = "*other*"


class Person:
    """One resident as planned, before it becomes a row."""

    __slots__ = (
        "relation", "gender", "age", "residency", "surname", "yi", "ethnicity", "name", "birth", "id_number",
        "phone", "care", "household", "member", "obj", "member_obj",
    )

    def __init__(self, relation, gender, age, residency="registered", surname="", yi=False):
        self.relation, self.gender, self.age, self.residency = relation, gender, max(0, age), residency
        self.surname, self.yi = surname, yi
        self.ethnicity = "汉族"
        self.name = self.id_number = self.phone = ""
        self.birth = None
        self.care: list[tuple[str, dt.date | None]] = []
        self.household = None
        self.member = None
        self.obj = self.member_obj = None  # the rows, once written


def _m_or_f(rng, p_male):
    return "M" if rng.random() < p_male else "F"


def compose(rng: random.Random, size: int, *, rural: bool, floating: bool) -> list[Person]:
    """The members of one household: relations, genders, ages and who is away working elsewhere.

    Left-behind children (留守儿童) appear where the head is a grandparent and the
    parents' generation is registered here but away.
    """
    away_parents = 0.88 if rural else 0.75
    p_left = {3: 0.35 if rural else 0.18, 4: 0.45 if rural else 0.28, 5: 0.5 if rural else 0.4}.get(min(size, 5), 0)
    if floating:
        kind = {1: "single"}.get(size, "couple" if size == 2 else "nuclear")
    elif size == 1:
        kind = "elder_alone" if rng.random() < (0.7 if rural else 0.62) else "single"
    elif size == 2:
        kind = rng.choices(["elder_couple", "couple", "parent_child", "with_parent"], [45, 25, 12, 18])[0]
    else:
        kind = "left_behind" if rng.random() < p_left else ("nuclear" if rng.random() < 0.55 else "three_gen")

    def child_of(parent_age, rel="child", lo=22, hi=34, minimum=0):
        hi = max(0, min(hi, parent_age - minimum))  # no child older than the parent allows, no pile-up at 0
        age = parent_age - rng.randint(min(lo, hi), hi)
        return Person(rel, _m_or_f(rng, 0.52), max(minimum, age))

    out: list[Person] = []
    if kind == "elder_alone":
        lo, hi = ELDER_AGE.pick(rng)
        out.append(Person("head", _m_or_f(rng, 0.42), rng.randint(lo, hi)))
    elif kind == "single":
        out.append(Person("head", _m_or_f(rng, 0.56), rng.randint(20, 59)))
    elif kind == "elder_couple":
        lo, hi = ELDER_AGE.pick(rng)
        head = Person("head", "M", rng.randint(lo, hi))
        out += [head, Person("spouse", "F", max(58, head.age - rng.randint(0, 5)))]
    elif kind == "couple":
        head = Person("head", "M", rng.randint(23, 59))
        out += [head, Person("spouse", "F", max(21, head.age - rng.randint(0, 4)))]
    elif kind == "parent_child":
        head = Person("head", _m_or_f(rng, 0.4), rng.randint(32, 58))
        out += [head, child_of(head.age, lo=22, hi=32, minimum=1)]
    elif kind == "with_parent":
        head = Person("head", _m_or_f(rng, 0.6), rng.randint(30, 62))
        out += [head, Person("parent", _m_or_f(rng, 0.35), min(99, head.age + rng.randint(22, 32)))]
    elif kind == "nuclear":
        head = Person("head", "M", rng.randint(26, 52) if size <= 4 else rng.randint(34, 56))
        spouse = Person("spouse", "F", max(21, head.age - rng.randint(0, 4)))
        out += [head, spouse]
        for _ in range(size - 2):
            out.append(child_of(spouse.age, lo=21, hi=36))
    elif kind == "three_gen":
        head = Person("head", "M", rng.randint(30, 56))
        spouse = Person("spouse", "F", max(24, head.age - rng.randint(0, 4)))
        out += [head, spouse]
        elders = 1 if size <= 5 else 2
        for _ in range(size - 2 - elders):
            out.append(child_of(spouse.age, lo=21, hi=34))
        if elders == 1:
            out.append(Person("parent", _m_or_f(rng, 0.35), min(99, head.age + rng.randint(22, 32))))
        else:
            father = Person("parent", "M", min(99, head.age + rng.randint(22, 32)))
            out += [father, Person("parent", "F", max(father.age - 4, head.age + 20))]
    else:  # left_behind: grandparent(s) head, the parents' generation, grandchildren
        head = Person("head", _m_or_f(rng, 0.72), rng.randint(50, 74))
        out.append(head)
        room = size - 1
        if size >= 4:
            out.append(Person("spouse", "F" if head.gender == "M" else "M", max(48, head.age - rng.randint(-3, 4))))
            room -= 1
        son_line = rng.random() < 0.75  # the away parent is the head's son (grandchildren carry the head's name)
        parent = Person("child", "M" if son_line else "F", head.age - rng.randint(22, 30))
        parent.age = max(20, parent.age)
        away = rng.random() < away_parents
        parent.residency = "away" if away else "registered"
        out.append(parent)
        room -= 1
        if room >= 2 and size >= 5:
            inlaw = Person("child_in_law", "F" if son_line else "M", max(20, parent.age - rng.randint(-3, 4)))
            inlaw.residency = parent.residency
            out.append(inlaw)
            room -= 1
        for _ in range(max(1, room)):
            kid = Person("grandchild", _m_or_f(rng, 0.52), rng.randint(0, min(15, max(0, parent.age - 20))))
            kid.surname = "" if son_line else OTHER_LINE
            out.append(kid)
    # Grown children often work or study elsewhere.
    for p in out:
        if p.relation == "child" and 18 <= p.age <= 40 and p.residency == "registered" and rng.random() < 0.3:
            p.residency = "away"
        if floating:
            p.residency = "floating"
    return out


def _period(year: int) -> str:
    if year < 1960:
        return "old"
    if year < 1985:
        return "mid"
    if year < 2005:
        return "young"
    return "child"


def given_name(rng: random.Random, gender: str, year: int) -> str:
    pool = data.GIVEN[(_period(year), gender)]
    r = rng.random()
    if r < 0.15:
        return rng.choice(pool["single"])
    if r < 0.6:
        return rng.choice(pool["whole"])
    first, second = rng.choice(pool["first"]), rng.choice(pool["second"])
    return first + (second if second != first else rng.choice(pool["single"]))


def name_family(rng: random.Random, members: list[Person], *, rural: bool) -> None:
    """Names and ethnicity (birth dates must be set): blood relatives share the family name, spouses keep theirs.

    The family line is the head's, or her husband's when the head is a married woman.
    """
    ethnicity = ETHNICITY[rural].pick(rng)
    yi_style = ethnicity == "彝族" and rng.random() < 0.5

    def surname(yi):
        return rng.choice(data.YI_SURNAMES) if yi else SURNAMES.pick(rng)

    husband = next((m for m in members if m.relation == "spouse" and m.gender == "M"), None)
    line = surname(yi_style)
    head_name = line if husband is None else surname(yi_style)
    other_line = SURNAMES.pick(rng)  # a married daughter's husband's line
    for p in members:
        if p.relation == "head":
            p.surname, blood = head_name, True
        elif p.relation == "spouse":
            blood = p is husband
            p.surname = line if blood else surname(yi_style and rng.random() < 0.85)
        elif p.relation in ("child", "sibling"):
            p.surname, blood = line, True
        elif p.relation == "grandchild":
            blood = p.surname != OTHER_LINE
            p.surname = line if blood else other_line
        elif p.relation == "parent" and p.gender == "M":
            p.surname, blood = head_name, True
        else:
            p.surname, blood = surname(yi_style and rng.random() < 0.85), False
        p.ethnicity = ethnicity if (blood or rng.random() < 0.85) else "汉族"
        p.yi = yi_style and p.ethnicity == "彝族" and len(p.surname) == 2
        if p.yi:
            p.name = p.surname + rng.choice(data.YI_GIVEN[p.gender])
        else:
            p.name = p.surname + given_name(rng, p.gender, p.birth.year)


def birth_date(rng: random.Random, age: int, today: dt.date) -> dt.date:
    """A birth date giving exactly ``age`` full years on ``today``."""
    try:
        latest = today.replace(year=today.year - age)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year - age, day=28)
    return latest - dt.timedelta(days=rng.randint(0, 364))


def id_number(rng: random.Random, region: str, birth: dt.date, gender: str, used: set) -> str:
    """A GB 11643 number: region, birth date, a sequence whose last digit is odd for men, check character."""
    while True:
        seq = rng.randint(0, 99) * 10 + rng.choice((1, 3, 5, 7, 9) if gender == "M" else (0, 2, 4, 6, 8))
        first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
        number = first17 + id_check_char(first17)
        if number not in used:
            used.add(number)
            return number


def mobile(rng: random.Random, used: set) -> str:
    while True:
        number = PREFIXES.pick(rng) + f"{rng.randint(0, 99_999_999):08d}"
        if number not in used:
            used.add(number)
            return number


def age_on(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
