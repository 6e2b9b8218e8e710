"""Working days and hours: weekends, 国庆 and 春节 with their make-up days, the end of 2026, admin overrides."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from gongzhi.core import actions, workdays

CST = ZoneInfo("Asia/Shanghai")


def at(*args):
    return dt.datetime(*args, tzinfo=CST)


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    workdays.overrides.clear()
    yield
    workdays.overrides.clear()


def test_plain_weekend():
    assert workdays.is_workday(dt.date(2026, 11, 20))  # Friday
    assert not workdays.is_workday(dt.date(2026, 11, 21))
    # Filed on Friday afternoon with 1 working day: due Monday at closing time.
    assert workdays.add_working_days(at(2026, 11, 20, 15), 1).at == at(2026, 11, 23, 17, 30)


def test_national_day_and_make_up_saturday():
    # 2026: 1-7 October off, Saturday 10 October is a make-up working day.
    assert not workdays.is_workday(dt.date(2026, 10, 5))
    assert workdays.is_workday(dt.date(2026, 10, 10))
    due = workdays.add_working_days(at(2026, 9, 30, 10), 3)
    assert due.at == at(2026, 10, 10, 17, 30) and not due.warning


def test_spring_festival_2026():
    # 2026 春节: 15-23 February off; Saturday 14 and Saturday 28 February are working days.
    assert workdays.is_workday(dt.date(2026, 2, 14))
    assert not workdays.is_workday(dt.date(2026, 2, 16))
    assert workdays.add_working_days(at(2026, 2, 13, 9), 2).at == at(2026, 2, 24, 17, 30)


def test_working_hours_skip_lunch_night_and_holiday():
    # 2 working hours from 11:00: one before lunch, one after 13:30.
    assert workdays.add_working_hours(at(2026, 11, 20, 11), 2).at == at(2026, 11, 20, 14, 30)
    # From Friday 17:00, 2 hours run 30 min on Friday and 1.5 h on Monday.
    assert workdays.add_working_hours(at(2026, 11, 20, 17), 2).at == at(2026, 11, 23, 10, 30)
    # Filed during the National Day holiday: the clock starts on 8 October.
    assert workdays.add_working_hours(at(2026, 10, 3, 10), 2).at == at(2026, 10, 8, 11, 0)


def test_across_the_end_of_2026_computes_with_warning():
    # 2027 is not in the library: Monday to Friday is assumed, and the deadline says so.
    due = workdays.add_working_days(at(2026, 12, 30, 10), 3)
    assert due.at == at(2027, 1, 4, 17, 30)
    assert due.warning and due.unconfirmed == {2027}
    assert not workdays.year_confirmed(2027)


def test_admin_calendar_table_wins_and_confirms():
    # The admin enters a (made-up) 2027 schedule: Monday 4 January off, Saturday 9 January
    # a make-up working day, then confirms the year.
    actions.calendar_day_set(date=dt.date(2027, 1, 4), is_workday=False, name="元旦")
    actions.calendar_day_set(date=dt.date(2027, 1, 9), is_workday=True, name="元旦调休上班")
    actions.calendar_year_confirm(year=2027)
    workdays.overrides.clear()
    assert not workdays.is_workday(dt.date(2027, 1, 4))
    assert workdays.is_workday(dt.date(2027, 1, 9))
    due = workdays.add_working_days(at(2026, 12, 30, 10), 3)
    assert due.at == at(2027, 1, 5, 17, 30) and not due.warning
    # An override also wins over the library inside a known year.
    actions.calendar_day_set(date=dt.date(2026, 11, 23), is_workday=False, name="local closure")
    workdays.overrides.clear()
    assert not workdays.is_workday(dt.date(2026, 11, 23))


def test_calendar_edits_limited_to_county_admins(tree):
    from django.core.exceptions import PermissionDenied

    from gongzhi.core.access import Role

    with pytest.raises(PermissionDenied):
        actions.calendar_day_set(date=dt.date(2027, 2, 1), is_workday=False, by=tree.users[Role.COMMUNITY_STAFF])
    actions.calendar_day_set(date=dt.date(2027, 2, 1), is_workday=False, by=tree.users[Role.COUNTY_ADMIN])
