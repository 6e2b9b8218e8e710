"""Two handlers accept one appeal at the same moment, on two database connections: exactly one wins,
the other is told who did."""

import threading

import pytest
from django.db import connection, connections
from django.utils import translation

from gongzhi.core.access import Role
from gongzhi.appeals import actions
from gongzhi.appeals.actions import TransitionError
from gongzhi.appeals.models import Appeal, Channel, Status

from .appeals_factories import make_categories
from .factories import build_tree, make_user


@pytest.mark.django_db(transaction=True)
def test_concurrent_accept_one_winner():
    tree = build_tree()
    cats = make_categories()
    staff = tree.users[Role.COMMUNITY_STAFF]
    workers = [tree.users[Role.GRID_WORKER], make_user("wangge2", Role.GRID_WORKER, tree.grid_a1)]
    appeal = actions.appeal_file(by=tree.users[Role.RESIDENT], category=cats["garbage"], title="路灯坏了",
                                 description="小区路灯坏了一个星期", channel=Channel.ONLINE, reporter=tree.resident_a)
    actions.appeal_dispatch(appeal=appeal, by=staff, to_node=tree.grid_a1)

    barrier = threading.Barrier(2)
    outcomes = {}

    def accept(user):
        try:
            mine = Appeal.objects.get(pk=appeal.pk)  # each thread reads it as "dispatched"
            barrier.wait(timeout=10)
            with translation.override("en"):
                actions.appeal_accept(appeal=mine, by=user)
            outcomes[user.username] = "won"
        except TransitionError as exc:
            outcomes[user.username] = str(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    winners = [name for name, result in outcomes.items() if result == "won"]
    assert len(winners) == 1, outcomes
    loser = next(name for name in outcomes if name not in winners)
    assert f"{winners[0]} already accepted" in outcomes[loser]
    appeal.refresh_from_db()
    assert appeal.status == Status.ACCEPTED and appeal.accepted_by.username == winners[0]
    assert appeal.events.filter(kind="accept").count() == 1
    assert connection.vendor in ("postgresql", "sqlite")
