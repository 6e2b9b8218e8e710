"""Notifications: who gets which in-app notice, the robots' exact message shapes and signatures against a
local receiver, retries with backoff when a vendor refuses, no second sending, e-mail, and the pages."""

import base64
import datetime as dt
import hashlib
import hmac
import time

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from gongzhi.core.access import Role
from gongzhi.accounts.models import User
from gongzhi.core.access import Role
from gongzhi.appeals import actions as appeals
from gongzhi.appeals import policies
from gongzhi.appeals.models import AppealFollower, Channel
from gongzhi.core.models import AuditEvent
from gongzhi.notify import actions, tasks
from gongzhi.notify.models import Delivery, Notice, WebhookEndpoint

from .appeals_factories import make_categories
from .factories import make_user
from .notify_helpers import immediate, receiver  # noqa: F401 (fixtures)

SECRET = "SEC-test-secret-123"


@pytest.fixture
def cats(db):
    return make_categories()


def file(tree, cats, **kw):
    args = dict(by=tree.users[Role.RESIDENT], category=cats["garbage"], title="垃圾没人清",
                description="3栋门口垃圾堆了三天没人清运", channel=Channel.ONLINE, reporter=tree.resident_a)
    args.update(kw)
    return appeals.appeal_file(**args)


def told(kind, appeal=None) -> set[str]:
    qs = Notice.objects.filter(kind=kind)
    if appeal is not None:
        qs = qs.filter(appeal=appeal)
    return set(qs.values_list("user__username", flat=True))


def robot(tree, receiver, kind, **kw):
    paths = {"wecom": "/cgi-bin/webhook/send?key=wecom-key", "dingtalk": "/robot/send?access_token=ding-token",
             "feishu": "/open-apis/bot/v2/hook/feishu-hook"}
    return actions.endpoint_save(
        by=tree.users[Role.COUNTY_ADMIN], name=f"{kind} 群", kind=kind, url=receiver.url(paths[kind]),
        secret="" if kind == "wecom" else SECRET, node=kw.pop("node", tree.comm_a), **kw,
    )


def dispatched(tree, cats, capture, **kw):
    with capture(execute=True):
        appeal = file(tree, cats)
        appeals.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_node=kw.get("to_node", tree.grid_a1),
                                to_unit=kw.get("to_unit"))
    return appeal


# --- robots ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu"])
def test_robot_message_shape_and_signature(tree, cats, immediate, receiver, django_capture_on_commit_callbacks, kind):
    endpoint = robot(tree, receiver, kind)
    before = time.time()
    appeal = dispatched(tree, cats, django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    req = receiver.requests[0]
    body = req["json"]
    assert req["content_type"].startswith("application/json")
    link = f"http://gongzhi.test/appeals/{appeal.pk}/"
    if kind == "wecom":
        assert req["path"] == "/cgi-bin/webhook/send" and req["query"] == {"key": ["wecom-key"]}
        assert set(body) == {"msgtype", "markdown"} and body["msgtype"] == "markdown"
        assert set(body["markdown"]) == {"content"}
        text = body["markdown"]["content"]
        assert len(text.encode()) <= 4096
    elif kind == "dingtalk":
        assert req["path"] == "/robot/send"
        assert set(req["query"]) == {"access_token", "timestamp", "sign"}
        assert req["query"]["access_token"] == ["ding-token"]
        ts = req["query"]["timestamp"][0]
        assert before * 1000 - 1000 <= int(ts) <= time.time() * 1000 + 1000  # milliseconds
        expected = base64.b64encode(hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest())
        assert req["query"]["sign"] == [expected.decode()]  # parse_qs undid the url-encoding
        assert set(body) == {"msgtype", "markdown"} and body["msgtype"] == "markdown"
        assert set(body["markdown"]) == {"title", "text"}
        assert appeal.number in body["markdown"]["title"]
        text = body["markdown"]["text"]
    else:
        assert req["path"] == "/open-apis/bot/v2/hook/feishu-hook" and req["query"] == {}
        assert set(body) == {"timestamp", "sign", "msg_type", "content"} and body["msg_type"] == "post"
        ts = body["timestamp"]
        assert before - 1 <= int(ts) <= time.time() + 1  # seconds
        expected = base64.b64encode(hmac.new(f"{ts}\n{SECRET}".encode(), b"", hashlib.sha256).digest()).decode()
        assert body["sign"] == expected
        post = body["content"]["post"]["zh_cn"]
        assert set(post) == {"title", "content"} and appeal.number in post["title"]
        assert [{"tag": "a", "text": "Open the appeal", "href": link}] in post["content"]
        text = "\n".join(part["text"] for line in post["content"] for part in line)
    for fact in (appeal.number, appeal.title, "富林镇城东社区第一网格第一微网格", "垃圾清运",
                 timezone.localtime(appeal.resolve_due).strftime("%Y-%m-%d %H:%M")):
        assert fact in text
    if kind != "feishu":
        assert f"[Open the appeal]({link})" in text
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 1 and delivery.sent_at

    # A second run of the same jobs sends nothing again.
    assert tasks.send_delivery.call(delivery.pk) == "skipped"
    event = appeal.events.get(kind="dispatch")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.notify_event.enqueue(event.pk)
    assert len(receiver.requests) == 1
    assert Delivery.objects.count() == 1 and Notice.objects.filter(kind="dispatch").count() == 1


@pytest.mark.parametrize("kind, refusal, words", [
    ("wecom", {"errcode": 93000, "errmsg": "invalid webhook url"}, "93000"),
    ("dingtalk", {"errcode": 310000, "errmsg": "sign not match"}, "310000"),
    ("feishu", {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}, "19021"),
])
def test_error_in_body_is_retried_with_backoff(tree, cats, immediate, receiver, django_capture_on_commit_callbacks,
                                               kind, refusal, words):
    robot(tree, receiver, kind)
    receiver.answers = [(200, refusal), (500, "busy")]
    dispatched(tree, cats, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 1
    assert words in delivery.last_error
    first_try = delivery.next_attempt_at - dt.timedelta(minutes=1)
    assert abs((first_try - timezone.now()).total_seconds()) < 30  # retried a minute later

    # Not due yet: the retry job leaves it alone.
    assert tasks.send_due_deliveries.call() == {}
    assert len(receiver.requests) == 1
    # Due: the HTTP 500 is a failure too, and the next wait is longer.
    later = delivery.next_attempt_at + dt.timedelta(seconds=1)
    assert actions.delivery_send(delivery_id=delivery.pk, now=later) == "retry"
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and "HTTP 500" in delivery.last_error
    assert delivery.next_attempt_at - later == dt.timedelta(minutes=5)
    # Then the robot takes it, once.
    again = delivery.next_attempt_at
    assert actions.delivery_send(delivery_id=delivery.pk, now=again) == "sent"
    assert actions.delivery_send(delivery_id=delivery.pk, now=again + dt.timedelta(hours=1)) == "skipped"
    assert len(receiver.requests) == 3
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.last_error == ""


def test_gives_up_after_five_attempts(tree, cats, immediate, receiver, django_capture_on_commit_callbacks):
    robot(tree, receiver, "wecom")
    receiver.answers = [(200, {"errcode": 45009, "errmsg": "api freq out of limit"})] * 6
    dispatched(tree, cats, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    now = timezone.now()
    for _ in range(4):
        now = Delivery.objects.get().next_attempt_at
        actions.delivery_send(delivery_id=delivery.pk, now=now)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == actions.MAX_ATTEMPTS
    assert actions.delivery_send(delivery_id=delivery.pk, now=now + dt.timedelta(days=1)) == "skipped"
    assert len(receiver.requests) == actions.MAX_ATTEMPTS


def test_unreachable_robot_is_a_failure(tree, cats, immediate, receiver, django_capture_on_commit_callbacks):
    endpoint = robot(tree, receiver, "wecom")
    receiver.server.shutdown()
    receiver.server.server_close()
    dispatched(tree, cats, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 1 and delivery.last_error


def test_robots_only_for_their_area_unit_and_events(tree, cats, immediate, receiver, django_capture_on_commit_callbacks):
    here = robot(tree, receiver, "wecom")
    robot(tree, receiver, "wecom", node=tree.comm_b)  # another community
    robot(tree, receiver, "wecom", on_dispatch=False)  # does not want dispatches
    robot(tree, receiver, "wecom", unit=tree.department)  # only the department's appeals
    robot(tree, receiver, "wecom", is_active=False)
    dispatched(tree, cats, django_capture_on_commit_callbacks)
    assert list(Delivery.objects.values_list("endpoint", flat=True)) == [here.pk]


# --- who is told -----------------------------------------------------------------------------------


def test_who_gets_which_notice(tree, cats, immediate, django_capture_on_commit_callbacks):
    users = tree.users
    capture = django_capture_on_commit_callbacks
    appeal = dispatched(tree, cats, capture)
    assert told("dispatch") == {"wangge"}  # the grid's worker; not the dispatcher, not the levels above
    notice = Notice.objects.get(kind="dispatch")
    assert notice.url == f"/appeals/{appeal.pk}/" and appeal.number in notice.title and notice.read_at is None

    with capture(execute=True):
        appeals.appeal_return(appeal=appeal, by=users[Role.GRID_WORKER], reason="不属于本网格")
    assert told("return") == {"shequ"}  # the first receiver's dispatchers
    assert "不属于本网格" in Notice.objects.get(kind="return").body

    with capture(execute=True):
        appeals.appeal_dispatch(appeal=appeal, by=users[Role.COMMUNITY_STAFF], to_unit=tree.department)
        appeals.appeal_supervise(appeal=appeal, by=users[Role.SUBDISTRICT_STAFF], note="请加快办理")
    assert told("dispatch", appeal) == {"wangge", "bumen"}  # the unit's handler this time
    assert told("supervise") == {"bumen", "admin"}  # the unit's handlers and its supervisors (county)

    other = dispatched(tree, cats, capture)
    with capture(execute=True):
        appeals.appeal_supervise(appeal=other, by=users[Role.COUNTY_ADMIN], note="督办")
    assert told("supervise", other) == {"wangge", "shequ"}  # a grid's supervisors: its community's staff


def test_unit_roles_are_told_only_of_their_units_appeals(tree, cats, immediate, django_capture_on_commit_callbacks):
    # The partner contact (gongjian) and the department handler (bumen) hold their roles at 城东社区: that
    # makes them handlers of their unit's appeals, not of what is dispatched to the community or its grids.
    def dispatch(**to):
        with django_capture_on_commit_callbacks(execute=True):
            appeal = file(tree, cats)  # dispatched by the subdistrict, so the community's staff are told too
            appeals.appeal_dispatch(appeal=appeal, by=tree.users[Role.SUBDISTRICT_STAFF], **to)
        return appeal

    to_community = dispatch(to_node=tree.comm_a)
    to_bare_grid = dispatch(to_node=tree.grid_a2)  # no grid worker there: the community's handlers
    to_partner = dispatch(to_unit=tree.partner)
    to_department = dispatch(to_unit=tree.department)
    assert told("dispatch", to_community) == {"shequ"}
    assert told("dispatch", to_bare_grid) == {"shequ"}
    assert told("dispatch", to_partner) == {"gongjian"}
    assert told("dispatch", to_department) == {"bumen"}
    for appeal in (to_community, to_bare_grid, to_partner, to_department):  # told only who may handle it
        for notice in Notice.objects.filter(kind="dispatch", appeal=appeal).select_related("user"):
            assert policies.can_handle(notice.user, appeal), (notice.user.username, appeal.handler_path)


def test_outcome_told_to_reporter_and_merged_followers(tree, cats, immediate, django_capture_on_commit_callbacks):
    users = tree.users
    capture = django_capture_on_commit_callbacks
    neighbour = make_user("lixiuying")
    tree.resident_a2.user = neighbour
    tree.resident_a2.save(update_fields=["user"])
    stranger = make_user("stranger")  # a resident account that filed nothing
    with capture(execute=True):
        main = file(tree, cats)
        duplicate = file(tree, cats, by=neighbour, reporter=tree.resident_a2, node=tree.micro_a1)
        appeals.appeal_merge(appeal=duplicate, into=main, by=users[Role.COMMUNITY_STAFF])
        appeals.appeal_dispatch(appeal=main, by=users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
        appeals.appeal_accept(appeal=main, by=users[Role.GRID_WORKER])
        appeals.appeal_resolve(appeal=main, by=users[Role.GRID_WORKER], result="已清运")
    assert told("resolve") == {"jumin", "lixiuying"}
    assert stranger.username not in told("resolve")
    notice = Notice.objects.get(kind="resolve", user=neighbour)
    assert notice.url == f"/appeals/m/{main.pk}/" and "已清运" in notice.body
    assert not AppealFollower.objects.filter(appeal=main, notified_at__isnull=True).exists()
    with capture(execute=True):
        appeals.appeal_verify(appeal=main, by=users[Role.COMMUNITY_STAFF])
        appeals.appeal_close(appeal=main, by=users[Role.COMMUNITY_STAFF])
    assert told("close") == {"jumin", "lixiuying"}
    with capture(execute=True):  # unsatisfied: reopened for the same handler
        appeals.appeal_rate(appeal=main, by=users[Role.RESIDENT], resolved=False, satisfaction="unsatisfied",
                            comment="还是很脏")
    assert told("reopen") == {"wangge"}


def test_email_to_users_with_an_address(tree, cats, immediate, django_capture_on_commit_callbacks):
    worker = tree.users[Role.GRID_WORKER]
    worker.email = "wangge@example.cn"
    worker.save(update_fields=["email"])
    appeal = dispatched(tree, cats, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["wangge@example.cn"] and appeal.number in message.subject
    assert f"http://gongzhi.test/appeals/{appeal.pk}/" in message.body
    assert Delivery.objects.get(user=worker).status == Delivery.Status.SENT


def test_no_email_without_a_mail_server(tree, cats, immediate, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = ""
    tree.users[Role.GRID_WORKER].email = "wangge@example.cn"
    tree.users[Role.GRID_WORKER].save(update_fields=["email"])
    dispatched(tree, cats, django_capture_on_commit_callbacks)
    assert told("dispatch") == {"wangge"} and not Delivery.objects.exists()


# --- pages -----------------------------------------------------------------------------------------


def test_notice_pages(client, tree, cats, immediate, django_capture_on_commit_callbacks):
    first = dispatched(tree, cats, django_capture_on_commit_callbacks)
    second = dispatched(tree, cats, django_capture_on_commit_callbacks)
    client.force_login(User.objects.get(username="wangge"))
    page = client.get(reverse("notify:list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="unread-count">2<' in html and first.number in html and second.number in html
    assert f'hx-get="{reverse("notify:badge")}"' in html  # the nav fetches its badge
    assert ">2</span>" in client.get(reverse("notify:badge")).content.decode()

    old = Notice.objects.get(appeal=first)
    opened = client.get(reverse("notify:open", args=[old.pk]))
    assert opened.status_code == 302 and opened["Location"] == f"/appeals/{first.pk}/"
    old.refresh_from_db()
    assert old.read_at is not None
    html = client.get(reverse("notify:list")).content.decode()
    assert ">1</span>" in client.get(reverse("notify:badge")).content.decode()
    assert html.index(second.number) < html.index(first.number)  # unread first

    client.post(reverse("notify:read_all"))
    assert not Notice.objects.filter(read_at__isnull=True).exists()
    assert client.get(reverse("notify:badge")).content == b""

    client.force_login(User.objects.get(username="shequ"))  # someone else's notice answers like a missing one
    assert client.get(reverse("notify:open", args=[old.pk])).status_code == 404
    assert client.post(reverse("notify:read", args=[old.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("notify:list")).status_code == 302
    assert client.get(reverse("notify:badge")).content == b""


def _form(receiver, node, **kw):
    data = {"name": "城东社区工作群", "kind": "dingtalk", "url": receiver.url("/robot/send?access_token=t0ken"),
            "secret": SECRET, "node": node.pk, "on_dispatch": "on", "on_overdue": "on", "is_active": "on"}
    data.update(kw)
    return data


def test_robot_admin_pages(client, tree, receiver, settings):
    settings.LANGUAGE_CODE = "en"
    client.force_login(User.objects.get(username="admin"))
    assert client.get(reverse("notify:webhook_new")).status_code == 200
    response = client.post(reverse("notify:webhook_new"), _form(receiver, tree.comm_a))
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("notify:webhook", args=[endpoint.pk])
    # Address and secret are credentials: stored encrypted, shown only as a hint.
    assert endpoint.url == receiver.url("/robot/send?access_token=t0ken") and endpoint.secret == SECRET
    assert "t0ken" not in endpoint.url_enc and SECRET not in endpoint.secret_enc
    page = client.get(reverse("notify:webhook", args=[endpoint.pk])).content.decode()
    assert "t0ken" not in page and SECRET not in page and endpoint.url_hint in page
    assert (endpoint.on_dispatch, endpoint.on_due_soon, endpoint.on_overdue) == (True, False, True)
    audit = AuditEvent.objects.get(action="webhook.create")
    assert "t0ken" not in str(audit.changes) and SECRET not in str(audit.changes)

    # Editing with the address and secret left empty keeps them.
    client.post(reverse("notify:webhook", args=[endpoint.pk]), _form(receiver, tree.comm_a, url="", secret="", name="改名"))
    endpoint.refresh_from_db()
    assert endpoint.name == "改名" and endpoint.secret == SECRET and "t0ken" in endpoint.url

    # Test send: signed, accepted, told on the page.
    response = client.post(reverse("notify:webhook_test", args=[endpoint.pk]), follow=True)
    assert "the robot accepted it" in response.content.decode()
    assert len(receiver.requests) == 1 and set(receiver.requests[0]["query"]) == {"access_token", "timestamp", "sign"}
    receiver.answers = [(200, {"errcode": 300001, "errmsg": "token is not exist"})]
    response = client.post(reverse("notify:webhook_test", args=[endpoint.pk]), follow=True)
    assert "300001" in response.content.decode()
    assert AuditEvent.objects.filter(action="webhook.test").count() == 2

    # WeCom robots are not signed.
    response = client.post(reverse("notify:webhook_new"), _form(receiver, tree.comm_a, kind="wecom"))
    assert response.status_code == 200 and WebhookEndpoint.objects.count() == 1


def test_robot_pages_are_scoped(client, tree, receiver):
    town_b_robot = actions.endpoint_save(by=tree.users[Role.COUNTY_ADMIN], name="九襄镇群", kind="wecom",
                                         url=receiver.url("/hook"), node=tree.town_b)
    town_a_robot = actions.endpoint_save(by=tree.users[Role.COUNTY_ADMIN], name="富林镇群", kind="wecom",
                                         url=receiver.url("/hook"), node=tree.town_a)
    client.force_login(User.objects.get(username="jiedao"))  # subdistrict staff of 富林镇
    listing = client.get(reverse("notify:webhooks")).content.decode()
    assert "富林镇群" in listing and "九襄镇群" not in listing
    assert client.get(reverse("notify:webhook", args=[town_a_robot.pk])).status_code == 200
    assert client.get(reverse("notify:webhook", args=[town_b_robot.pk])).status_code == 404
    assert client.post(reverse("notify:webhook_test", args=[town_b_robot.pk])).status_code == 404
    response = client.post(reverse("notify:webhook_new"), _form(receiver, tree.comm_b))  # not a choice for them
    assert response.status_code == 200 and WebhookEndpoint.objects.count() == 2
    for username in ("shequ", "wangge", "jumin"):
        client.force_login(User.objects.get(username=username))
        assert client.get(reverse("notify:webhooks")).status_code == 403
        assert client.get(reverse("notify:webhook", args=[town_a_robot.pk])).status_code == 403
