"""One code, one person, two joins at the same moment on two database connections: one account, one link."""

import threading

import pytest
from django.db import connections
from django.test import RequestFactory

from gongzhi.accounts.actions import join as actions
from gongzhi.accounts.models import JoinAttempt, JoinRequest, User
from gongzhi.core.access import SYSTEM, Role
from gongzhi.orgs import actions as orgs_actions
from gongzhi.orgs.models import Resident

from .factories import build_tree, make_id

PASSWORD = "Hexie-2026-join"


def _race(calls):
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, kwargs):
        try:
            barrier.wait(timeout=10)
            joined = actions.join(**kwargs)
            outcomes[i] = joined.status
        except Exception as exc:  # noqa: BLE001  (what each thread got is the result)
            outcomes[i] = type(exc).__name__
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, kw)) for i, kw in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_phone", [True, False])
def test_two_joins_for_one_person_with_one_code_make_one_account(same_phone):
    tree = build_tree()
    spouse = orgs_actions.resident_create(household=tree.household_a, name="张小红", id_number=make_id("19850505"),
                                          by=SYSTEM)
    orgs_actions.resident_create(household=tree.household_a, name="张小明", id_number=make_id("20100101"), by=SYSTEM)
    _code, raw = actions.join_code_create(by=tree.users[Role.GRID_WORKER], household=tree.household_a, days=30)
    rf = RequestFactory()
    last4 = spouse.reveal_id_number()[-4:]
    calls = [dict(request=rf.post("/", REMOTE_ADDR=f"203.0.113.{i + 1}"), code=raw, name=spouse.name, id_last4=last4,
                  phone="13712345678" if same_phone else f"1371234567{i}", password=PASSWORD) for i in range(2)]
    outcomes = _race(calls)
    assert outcomes.count("active") == 1, outcomes
    spouse.refresh_from_db()
    assert spouse.user is not None
    assert User.objects.filter(username__startswith="137123456").count() == 1
    assert Resident.objects.filter(user__username__startswith="137123456").count() == 1
    assert JoinRequest.objects.filter(status="active").count() == 1
    # the other one: the phone has an account now (same phone), or it waits for the grid worker (the member
    # has an account: the same answer as any mismatch)
    other = next(o for o in outcomes if o != "active")
    assert other == ("ValidationError" if same_phone else "pending"), outcomes
    assert JoinAttempt.objects.count() == 2
