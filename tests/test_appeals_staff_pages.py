"""The staff appeal pages: the list's filters and keyset pages, the queues, and every action form on the
appeal page, including its refusals (nothing written) and who sees which form."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from gongzhi.core.access import SYSTEM, Role
from gongzhi.appeals import actions
from gongzhi.appeals.views import staff as views_staff
from gongzhi.appeals.models import Appeal, AppealRequest, Category, Channel, DueState, RoutingRule, Status
from gongzhi.core.models import AuditEvent
from gongzhi.orgs.models import Unit, UnitKind

from .appeals_factories import make_categories
from .factories import make_user

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def cats(db):
    return make_categories()


@pytest.fixture
def as_role(client, tree):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    def login(role_or_user):
        client.force_login(tree.users[role_or_user] if isinstance(role_or_user, str) else role_or_user)
        return client

    return login


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def file(tree, cats, by=None, **kw):
    args = dict(by=by or tree.users[Role.RESIDENT], category=cats["garbage"], title="垃圾没人清",
                description="3栋门口垃圾堆了三天没人清运", channel=Channel.ONLINE, reporter=tree.resident_a)
    args.update(kw)
    return actions.appeal_file(**args)


def text(response) -> str:
    return response.content.decode()


def shown_actions(response) -> set[str]:
    return set(re.findall(r'data-action="(\w+)"', text(response)))


def numbers(response) -> list[str]:
    return [a.number for a in response.context["rows"]]


def act(client, appeal, action, data=None, **extra):
    return client.post(reverse("appeals:act", args=[appeal.pk, action]), data or {}, **extra)


# --- the list -------------------------------------------------------------------------------------


def test_list_is_scoped_with_deadline_badges(as_role, tree, cats):
    mine = file(tree, cats)
    overdue = file(tree, cats, title="路灯不亮", description="小区门口路灯坏了")
    unconfirmed = file(tree, cats, title="井盖松动", description="井盖踩上去会响")
    Appeal.objects.filter(pk=overdue.pk).update(due_state=DueState.OVERDUE)
    Appeal.objects.filter(pk=unconfirmed.pk).update(deadline_unconfirmed=True)
    elsewhere = file(tree, cats, by=tree.users[Role.COUNTY_ADMIN], reporter=tree.resident_b, channel=Channel.HOTLINE)

    response = as_role(Role.COMMUNITY_STAFF).get(reverse("appeals:list"))
    assert response.status_code == 200
    assert set(numbers(response)) == {mine.number, overdue.number, unconfirmed.number}
    body = text(response)
    row = re.search(rf'<tr data-appeal="{overdue.pk}".*?</tr>', body, re.S).group(0)
    assert 'data-due="overdue"' in row and "Overdue" in row
    row = re.search(rf'<tr data-appeal="{unconfirmed.pk}".*?</tr>', body, re.S).group(0)
    assert 'data-testid="deadline-unconfirmed"' in row and "Holiday schedule not confirmed" in row
    row = re.search(rf'<tr data-appeal="{mine.pk}".*?</tr>', body, re.S).group(0)
    assert "data-due" not in row and "deadline-unconfirmed" not in row
    assert elsewhere.number in numbers(as_role(Role.COUNTY_ADMIN).get(reverse("appeals:list")))


def test_appeals_not_accepted_by_their_response_deadline_are_marked(as_role, tree, cats):
    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    waiting = file(tree, cats, title="待派单超时", description="还没有派出去")
    sent = file(tree, cats, title="已派未签收", description="派给网格还没签收")
    actions.appeal_dispatch(appeal=sent, by=staff, to_node=tree.grid_a1)
    taken = file(tree, cats, title="已签收", description="网格已经签收")
    actions.appeal_dispatch(appeal=taken, by=staff, to_node=tree.grid_a1)
    actions.appeal_accept(appeal=taken, by=worker)
    fresh = file(tree, cats, title="刚登记", description="刚刚登记的诉求")
    returned = file(tree, cats, title="退回重派", description="签收后退回，又派出去了")
    actions.appeal_dispatch(appeal=returned, by=staff, to_node=tree.grid_a1)
    actions.appeal_accept(appeal=returned, by=worker)  # on time: the response is done
    actions.appeal_return(appeal=returned, by=worker, reason="不属于本网格")
    actions.appeal_dispatch(appeal=returned, by=staff, to_node=tree.grid_a1)
    past = timezone.now() - dt.timedelta(minutes=1)
    Appeal.objects.filter(pk__in=[waiting.pk, sent.pk, taken.pk, returned.pk]).update(response_due=past)

    def marked(response) -> set[int]:
        rows = re.findall(r'<tr data-appeal="(\d+)"(.*?)</tr>', text(response), re.S)
        return {int(pk) for pk, row in rows if 'data-due="response"' in row}

    listed = as_role(Role.COMMUNITY_STAFF).get(reverse("appeals:list"))
    # the accepted ones responded (the returned one too, on time, before it came back); the fresh one has time
    assert marked(listed) == {waiting.pk, sent.pk}
    assert "not accepted in time" in text(listed)
    assert marked(as_role(Role.COMMUNITY_STAFF).get(reverse("appeals:queue", args=["dispatch"]))) == {waiting.pk}
    assert marked(as_role(Role.GRID_WORKER).get(reverse("appeals:queue", args=["handle"]))) == {sent.pk}
    page = as_role(Role.COMMUNITY_STAFF).get(reverse("appeals:detail", args=[sent.pk]))
    assert 'data-due="response"' in text(page)
    for other in (taken, fresh, returned):
        assert 'data-due="response"' not in text(as_role(Role.COMMUNITY_STAFF).get(reverse("appeals:detail", args=[other.pk])))


def test_list_filters(as_role, tree, cats):
    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    garbage = file(tree, cats)
    water = file(tree, cats, category=cats["water"], title="停水", description="整栋楼停水", attributes={"outage": "none"},
                 channel=Channel.HOTLINE, by=staff)
    second_grid = file(tree, cats, reporter=tree.resident_a2, household=tree.household_a2, by=staff,
                       channel=Channel.WINDOW, title="路面坑洼", description="二组路口有个大坑")
    old = file(tree, cats, title="旧诉求", description="去年的树枝没人修剪",
               submitted_at=timezone.now() - dt.timedelta(days=40))
    actions.appeal_dispatch(appeal=garbage, by=staff, to_node=tree.grid_a1)
    actions.appeal_dispatch(appeal=water, by=staff, to_unit=tree.partner)
    Appeal.objects.filter(pk=second_grid.pk).update(due_state=DueState.DUE_SOON)
    client = as_role(Role.COMMUNITY_STAFF)

    def found(**params):
        response = client.get(reverse("appeals:list"), params)
        assert response.status_code == 200, params
        return set(numbers(response))

    everything = {garbage.number, water.number, second_grid.number, old.number}
    assert found() == everything
    assert found(status="dispatched") == {garbage.number, water.number}
    assert found(due="due_soon") == {second_grid.number}
    assert found(category=cats["env"].pk) == everything - {water.number}  # a parent takes its subcategories
    assert found(category=cats["water"].pk) == {water.number}
    assert found(channel="hotline") == {water.number}
    assert found(node=tree.grid_a2.pk) == {second_grid.number}
    assert found(handler=f"n{tree.grid_a1.pk}") == {garbage.number}
    assert found(handler=f"u{tree.partner.pk}") == {water.number}
    today = timezone.localdate()
    assert found(date_from=(today - dt.timedelta(days=1)).isoformat()) == everything - {old.number}
    assert found(date_to=(today - dt.timedelta(days=30)).isoformat()) == {old.number}
    assert found(q=water.number) == {water.number}  # a number matches exactly
    assert found(q=water.number[:-1]) == set()
    assert found(q="坑洼") == {second_grid.number}  # in the title
    assert found(q="树枝") == {old.number}  # in the description
    assert found(status="dispatched", channel="online") == {garbage.number}
    # "only mine to act on": the community dispatches the submitted ones and may handle for its grids,
    # not for the partner unit; the grid worker handles what was sent to the grid
    assert found(mine="1") == {second_grid.number, old.number, garbage.number}
    client.force_login(worker)
    assert found(mine="1") == {garbage.number}
    # an area outside the user's scope answers like a missing one
    assert client.get(reverse("appeals:list"), {"node": tree.comm_b.pk}).status_code == 404
    errors = client.get(reverse("appeals:list"), {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert "&#x27;From&#x27; is after &#x27;to&#x27;." in text(errors)


def _many(tree, cats, n):
    start = timezone.now() - dt.timedelta(days=3)
    out = []
    for i in range(n):
        # three pairs share a timestamp: the id breaks the tie, no row is lost or shown twice
        at = start + dt.timedelta(minutes=(i // 2) * 2 if i < 6 else i * 2)
        out.append(file(tree, cats, title=f"诉求{i}", description=f"第{i}个问题的描述", submitted_at=at))
    return out


def test_keyset_pages_walk_forward_and_back(as_role, tree, cats):
    made = _many(tree, cats, 57)
    expected = [a.number for a in sorted(made, key=lambda a: (a.submitted_at, a.pk), reverse=True)]
    client = as_role(Role.COMMUNITY_STAFF)
    url = reverse("appeals:list")
    response = client.get(url)
    pages = [numbers(response)]
    assert len(pages[0]) == 25 and not response.context["has_prev"]
    while response.context["has_next"]:
        next_url = re.search(r'data-testid="next-page" href="([^"]+)"', text(response)).group(1)
        response = client.get(url + next_url.replace("&amp;", "&"))
        pages.append(numbers(response))
    assert [len(p) for p in pages] == [25, 25, 7]
    assert [n for p in pages for n in p] == expected
    assert response.context["page_no"] == 3
    back = re.search(r'data-testid="prev-page" href="([^"]+)"', text(response)).group(1)
    response = client.get(url + back.replace("&amp;", "&"))
    assert numbers(response) == pages[1] and response.context["has_prev"] and response.context["has_next"]
    assert "57 appeals" in text(response)


def test_count_is_capped(as_role, tree, cats, monkeypatch):
    _many(tree, cats, 7)
    monkeypatch.setattr(views_staff, "COUNT_CAP", 5)
    response = as_role(Role.COMMUNITY_STAFF).get(reverse("appeals:list"))
    assert response.context["more"] and "5+ appeals" in text(response)


def test_list_shows_what_the_user_sees_outside_their_area(as_role, tree, cats):
    """The list takes the user's area and what they see outside it (handled or first received there, filed
    by them, for them, followed) apart: each such appeal is listed once, in the one order, paged and counted,
    the same rows as selectors.appeals."""
    from gongzhi.accounts.actions import role_assign
    from gongzhi.appeals import selectors
    from gongzhi.appeals.models import AppealFollower

    staff = tree.users[Role.COMMUNITY_STAFF]  # 城东社区
    start = timezone.now() - dt.timedelta(days=2)
    inside = [file(tree, cats, title=f"区内{i}", submitted_at=start + dt.timedelta(minutes=10 * i)) for i in range(30)]

    def elsewhere(title, minute, **fields):
        appeal = file(tree, cats, by=tree.users[Role.COUNTY_ADMIN], reporter=tree.resident_b, title=title,
                      description=f"{title}：九襄镇的问题", submitted_at=start + dt.timedelta(minutes=minute))
        Appeal.objects.filter(pk=appeal.pk).update(**fields)
        return appeal

    handled = elsewhere("跨区派给网格", 5, handler_node=tree.grid_a1, handler_path=tree.grid_a1.path,
                        status=Status.DISPATCHED)
    owned = elsewhere("城东社区首接", 95, owner_node=tree.comm_a, owner_path=tree.comm_a.path)
    filed = elsewhere("代为登记", 155, filed_by=staff)
    followed = elsewhere("关注的诉求", 215)
    AppealFollower.objects.create(appeal=followed, user=staff)
    for_them = elsewhere("本人的诉求", 275, reporter=tree.resident_a2)
    tree.resident_a2.user = staff
    tree.resident_a2.save(update_fields=["user"])
    unseen = elsewhere("看不到", 35)
    role_assign(user=tree.users[Role.GRID_WORKER], role=Role.GRID_WORKER, node=tree.grid_b1, by=SYSTEM)  # two areas

    seen = [*inside, handled, owned, filed, followed, for_them]
    expected = [a.number for a in sorted(seen, key=lambda a: (a.submitted_at, a.pk), reverse=True)]
    assert {a.number for a in selectors.appeals(staff)} == set(expected) and unseen.number not in expected
    client = as_role(Role.COMMUNITY_STAFF)
    url = reverse("appeals:list")
    response = client.get(url)
    pages = [numbers(response)]
    assert "35 appeals" in text(response)
    next_url = re.search(r'data-testid="next-page" href="([^"]+)"', text(response)).group(1)
    response = client.get(url + next_url.replace("&amp;", "&"))
    pages.append(numbers(response))
    assert [n for p in pages for n in p] == expected and "35 appeals" in text(response)
    # words find what the user sees whole, not an appeal they only follow (its public part masks numbers)
    assert set(numbers(client.get(url, {"q": "九襄镇"}))) == {a.number for a in seen[30:] if a != followed}
    assert numbers(client.get(url, {"q": followed.number})) == [followed.number]
    assert numbers(client.get(url, {"status": "dispatched"})) == [handled.number]
    # an area inside their own: all of it and nothing placed elsewhere, in the same order
    response = client.get(url, {"node": tree.comm_a.pk})
    assert "30 appeals" in text(response) and numbers(response) == [n for n in expected if n not in
                                                                    {a.number for a in seen[30:]}][:25]
    # a user with an area in each town sees both, and nothing twice
    worker = tree.users[Role.GRID_WORKER]
    both = {a.number for a in selectors.appeals(worker)}
    assert unseen.number in both
    response = as_role(worker).get(url, {"q": "九襄镇"})
    assert sorted(numbers(response)) == sorted(a.number for a in selectors.appeals(worker).filter(description__contains="九襄镇"))


def test_list_queries_do_not_grow_with_rows(as_role, tree, cats, django_assert_num_queries):
    file(tree, cats)
    client = as_role(Role.COUNTY_ADMIN)
    url = reverse("appeals:list")
    # the user with their role assignments (the session comes from the shared cache), categories, area
    # options (with the nodes picked in the filters), the page (with the names of its places and handlers,
    # and the capped count), units
    with django_assert_num_queries(5):
        assert len(client.get(url).context["rows"]) == 1
    _many(tree, cats, 30)
    # the filters' choices are kept a while (core.process_cache), the user too: the page alone
    with django_assert_num_queries(1):
        assert len(client.get(url).context["rows"]) == 25
    with django_assert_num_queries(1):
        assert len(client.get(url, {"status": "submitted", "category": cats["env"].pk}).context["rows"]) == 25
    with django_assert_num_queries(1):
        assert len(client.get(url, {"mine": "1", "node": tree.comm_a.pk}).context["rows"]) == 25
    with django_assert_num_queries(2):  # a grid is not among the area choices: looked up in scope
        assert len(client.get(url, {"handler": f"n{tree.grid_a1.pk}"}).context["rows"]) == 0
    with django_assert_num_queries(1):  # the htmx partial: no option lists
        response = client.get(url, {"q": "诉求1"}, HTTP_HX_REQUEST="true")
    assert "<html" not in text(response) and len(response.context["rows"]) == 11  # 诉求1, 诉求10..19


def test_list_choices_follow_changes_at_once(as_role, tree, cats):
    """The kept filter choices are cleared when a category, node or unit changes in this process."""
    client = as_role(Role.COUNTY_ADMIN)
    url = reverse("appeals:list")
    page = text(client.get(url))
    assert "新增的类别" not in page and "更名的社区" not in page and "新的合作单位" not in page
    Category.objects.create(code="new-kind", name="新增的类别", parent=cats["env"])
    tree.comm_a.name = "更名的社区"
    tree.comm_a.save()
    Unit.objects.create(name="新的合作单位", kind=UnitKind.PARTNER, home=tree.comm_a, org_path=tree.comm_a.path)
    page = text(client.get(url))
    assert "新增的类别" in page and "更名的社区" in page and "新的合作单位" in page


def test_list_choices_are_kept_per_scope(as_role, tree, cats):
    """Users with other roles do not share kept choices: a community's staff never sees another community."""
    county = as_role(Role.COUNTY_ADMIN)
    assert tree.comm_b.name in text(county.get(reverse("appeals:list")))
    staff = as_role(Role.COMMUNITY_STAFF)
    page = text(staff.get(reverse("appeals:list")))
    assert tree.comm_a.name in page and tree.comm_b.name not in page
    assert staff.get(reverse("appeals:list"), {"node": tree.comm_b.pk}).status_code == 404


# --- the appeal page: every action from its form -----------------------------------------------


def test_the_whole_loop_from_the_pages(as_role, tree, cats):
    RoutingRule.objects.create(node=tree.county, org_path=tree.county.path, category=cats["env"],
                               target=RoutingRule.Target.OWN_GRID)
    appeal = file(tree, cats, reporter_phone="13800001111")
    staff = as_role(Role.COMMUNITY_STAFF)
    page = staff.get(reverse("appeals:detail", args=[appeal.pk]))
    body = text(page)
    assert "138****1111" in body and "13800001111" not in body  # the reporter's phone, masked
    assert re.search(r'data-testid="route-suggestion">第一网格<', body)
    assert re.search(rf'<option value="n{tree.grid_a1.pk}" selected>', body)  # the suggestion is preselected

    response = act(staff, appeal, "dispatch", {"seen": "submitted", "target": f"n{tree.grid_a1.pk}", "note": "请尽快"})
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == Status.DISPATCHED and appeal.handler_node == tree.grid_a1

    worker = as_role(Role.GRID_WORKER)
    assert act(worker, appeal, "accept", {"accept-seen": "dispatched"}).status_code == 302
    photo = SimpleUploadedFile("after.png", PNG, content_type="image/png")
    response = act(worker, appeal, "resolve", {"resolve-seen": "accepted", "resolve-result": "已联系环卫清运",
                                               "resolve-photos": [photo]})
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == Status.RESOLVED and appeal.result == "已联系环卫清运"
    (saved,) = appeal.photos.all()
    image = worker.get(reverse("appeals:photo", args=[appeal.pk, saved.pk]))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == PNG

    staff = as_role(Role.COMMUNITY_STAFF)
    assert act(staff, appeal, "verify", {"verify-seen": "resolved", "verify-ok": "1"}).status_code == 302
    response = act(staff, appeal, "callback", {"callback-seen": "verified", "callback-resolved": "1",
                                               "callback-satisfaction": "satisfied", "callback-comment": "很满意"})
    assert response.status_code == 302
    assert act(staff, appeal, "close", {"close-seen": "verified", "close-note": "已核实"}).status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED and appeal.rated_by_callback and appeal.satisfaction == "satisfied"
    assert [e.kind for e in appeal.events.all()] == [
        "file", "dispatch", "accept", "resolve", "verify", "callback", "close"]
    page = staff.get(reverse("appeals:detail", args=[appeal.pk]))
    body = text(page)
    assert "Closed" in body and "已联系环卫清运" in body and "很满意" in body
    assert reverse("appeals:photo", args=[appeal.pk, saved.pk]) in body
    assert shown_actions(page) == {"reopen"}  # closed and rated: only reopening is left
    assert "Closed." in [str(m) for m in page.context["messages"]]


def test_ledger_actions_from_the_pages(as_role, tree, cats):
    staff_user = tree.users[Role.COMMUNITY_STAFF]
    appeal = file(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=staff_user, to_node=tree.grid_a1)
    worker = as_role(Role.GRID_WORKER)
    response = act(worker, appeal, "return", {"return-seen": "dispatched", "return-reason": "属于物业管理范围"})
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == Status.SUBMITTED and appeal.return_count == 1

    actions.appeal_dispatch(appeal=appeal, by=staff_user, to_node=tree.grid_a1)
    actions.appeal_accept(appeal=appeal, by=tree.users[Role.GRID_WORKER])
    response = act(worker, appeal, "extension_request",
                   {"ext-seen": "accepted", "ext-days": "3", "ext-reason": "需要等待配件"})
    assert response.status_code == 302
    request = AppealRequest.objects.get(appeal=appeal, kind="extension")
    due = appeal.resolve_due

    staff = as_role(Role.COMMUNITY_STAFF)
    page = staff.get(reverse("appeals:detail", args=[appeal.pk]))
    assert "extension_decide" in shown_actions(page) and "需要等待配件" in text(page)
    assert act(staff, appeal, "extension_decide", {"request": request.pk, "approve": "1"}).status_code == 302
    appeal.refresh_from_db()
    assert appeal.resolve_due > due and appeal.extension_count == 1

    assert act(staff, appeal, "void_request", {"void-seen": "accepted", "void-reason": "重复提交"}).status_code == 302
    void = AppealRequest.objects.get(appeal=appeal, kind="void", state="pending")
    assert "void_decide" not in shown_actions(staff.get(reverse("appeals:detail", args=[appeal.pk])))

    town = as_role(Role.SUBDISTRICT_STAFF)
    page = town.get(reverse("appeals:detail", args=[appeal.pk]))
    assert {"void_decide", "supervise"} <= shown_actions(page)
    assert act(town, appeal, "supervise", {"supervise-seen": "accepted", "supervise-note": "请加快"}).status_code == 302
    assert act(town, appeal, "void_decide", {"request": void.pk, "approve": "0", "note": "不是重复"}).status_code == 302
    appeal.refresh_from_db()
    assert appeal.supervise_count == 1 and appeal.status == Status.ACCEPTED
    page = town.get(reverse("appeals:detail", args=[appeal.pk]))
    ledger = re.search(r'data-testid="ledger".*?</section>', text(page), re.S).group(0)
    assert "属于物业管理范围" in ledger and "需要等待配件" in ledger and "重复提交" in ledger and "不是重复" in ledger
    timeline = re.search(r'data-testid="timeline".*?</ol>', text(page), re.S).group(0)
    assert re.search(r'data-kind="supervise">.*?internal.*?请加快', timeline, re.S)  # internal notes shown to staff


def test_reopen_after_an_unsatisfied_callback(as_role, tree, cats):
    cats["ordinary"].reopen_on_unsatisfied = False
    cats["ordinary"].save()
    staff_user, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    appeal = file(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=staff_user, to_node=tree.grid_a1)
    actions.appeal_accept(appeal=appeal, by=worker)
    actions.appeal_resolve(appeal=appeal, by=worker, result="已处理")
    staff = as_role(Role.COMMUNITY_STAFF)
    act(staff, appeal, "callback", {"callback-seen": "resolved", "callback-resolved": "0",
                                    "callback-satisfaction": "unsatisfied", "callback-comment": "还是很脏"})
    appeal.refresh_from_db()
    assert appeal.status == Status.RESOLVED and appeal.satisfaction == "unsatisfied"
    assert "reopen" in shown_actions(staff.get(reverse("appeals:detail", args=[appeal.pk])))
    assert act(staff, appeal, "reopen", {"reopen-seen": "resolved", "reopen-reason": "居民不满意"}).status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == Status.DISPATCHED and appeal.reopen_count == 1 and appeal.handler_node == tree.grid_a1


def test_send_back_after_checking(as_role, tree, cats):
    staff_user, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    appeal = file(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=staff_user, to_node=tree.grid_a1)
    actions.appeal_accept(appeal=appeal, by=worker)
    actions.appeal_resolve(appeal=appeal, by=worker, result="已处理")
    staff = as_role(Role.COMMUNITY_STAFF)
    response = act(staff, appeal, "verify", {"verify-seen": "resolved", "verify-ok": "0"})
    assert response.status_code == 200 and "Say what is still to be done." in text(response)
    response = act(staff, appeal, "verify", {"verify-seen": "resolved", "verify-ok": "0", "verify-note": "门口还有垃圾"})
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == Status.ACCEPTED and appeal.resolved_at is None
    assert "resolve" in shown_actions(as_role(Role.GRID_WORKER).get(reverse("appeals:detail", args=[appeal.pk])))


def test_merge_a_duplicate_from_the_page(as_role, tree, cats):
    main = file(tree, cats)
    dup = file(tree, cats, by=tree.users[Role.COMMUNITY_STAFF], reporter=tree.resident_a2, channel=Channel.WINDOW,
               node=tree.micro_a1, description="3栋门口垃圾堆了好几天没人清运")
    staff = as_role(Role.COMMUNITY_STAFF)
    page = staff.get(reverse("appeals:detail", args=[dup.pk]))
    duplicates = re.search(r'data-testid="duplicates".*?</section>', text(page), re.S).group(0)
    assert main.number in duplicates
    assert act(staff, dup, "merge", {"merge-seen": "submitted", "merge-into": main.pk}).status_code == 302
    dup.refresh_from_db()
    assert dup.status == Status.MERGED and dup.merged_into == main
    page = staff.get(reverse("appeals:detail", args=[main.pk]))
    followers = re.search(r'data-testid="followers".*?</section>', text(page), re.S).group(0)
    assert "李秀英" in followers and dup.number in followers


# --- refusals ------------------------------------------------------------------------------------


def test_a_stale_accept_is_told_who_accepted(as_role, tree, cats):
    fang = make_user("wangfang", Role.GRID_WORKER, tree.grid_a1)
    fang.display_name = "王芳"
    fang.save()
    appeal = file(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    worker = as_role(Role.GRID_WORKER)
    assert "accept" in shown_actions(worker.get(reverse("appeals:detail", args=[appeal.pk])))  # both see the button
    actions.appeal_accept(appeal=Appeal.objects.get(pk=appeal.pk), by=fang)  # 王芳 is quicker
    when = timezone.localtime(appeal.events.get(kind="accept").at).strftime("%H:%M")
    before = AuditEvent.objects.count()

    response = act(worker, appeal, "accept", {"accept-seen": "dispatched"})
    assert response.status_code == 200
    error = re.search(r'data-testid="action-error">(.*?)</div>', text(response), re.S).group(1)
    assert f"王芳 already accepted this appeal at {when}; it is now Accepted." in error
    assert "accept" not in shown_actions(response)  # the page shows the appeal as it is now
    appeal.refresh_from_db()
    assert appeal.accepted_by == fang and AuditEvent.objects.count() == before

    response = act(worker, appeal, "accept", {"accept-seen": "dispatched"}, HTTP_HX_REQUEST="true")
    assert "<html" not in text(response) and "王芳 already accepted this appeal" in text(response)


@pytest.mark.parametrize("role, action, data, message", [
    (Role.GRID_WORKER, "resolve", {"resolve-seen": "accepted", "resolve-result": ""}, "This field is required."),
    (Role.GRID_WORKER, "return", {"return-seen": "accepted", "return-reason": "x"}, "Say why the appeal is not yours."),
    (Role.GRID_WORKER, "resolve", {"resolve-seen": "accepted", "resolve-result": "已处理",
                                   "resolve-photos": [SimpleUploadedFile("a.txt", b"hello", "text/plain")]},
     "Only photos (JPEG, PNG, WebP or GIF) can be attached."),
    (Role.GRID_WORKER, "extension_request", {"ext-seen": "accepted", "ext-days": "40", "ext-reason": "等配件"},
     "Ensure this value is less than or equal to 30."),
    (Role.GRID_WORKER, "supervise", {"supervise-seen": "accepted", "supervise-note": "快"},
     "Only subdistrict or county staff may supervise appeals."),
    (Role.COMMUNITY_STAFF, "close", {"close-seen": "accepted"},
     "This appeal is Accepted: it can be closed only when it is Verified."),
    (Role.COMMUNITY_STAFF, "supervise", {"supervise-seen": "accepted", "supervise-note": "快"},
     "Only subdistrict or county staff may supervise appeals."),
    (Role.COMMUNITY_STAFF, "dispatch", {"seen": "accepted", "target": "n999999"}, "Select a valid choice."),
])
def test_refusals_are_shown_and_nothing_is_written(as_role, tree, cats, role, action, data, message):
    appeal = file(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    actions.appeal_accept(appeal=appeal, by=tree.users[Role.GRID_WORKER])
    before = (AuditEvent.objects.count(), appeal.events.count(), appeal.photos.count())
    if "resolve-photos" in data:
        data["resolve-photos"][0].seek(0)
    response = act(as_role(role), appeal, action, data)
    assert response.status_code == 200
    assert message in text(response).replace("&#x27;", "'")
    appeal.refresh_from_db()
    assert appeal.status == Status.ACCEPTED
    assert (AuditEvent.objects.count(), appeal.events.count(), appeal.photos.count()) == before


def test_out_of_scope_is_not_found(as_role, tree, cats):
    appeal = file(tree, cats)
    outsider = make_user("other_town", Role.SUBDISTRICT_STAFF, tree.town_b)
    client = as_role(outsider)
    assert client.get(reverse("appeals:detail", args=[appeal.pk])).status_code == 404
    assert act(client, appeal, "supervise", {"supervise-seen": "submitted", "supervise-note": "催"}).status_code == 404
    assert client.get(reverse("appeals:detail", args=[987654])).status_code == 404
    appeal.refresh_from_db()
    assert appeal.supervise_count == 0


def test_htmx_action_swaps_the_appeal_in_place(as_role, tree, cats):
    appeal = file(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    response = act(as_role(Role.GRID_WORKER), appeal, "accept", {"accept-seen": "dispatched"}, HTTP_HX_REQUEST="true")
    body = text(response)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="appeal-body"') and 'data-status="accepted"' in body
    assert 'data-testid="flash"' in body and "You accepted this appeal." in body
    assert {"resolve", "return", "extension_request"} <= shown_actions(response)


# --- who sees which form ---------------------------------------------------------------------------

HANDLER = {"accept", "return", "extension_request", "void_request"}


@pytest.mark.parametrize("role, expected", [
    (Role.COUNTY_ADMIN, HANDLER | {"supervise"}),
    (Role.SUBDISTRICT_STAFF, HANDLER | {"supervise"}),
    (Role.COMMUNITY_STAFF, HANDLER),  # the community dispatches and may handle for its grids
    (Role.GRID_WORKER, HANDLER),
    (Role.BUILDING_STEWARD, None),  # may file, not see others' appeals
    (Role.PARTY_SECRETARY, None),
    (Role.DEPARTMENT_HANDLER, None),  # unit roles handle what is dispatched to their unit only
    (Role.PARTNER_CONTACT, None),
])
def test_forms_shown_only_to_the_right_roles(as_role, tree, cats, role, expected):
    appeal = file(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    response = as_role(role).get(reverse("appeals:detail", args=[appeal.pk]))
    if expected is None:
        assert response.status_code == 404
    else:
        assert response.status_code == 200 and shown_actions(response) == expected


def test_forms_follow_the_state_and_the_unit(as_role, tree, cats):
    appeal = file(tree, cats)
    staff = as_role(Role.COMMUNITY_STAFF)
    assert shown_actions(staff.get(reverse("appeals:detail", args=[appeal.pk]))) == {"dispatch", "void_request"}
    actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_unit=tree.department)
    assert shown_actions(as_role(Role.DEPARTMENT_HANDLER).get(reverse("appeals:detail", args=[appeal.pk]))) == HANDLER
    worker_page = as_role(Role.GRID_WORKER).get(reverse("appeals:detail", args=[appeal.pk]))
    assert shown_actions(worker_page) == set() and 'data-testid="no-actions"' in text(worker_page)
    assert as_role(Role.RESIDENT).get(reverse("appeals:detail", args=[appeal.pk])).status_code == 403
    handler = tree.users[Role.DEPARTMENT_HANDLER]
    actions.appeal_accept(appeal=appeal, by=handler)
    actions.appeal_resolve(appeal=appeal, by=handler, result="已维修")
    staff = as_role(Role.COMMUNITY_STAFF)
    assert shown_actions(staff.get(reverse("appeals:detail", args=[appeal.pk]))) == {
        "verify", "callback", "reopen", "void_request"}


# --- queues ----------------------------------------------------------------------------------------


def test_queues(as_role, tree, cats):
    staff_user, worker_user = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    waiting = file(tree, cats, title="待派单", description="还没有派出去的诉求")
    handling = file(tree, cats, title="办理中", description="已经派给网格的诉求")
    actions.appeal_dispatch(appeal=handling, by=staff_user, to_node=tree.grid_a1)
    actions.appeal_accept(appeal=handling, by=worker_user)
    checking = file(tree, cats, title="待核查", description="网格已经办结的诉求")
    actions.appeal_dispatch(appeal=checking, by=staff_user, to_node=tree.grid_a1)
    actions.appeal_accept(appeal=checking, by=worker_user)
    actions.appeal_resolve(appeal=checking, by=worker_user, result="已处理")
    ext = actions.extension_request(appeal=handling, by=worker_user, days=2, reason="等配件")

    staff = as_role(Role.COMMUNITY_STAFF)
    assert staff.get(reverse("appeals:queues")).url == reverse("appeals:queue", args=["dispatch"])

    def queue(kind):
        response = staff.get(reverse("appeals:queue", args=[kind]))
        assert response.status_code == 200
        return response

    assert [a.pk for a in queue("dispatch").context["page"]["rows"]] == [waiting.pk]
    assert [a.pk for a in queue("handle").context["page"]["rows"]] == [handling.pk]  # grids of the community
    assert [a.pk for a in queue("verify").context["page"]["rows"]] == [checking.pk]
    requests = queue("requests")
    assert [r.pk for r in requests.context["page"]["rows"]] == [ext.pk]
    assert {t["kind"]: t["count"] for t in requests.context["tabs"]} == {
        "dispatch": 1, "handle": 1, "verify": 1, "requests": 1}

    # decide from the queue and come back to it
    back = reverse("appeals:queue", args=["requests"])
    response = act(staff, handling, "extension_decide", {"request": ext.pk, "approve": "1", "next": back})
    assert response.status_code == 302 and response.url == back
    ext.refresh_from_db()
    assert ext.state == AppealRequest.State.APPROVED
    assert act(staff, handling, "extension_decide", {"request": ext.pk, "approve": "0", "next": back}).url == back
    assert "This request has been decided already." in [str(m) for m in staff.get(back).context["messages"]]

    worker = as_role(Role.GRID_WORKER)
    assert [t["kind"] for t in worker.get(reverse("appeals:queue", args=["handle"])).context["tabs"]] == [
        "dispatch", "handle", "verify", "requests"]
    handler = as_role(Role.DEPARTMENT_HANDLER)
    assert handler.get(reverse("appeals:queues")).url == reverse("appeals:queue", args=["handle"])
    assert handler.get(reverse("appeals:queue", args=["dispatch"])).status_code == 403
    assert as_role(Role.PARTY_SECRETARY).get(reverse("appeals:queues")).status_code == 403
    assert staff.get(reverse("appeals:queue", args=["nonsense"])).status_code == 404


def test_the_page_and_the_api_list_the_same_rows_and_mask_what_is_only_followed(as_role, tree, cats):
    """The staff list and ``GET /api/v1/appeals`` read one selector: for each filter both give the same appeals in
    the same order; an appeal the staff member only follows (outside their work) shows its public part in both,
    the phone number in its title masked, and words of its text do not find it."""
    from gongzhi.appeals.models import AppealFollower

    staff = tree.users[Role.COMMUNITY_STAFF]  # 城东社区
    start = timezone.now() - dt.timedelta(days=1)
    for i in range(6):
        file(tree, cats, title=f"区内问题{i}", submitted_at=start + dt.timedelta(minutes=i))
    elsewhere = file(tree, cats, by=tree.users[Role.COUNTY_ADMIN], reporter=tree.resident_b,
                     title="电话13912345678请回电", description="九襄镇的问题，电话13912345678",
                     submitted_at=start + dt.timedelta(minutes=30))
    AppealFollower.objects.create(appeal=elsewhere, user=staff)
    client = as_role(staff)
    url = reverse("appeals:list")
    for page_params, api_params in (({}, {}), ({"status": "submitted"}, {"status": "submitted"}),
                                    ({"q": "区内"}, {"q": "区内"}), ({"q": "1391234"}, {"q": "1391234"})):
        page = numbers(client.get(url, page_params))
        api = [item["number"] for item in client.get("/api/v1/appeals", api_params).json()["items"]]
        assert page == api, (page_params, page, api)
    listed = text(client.get(url))
    assert "12345678" not in listed and "电话139********请回电" in listed
    item = next(i for i in client.get("/api/v1/appeals").json()["items"] if i["number"] == elsewhere.number)
    assert item["title"] == "电话139********请回电" and "12345678" not in item["address"]
    assert numbers(client.get(url, {"q": "1391234"})) == []
    # its reporter's staff see it whole
    county = as_role(Role.COUNTY_ADMIN)
    assert "13912345678" in text(county.get(url))
