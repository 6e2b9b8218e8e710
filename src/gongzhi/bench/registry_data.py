"""Build a large registry fast for benchmarks: the demo tree's shape scaled up to N residents.

Rows go in with PostgreSQL COPY (bulk_create on SQLite). Values are real: valid ID numbers,
AES-GCM ciphertexts, keyed hashes and masks made by the same helpers the product uses.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from functools import lru_cache

from django.db import connection, transaction

from gongzhi.core.pii import blind_index, encrypt, id_check_char, mask_id_number, mask_phone
from gongzhi.orgs.actions import name_initials
from gongzhi.orgs.models import CareTag, Household, NodeKind, OrgNode, Resident

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国玉兰文辉红梅林波斌宇浩凯鹏飞志刚晓燕丹琳"
STEP = OrgNode.steplen
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _step(i: int) -> str:
    out = ""
    while i:
        i, r = divmod(i, 36)
        out = _ALPHABET[r] + out
    return out.rjust(STEP, "0")


def _root_index(step: str) -> int:
    return int(step, 36)


@lru_cache(maxsize=100_000)
def _initials(name: str) -> str:
    return name_initials(name)


def _copy(model, columns: list[str], rows) -> None:
    """COPY rows into the model's table (PostgreSQL) or bulk insert them (SQLite)."""
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({', '.join(connection.ops.quote_name(c) for c in columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        batch = []
        for row in rows:
            batch.append(model(**dict(zip(columns, row))))
            if len(batch) >= 5000:
                model.objects.bulk_create(batch)
                batch.clear()
        if batch:
            model.objects.bulk_create(batch)


def _residency(resident_id: int) -> str:
    """Three in twenty residents floating (流动人口), one away (外出), the rest registered: a county seat's mix."""
    return {1: "floating", 2: "floating", 3: "floating", 4: "away"}.get(resident_id % 20, "registered")


def build(*, residents: int = 1_000_000, seed: int = 7, log=print) -> dict:
    """A county with 10 subdistricts, 10 communities each, 10 grids each, 4 micro-grids each, and
    ``residents`` people in households of 2-3 spread evenly over the micro-grids."""
    rng = random.Random(seed)
    t0 = time.perf_counter()
    micro_count = 10 * 10 * 10 * 4
    per_micro = max(1, residents // micro_count)
    with transaction.atomic():
        last_root = OrgNode.objects.filter(depth=1).order_by("-path").values_list("path", flat=True).first()
        root = _step(_root_index(last_root) + 1 if last_root else 1)
        nodes = [OrgNode(path=root, depth=1, numchild=10, name="基准县", kind=NodeKind.COUNTY, code="BENCH")]
        micro_paths, labels = [], {}
        for s in range(1, 11):
            sp = root + _step(s)
            nodes.append(OrgNode(path=sp, depth=2, numchild=10, name=f"第{s}镇", kind=NodeKind.SUBDISTRICT))
            for c in range(1, 11):
                cp = sp + _step(c)
                nodes.append(OrgNode(path=cp, depth=3, numchild=10, name=f"第{s}镇第{c}社区", kind=NodeKind.COMMUNITY))
                for g in range(1, 11):
                    gp = cp + _step(g)
                    nodes.append(OrgNode(path=gp, depth=4, numchild=4, name=f"第{c}社区第{g}网格", kind=NodeKind.GRID,
                                         code=f"B{s:02d}{c:02d}{g:02d}"))
                    for m in range(1, 5):
                        mp = gp + _step(m)
                        nodes.append(OrgNode(path=mp, depth=5, numchild=0, name=f"第{g}网格第{m}微网格",
                                             kind=NodeKind.MICRO_GRID, code=f"B{s:02d}{c:02d}{g:02d}{m}"))
                        micro_paths.append(mp)
                        labels[mp] = f"基准县{s}镇{c}社区{g}网格{m}区"
        OrgNode.objects.bulk_create(nodes, batch_size=2000)
        ids = dict(OrgNode.objects.filter(path__in=micro_paths).values_list("path", "id"))
        grid_ids = dict(OrgNode.objects.filter(depth=4, path__startswith=root).values_list("path", "id"))
        log(f"tree: {len(nodes)} nodes in {time.perf_counter() - t0:.1f}s")

        hh_start = (Household.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        res_start = (Resident.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        now = dt.datetime.now(dt.timezone.utc)
        base_day = dt.date(1930, 1, 1)
        households, people, tags = [], [], []
        hh_id, res_id, serial = hh_start, res_start, 0
        for mp in micro_paths:
            micro_id, grid_id = ids[mp], grid_ids[mp[: 4 * STEP]]
            left = per_micro
            house = 0
            while left > 0:
                size = min(left, rng.choice((2, 2, 3, 3, 1, 4)))
                house += 1
                households.append((hh_id, grid_id, micro_id, mp, f"{labels[mp]}{house}号", "", now, now))
                for k in range(size):
                    serial += 1
                    birth = base_day + dt.timedelta(days=serial % 32000)
                    order = f"{(serial // 32000) % 1000:03d}"
                    first17 = "511823" + birth.strftime("%Y%m%d") + order
                    number = first17 + id_check_char(first17)
                    phone = f"13{serial % 1_000_000_000:09d}"
                    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
                    gender = "M" if int(order[2]) % 2 else "F"
                    people.append((
                        res_id, hh_id, mp, grid_id, name, _initials(name), gender, birth,
                        encrypt(number), blind_index("id", number), mask_id_number(number),
                        encrypt(phone), blind_index("phone", phone), mask_phone(phone),
                        "head" if k == 0 else "other", _residency(res_id), "汉族", False, now, now,
                    ))
                    age = 2026 - birth.year
                    if age >= 80:
                        tags.append((res_id, "advanced_age", mp, ""))
                    elif rng.random() < 0.03:
                        tags.append((res_id, rng.choice(("subsistence", "disabled", "hardship", "veteran")), mp, ""))
                    res_id += 1
                hh_id += 1
                left -= size
        log(f"rows prepared: {len(households)} households, {len(people)} residents in {time.perf_counter() - t0:.1f}s")
        _copy(Household, ["id", "grid_id", "micro_grid_id", "org_path", "address", "room", "created_at", "updated_at"], households)
        _copy(Resident, [
            "id", "household_id", "org_path", "grid_id", "name", "name_initials", "gender", "birth_date",
            "id_number_enc", "id_number_hash", "id_number_masked", "phone_enc", "phone_hash", "phone_masked",
            "relation", "residency", "ethnicity", "is_party_member", "created_at", "updated_at",
        ], people)
        _copy(CareTag, ["resident_id", "group", "org_path", "note"], tags)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (Household, Resident):
                    table = model._meta.db_table
                    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    log(f"registry built in {time.perf_counter() - t0:.1f}s")
    return {"nodes": len(nodes), "households": len(households), "residents": len(people), "care_tags": len(tags)}
