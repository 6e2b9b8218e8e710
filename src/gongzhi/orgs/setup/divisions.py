"""China's administrative divisions down to townships (NBS 2023, shipped in ``orgs/data/divisions``).

Read once per process and kept: the four files hold some 45,000 rows (a few MB in memory). A county's
code has 6 digits, its city's the first 4, its province's the first 2; a township's has 9 digits and
starts with its county's.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "divisions"
# 乡, 镇 (民族乡 included) and the 苏木 of Inner Mongolia are rural; 街道 and the township-level 开发区,
# 农场, 办事处 ... are not.
_RURAL_ENDINGS = ("乡", "镇", "苏木")


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    parent: str  # the code of the division above ('' for a province)

    @property
    def is_rural(self) -> bool:
        """A township (乡/镇) rather than a subdistrict (街道): its communities are mostly villages."""
        return self.name.endswith(_RURAL_ENDINGS)


def _rows(name: str):
    path = DATA / name
    if name.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            yield from csv.DictReader(fh)
    else:
        with open(path, encoding="utf-8", newline="") as fh:
            yield from csv.DictReader(fh)


@dataclass(frozen=True)
class _Table:
    by_code: dict[str, Division]
    children: dict[str, list[Division]]


@lru_cache(maxsize=None)
def _table(level: str) -> _Table:
    name, parent_key = {
        "province": ("provinces.csv", None),
        "city": ("cities.csv", "provinceCode"),
        "county": ("areas.csv", "cityCode"),
        "township": ("streets.csv.gz", "areaCode"),
    }[level]
    by_code: dict[str, Division] = {}
    children: dict[str, list[Division]] = {}
    for row in _rows(name):
        d = Division(row["code"].strip(), row["name"].strip(), row[parent_key].strip() if parent_key else "")
        by_code[d.code] = d
        children.setdefault(d.parent, []).append(d)
    for items in children.values():
        items.sort(key=lambda d: d.code)
    return _Table(by_code, children)


def provinces() -> list[Division]:
    return list(_table("province").children.get("", []))


def cities(province: str) -> list[Division]:
    return list(_table("city").children.get(province, []))


def counties(city: str) -> list[Division]:
    return list(_table("county").children.get(city, []))


def townships(county: str) -> list[Division]:
    """The townships and subdistricts (9-digit codes) of a county, in code order."""
    return list(_table("township").children.get(county, []))


def province(code: str) -> Division | None:
    return _table("province").by_code.get(code)


def city(code: str) -> Division | None:
    return _table("city").by_code.get(code)


def county(code: str) -> Division | None:
    return _table("county").by_code.get(code)


def county_label(code: str) -> str:
    """"四川省 雅安市 汉源县" for a county code, '' for an unknown one."""
    c = county(code)
    if c is None:
        return ""
    parts = [province(code[:2]), city(c.parent), c]
    # "市辖区" and "省直辖县级行政区划" name no city: left out.
    return " ".join(p.name for p in parts if p is not None and p.name not in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"))
