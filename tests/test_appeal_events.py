"""What an action leaves for later goes in with the change: the roll-up queue row, and (database task
backend) the notification task, are written in the action's own transaction and vanish with it."""

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from gongzhi.core.access import Role
from gongzhi.appeals import actions
from gongzhi.appeals.models import Appeal, Channel, Status
from gongzhi.dashboards import rollups
from gongzhi.dashboards.models import RollupQueue

from .appeals_factories import make_categories


class Rollback(Exception):
    pass


@pytest.fixture
def filed(tree, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    cats = make_categories()
    appeal = actions.appeal_file(by=tree.users[Role.RESIDENT], category=cats["garbage"], title="垃圾没人清",
                                 description="3栋门口垃圾堆了三天没人清运", channel=Channel.ONLINE,
                                 reporter=tree.resident_a)
    rollups.catch_up()
    return appeal


def _notify_tasks():
    return DBTaskResult.objects.filter(task_path__endswith="notify_event").count()


def test_dispatch_stores_its_queue_row_and_notification_with_the_change(tree, filed):
    before = _notify_tasks()
    with transaction.atomic():
        actions.appeal_dispatch(appeal=filed, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
        # Not yet committed, already there: one commit for the change and what follows from it.
        assert list(RollupQueue.objects.values_list("appeal_id", flat=True)) == [filed.pk]
        assert _notify_tasks() == before + 1
    assert Appeal.objects.get(pk=filed.pk).status == Status.DISPATCHED


def test_a_rolled_back_action_leaves_nothing_behind(tree, filed):
    before = _notify_tasks()
    with pytest.raises(Rollback), transaction.atomic():
        actions.appeal_dispatch(appeal=filed, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
        raise Rollback  # e.g. the request failed after the action
    assert not RollupQueue.objects.exists()
    assert _notify_tasks() == before
    assert Appeal.objects.get(pk=filed.pk).status == Status.SUBMITTED
