"""A masked ID number cannot be rebuilt from what is shown beside it (docs/adr/0002, "What a mask may show").

GB 11643: 6 characters of region, 8 of birth date, 3 of sequence (odd for a man), 1 check character. Whoever
sees the resident list, the resident page and the API answer without the right to reveal (a building steward)
learns the region (worst case: the county's own code), the gender, the age and whatever the pages print; the
numbers that fit all of it must be at least 10,000 for every resident. And the stored masks of an existing
database are recomputed by a data migration."""

import datetime as dt
import importlib
import re
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from gongzhi.core.access import SYSTEM
from gongzhi.core.access import Role
from gongzhi.core.models import AuditEvent
from gongzhi.core.pii import encrypt, id_check_char, mask_id_number
from gongzhi.orgs import actions
from gongzhi.orgs.models import Resident

from .factories import make_id, make_user

MIN_CANDIDATES = 10_000


def age_on(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _dates_of_age(age: int, today: dt.date) -> list[dt.date]:
    """Every birth date that gives ``age`` whole years today (365 or 366 of them)."""
    start = today.replace(year=today.year - age - 2, month=1, day=1)
    days = [start + dt.timedelta(days=i) for i in range(366 * 3 + 2)]
    return [d for d in days if age_on(d, today) == age]


def _shown_dates(born: dt.date, texts: list[str]) -> dict:
    """What of the birth date the texts give away: the whole date in any usual spelling, the year, the month
    and day. (Counted only when it is the resident's own: another year on the page tells an onlooker nothing.)"""
    text = "\n".join(texts)
    whole = [f"{born:%Y-%m-%d}", f"{born:%Y/%m/%d}", f"{born:%Y%m%d}", f"{born.year}年{born.month}月{born.day}日",
             f"{born:%Y.%m.%d}"]
    month_day = [f"{born:%m-%d}", f"{born.month}月{born.day}日", f"{born:%m%d}"]
    return {
        "date": any(w in text for w in whole),
        "year": re.search(rf"(?<!\d){born.year}(?!\d)", text) is not None,
        "month_day": any(re.search(rf"(?<!\d){re.escape(m)}(?!\d)", text) for m in month_day),
    }


def candidates(number: str, *, mask: str, gender: str, age: int, shown: dict, today: dt.date) -> int:
    """How many 18-character numbers fit: the resident's region (as if known), a birth date of that age (and year,
    month and day where shown), a sequence of the gender's parity, and every character the mask shows."""
    born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    dates = [born] if shown["date"] else _dates_of_age(age, today)
    if shown["year"]:
        dates = [d for d in dates if d.year == born.year]
    if shown["month_day"]:
        dates = [d for d in dates if (d.month, d.day) == (born.month, born.day)]
    region = number[:6]
    assert all(m in ("*", c) for m, c in zip(mask[:6], region)), "the mask shows another region"
    dates = [d for d in dates if all(m in ("*", c) for m, c in zip(mask[6:14], f"{d:%Y%m%d}"))]
    odd = gender == "M"
    seqs = [f"{s:03d}" for s in range(1000) if (s % 2 == 1) == odd
            and all(m in ("*", c) for m, c in zip(mask[14:17], f"{s:03d}"))]
    if mask[17] == "*":
        return len(dates) * len(seqs)
    return sum(1 for d in dates for s in seqs if id_check_char(f"{region}{d:%Y%m%d}{s}") == mask[17])


@pytest.fixture
def people(tree):
    """The tree's residents and a few more born on days that make a birth year tell the most (1 January,
    31 December) or in a leap year."""
    today = timezone.localdate()
    extra = [
        ("赵一", dt.date(today.year - 30, 1, 1), True),
        ("钱二", dt.date(today.year - 45, 12, 31), False),
        ("孙三", dt.date(1988, 2, 29), False),
        ("李四", today.replace(year=today.year - 60) - dt.timedelta(days=1), True),
    ]
    for name, born, male in extra:
        actions.resident_create(household=tree.household_a2, name=name, id_number=make_id(f"{born:%Y%m%d}", male=male),
                                phone="13900003333", by=SYSTEM)
    return list(Resident.objects.order_by("pk"))


def _row(html: str, pk: int) -> str:
    href = reverse("orgs:resident", args=[pk])
    rows = [r for r in re.findall(r"<tr>.*?</tr>", html, re.S) if f'href="{href}"' in r]
    assert len(rows) == 1, f"resident {pk} listed once"
    return rows[0]


def test_no_masked_id_number_can_be_rebuilt_from_what_a_viewer_without_reveal_sees(tree, people, client):
    steward = make_user("louzhang-county", Role.BUILDING_STEWARD, tree.county)  # registry.view, no pii.reveal
    client.force_login(steward)
    today = timezone.localdate()
    listing = client.get(reverse("orgs:residents")).content.decode()
    for r in people:
        number = r.reveal_id_number()
        page = client.get(reverse("orgs:resident", args=[r.pk])).content.decode()
        props = re.search(r'data-testid="resident-props">(.*?)</dl>', page, re.S).group(1)
        api = client.get(f"/api/v1/residents/{r.pk}")
        assert api.status_code == 200
        detail = api.json()
        row = _row(listing, r.pk)
        mask = detail["id_number"]
        assert mask in row and mask in props and mask == r.id_number_masked
        assert str(detail["age"]) in row and str(detail["age"]) in props
        shown = _shown_dates(r.birth_date, [row, props, api.content.decode()])
        count = candidates(number, mask=mask, gender=detail["gender"], age=detail["age"], shown=shown, today=today)
        assert count >= MIN_CANDIDATES, f"{r.name}: {count} numbers fit what is shown ({shown}, mask {mask})"
        assert detail["birth_date"] is None


def test_the_birth_date_is_for_those_who_may_reveal(tree, client):
    r = tree.resident_a
    worker = tree.users[Role.GRID_WORKER]  # pii.reveal over the resident
    client.force_login(worker)
    assert client.get(f"/api/v1/residents/{r.pk}").json()["birth_date"] == "1940-03-15"
    page = client.get(reverse("orgs:resident", args=[r.pk])).content.decode()
    assert "1940-03-15" in page
    client.force_login(make_user("louzhang-county", Role.BUILDING_STEWARD, tree.county))
    assert client.get(f"/api/v1/residents/{r.pk}").json()["birth_date"] is None
    members = client.get(f"/api/v1/households/{tree.household_a.pk}").json()["members"]
    assert [m["birth_date"] for m in members] == [None]
    page = client.get(reverse("orgs:resident", args=[r.pk])).content.decode()
    assert "1940" not in page and 'data-testid="birth-date"' not in page


# --- the data migration ------------------------------------------------------------------------------------


def _migration(app: str, name: str):
    return importlib.import_module(f"gongzhi.{app}.migrations.{name}")


def test_data_migration_recomputes_stored_masks(tree):
    old_style = {}
    for r in Resident.objects.all():
        number = r.reveal_id_number()
        old_style[r.pk] = number[:4] + "*" * 10 + number[-4:]
        Resident.objects.filter(pk=r.pk).update(id_number_masked=old_style[r.pk], phone_masked="")
    # An audit row from before: the masked number as the old mask showed it, alone and as an [old, new] pair.
    number = tree.resident_a.reveal_id_number()
    created = AuditEvent.objects.create(action="resident.create", object_type="orgs.resident",
                                        changes={"name": "张建国", "id_number": old_style[tree.resident_a.pk]})
    updated = AuditEvent.objects.create(action="resident.update", object_type="orgs.resident",
                                        changes={"id_number": ["", old_style[tree.resident_a.pk]], "phone": ["", ""]})

    editor = SimpleNamespace(connection=connection)  # all the functions use of it
    _migration("orgs", "0007_id_number_masks").recompute_masks(apps, editor)
    _migration("core", "0005_audit_id_number_masks").remask_audit(apps, editor)

    for r in Resident.objects.all():
        full = r.reveal_id_number()
        assert r.id_number_masked == mask_id_number(full) == full[:4] + "*" * 14
        assert r.id_number_masked != old_style[r.pk]
    assert Resident.objects.get(pk=tree.resident_a.pk).phone_masked == "138****1111"
    assert Resident.objects.get(pk=tree.resident_b.pk).phone_masked == ""  # no phone
    created.refresh_from_db()
    updated.refresh_from_db()
    assert created.changes == {"name": "张建国", "id_number": number[:4] + "*" * 14}
    assert updated.changes == {"id_number": ["", number[:4] + "*" * 14], "phone": ["", ""]}
    assert number[-4:] not in str(created.changes) + str(updated.changes)


def test_data_migration_works_through_batches(tree, monkeypatch):
    module = _migration("orgs", "0007_id_number_masks")
    monkeypatch.setattr(module, "BATCH", 2)
    for r in Resident.objects.all():
        Resident.objects.filter(pk=r.pk).update(id_number_masked="x")
    Resident.objects.create(household=tree.household_b, org_path=tree.household_b.org_path, grid=tree.grid_b1,
                            name="周五", gender="F", birth_date=dt.date(1970, 5, 5),
                            id_number_enc=encrypt(make_id("19700505", male=False)), id_number_masked="x")
    module.recompute_masks(apps, SimpleNamespace(connection=connection))
    assert not Resident.objects.filter(id_number_masked="x").exists()
    assert Resident.objects.filter(id_number_masked__endswith="*" * 14).count() == Resident.objects.count()


def test_new_records_and_audit_rows_use_the_new_mask(tree):
    number = make_id("19660606")
    r = actions.resident_create(household=tree.household_a, name="吴六", id_number=number, by=SYSTEM)
    assert r.id_number_masked == number[:4] + "*" * 14
    event = AuditEvent.objects.get(action="resident.create", object_id=str(r.pk))
    assert event.changes["id_number"] == number[:4] + "*" * 14
