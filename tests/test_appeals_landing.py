"""Where the staff land on their appeal work: the queue page opens on a queue with work they can act on,
and the grid worker's phone home says how many appeals wait for him, with a link to them."""

import pytest
from django.urls import reverse

from gongzhi.appeals import actions
from gongzhi.appeals.models import Channel
from gongzhi.core.access import Role

from .appeals_factories import make_categories


@pytest.fixture
def cats(db):
    return make_categories()


def _file(tree, cats, **kw):
    args = dict(by=tree.users[Role.RESIDENT], category=cats["garbage"], title="垃圾没人清",
                description="3栋门口垃圾堆了三天没人清运", channel=Channel.ONLINE, reporter=tree.resident_a)
    args.update(kw)
    return actions.appeal_file(**args)


def test_queue_opens_on_the_first_queue_with_work(client, tree, cats):
    worker = tree.users[Role.GRID_WORKER]
    client.force_login(worker)
    # Nothing to do anywhere: the first queue he may act on.
    assert client.get(reverse("appeals:queues")).url == reverse("appeals:queue", args=["dispatch"])

    sent = _file(tree, cats)
    actions.appeal_dispatch(appeal=sent, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    # His dispatch queue is empty, his work waits to be handled: that is where he lands.
    assert client.get(reverse("appeals:queue", args=["dispatch"])).context["page"]["rows"] == []
    assert client.get(reverse("appeals:queues")).url == reverse("appeals:queue", args=["handle"])

    # The community's staff have one to check now: their first queue with work.
    actions.appeal_accept(appeal=sent, by=worker)
    actions.appeal_resolve(appeal=sent, by=worker, result="已清运")
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    assert client.get(reverse("appeals:queues")).url == reverse("appeals:queue", args=["verify"])


def test_grid_worker_phone_home_shows_the_appeals_waiting_for_him(client, tree, cats):
    client.force_login(tree.users[Role.GRID_WORKER])
    body = client.get(reverse("orgs:mobile")).content.decode()
    assert 'data-testid="m-appeals-waiting"' in body and "暂无待我办理的诉求" in body

    for title in ("垃圾没人清", "路灯不亮"):
        sent = _file(tree, cats, title=title)
        actions.appeal_dispatch(appeal=sent, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    _file(tree, cats, title="别的网格", reporter=tree.resident_b, by=tree.users[Role.COUNTY_ADMIN])
    body = client.get(reverse("orgs:mobile")).content.decode()
    assert "2 件诉求待我办理" in body
    assert f'href="{reverse("appeals:queues")}"' in body


def test_phone_home_without_appeal_work_shows_no_appeals_card(client, tree):
    client.force_login(tree.users[Role.BUILDING_STEWARD])  # sees the registry, acts on no appeal queue
    response = client.get(reverse("orgs:mobile"))
    assert response.status_code == 200
    assert 'data-testid="m-appeals-waiting"' not in response.content.decode()
