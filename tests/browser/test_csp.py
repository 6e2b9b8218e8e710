"""The Content Security Policy in a browser: every role of the test tree opens every page it has (found from
the URL map) with no policy violation and no console error; and names typed by users are text on every chart
and map, never markup: a grid and a category named like an image tag with an ``onerror`` handler show as
their names in the dashboard's tooltips and on the filing map, and the handler never runs."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from playwright.sync_api import expect

from gongzhi.accounts.actions import token_create
from gongzhi.accounts.models import RoleAssignment
from gongzhi.core.access import SYSTEM, Role
from gongzhi.appeals import actions as appeal_actions
from gongzhi.appeals.actions.open311 import open311_client_create
from gongzhi.appeals.models import Category, Channel
from gongzhi.core.models import ImportJob
from gongzhi.notify.actions import endpoint_save
from gongzhi.notify.models import Notice
from gongzhi.orgs import actions as org_actions
from gongzhi.orgs.models import PartyMember

from ..appeals_factories import make_categories, route_water_to
from ..factories import make_id
from ..test_appeals_resident_pages import tiny_png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GRID_XSS = '<img src=x onerror="window.__xss=1">'
CATEGORY_XSS = '<img src=y onerror="window.__xss=2">'


@pytest.fixture
def hostile_names(tree):
    """A grid split off grid A1 under a hostile name (with resident A's household and a map point), a
    category named alike, and one appeal filed today in both."""
    cats = make_categories()
    category = Category.objects.create(code="xss", name=CATEGORY_XSS, policy=cats["ordinary"])
    admin = tree.users[Role.COUNTY_ADMIN]
    grid = org_actions.grid_split(grid=tree.grid_a1, new_name=GRID_XSS, households=[tree.household_a], by=admin)
    grid.lng, grid.lat = 102.640, 29.350
    grid.save()
    tree.resident_a.refresh_from_db()
    appeal_actions.appeal_file(by=tree.users[Role.RESIDENT], category=category, title="楼道灯坏了",
                               description="三单元楼道灯坏了一个星期", channel=Channel.ONLINE,
                               reporter=tree.resident_a)
    return grid, category


def hover_center(page, testid: str):
    page.locator(f"[data-testid={testid}] canvas").first.hover()


def test_hostile_names_show_as_text_in_the_dashboard_tooltips(tree, hostile_names, open_session):
    grid, category = hostile_names
    s = open_session(tree.users[Role.COUNTY_ADMIN].username)
    today = timezone.localdate().isoformat()
    page = s.goto(f"/dashboards/appeals/?node={tree.comm_a.pk}&period=custom&from={today}&to={today}")
    expect(page.locator("#dashboard[data-ready='1']")).to_be_attached()
    # The one grid and the one category with appeals fill their charts: the middle of each is their shape.
    for chart, name in (("chart-heat", GRID_XSS), ("chart-categories", CATEGORY_XSS), ("chart-children", GRID_XSS)):
        hover_center(page, chart)
        expect(page.locator(f"[data-testid={chart}]")).to_contain_text(name)
        assert page.evaluate("window.__xss") is None, chart
        s.screenshot(f"csp-tooltip-{chart}")
    # The trend's tooltip lists the day's series with their colour dots.
    hover_center(page, "chart-trend")
    tip = page.locator("[data-testid=chart-trend] .chart-tip")
    expect(tip.locator(".chart-tip-row")).to_have_count(5)
    expect(tip.locator(".chart-tip-row").first).to_contain_text("受理1")
    assert tip.locator(".chart-tip-dot").first.evaluate("d => getComputedStyle(d).backgroundColor") != "rgba(0, 0, 0, 0)"
    s.screenshot("csp-tooltip-chart-trend")
    assert s.errors == []
    assert page.locator("img[src=x], img[src=y]").count() == 0
    page.mouse.move(0, 0)
    assert page.evaluate("window.__xss") is None


def test_hostile_grid_name_shows_as_text_on_the_filing_map(tree, hostile_names, open_session):
    s = open_session(tree.users[Role.RESIDENT].username, "phone")
    page = s.goto("/appeals/m/new/")
    page.locator("[data-testid=place-grid]").click()
    grid, _category = hostile_names
    expect(page.locator(f"path.place-{grid.pk}")).to_be_visible()
    expect(page.locator(".leaflet-tooltip", has_text=GRID_XSS)).to_be_visible()
    assert page.locator("img[src=x]").count() == 0
    assert page.evaluate("window.__xss") is None


# --- every page of every role ---------------------------------------------------------------------------------

HOSTILE = '<img src=z onerror="window.__xss=3">'


@pytest.fixture
def every_object(tree, settings, tmp_path):
    """Something behind every page with an id: two appeals (one resolved with a photo, one with a hostile title
    and category waiting for dispatch), a routing rule, a token and a notice for each user, an import job, a
    group robot, an Open311 key; grids on the map."""
    settings.MEDIA_ROOT = tmp_path / "media"
    u = tree.users
    cats = make_categories()
    hostile = Category.objects.create(code="hostile", name=HOSTILE, policy=cats["ordinary"])
    rule = route_water_to(tree.department, tree.comm_a)
    for node, (lng, lat) in ((tree.grid_a1, (102.640, 29.350)), (tree.micro_a1, (102.644, 29.352)),
                             (tree.grid_a2, (102.652, 29.346)), (tree.grid_b1, (102.700, 29.400))):
        node.lng, node.lat = lng, lat
        node.save()
    photo = SimpleUploadedFile("bin.png", tiny_png(), content_type="image/png")
    resolved = appeal_actions.appeal_file(by=u[Role.RESIDENT], category=cats["garbage"], title="垃圾没人清",
                                          description="门口垃圾堆了三天没人清运", channel=Channel.ONLINE,
                                          reporter=tree.resident_a, photos=[photo])
    appeal_actions.appeal_dispatch(appeal=resolved, by=u[Role.COMMUNITY_STAFF], to_unit=tree.department)
    appeal_actions.appeal_accept(appeal=resolved, by=u[Role.DEPARTMENT_HANDLER])
    appeal_actions.appeal_resolve(appeal=resolved, by=u[Role.DEPARTMENT_HANDLER], result="已清运")
    waiting = appeal_actions.appeal_file(by=u[Role.COMMUNITY_STAFF], category=hostile, title=HOSTILE,
                                         description="二组路口的路灯坏了好几天", channel=Channel.WINDOW, node=tree.grid_a2)
    admin = u[Role.COUNTY_ADMIN]
    tokens, notices = {}, {}
    for user in u.values():
        tokens[user.pk] = token_create(user=user, name="手机")[0]
        notices[user.pk] = Notice.objects.create(user=user, kind="dispatch", title=HOSTILE, appeal=resolved,
                                                 url=reverse("appeals:detail", args=[resolved.pk]))
    job = ImportJob.objects.create(created_by=admin, node=tree.county, org_path=tree.county.path,
                                   file="imports/居民.xlsx", original_name="居民.xlsx", status=ImportJob.Status.SUCCEEDED,
                                   rows_total=3, rows_validated=3, rows_written=2, created=2, errors=1)
    job.error_report.save("errors.xlsx", ContentFile(b"PK\x03\x04 an error report"))
    robot = endpoint_save(by=admin, name=HOSTILE, kind="wecom", node=tree.county,
                          url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc")
    client, _key = open311_client_create(name=HOSTILE, node=tree.county, by=admin)
    resolved.refresh_from_db()
    # Joining: a household's code with a request waiting on it, a party member with a code of their own.
    from gongzhi.accounts.actions import join as join_actions
    from gongzhi.orgs.models import PartyMember

    org_actions.resident_create(household=tree.household_a2, name=HOSTILE[:20], id_number=make_id("19800101"),
                                by=admin)
    join_code, join_raw = join_actions.join_code_create(by=admin, household=tree.household_a2, days=30)
    join_request = join_actions.join(request=RequestFactory().post("/", REMOTE_ADDR="198.51.100.77"), code=join_raw,
                                     name=HOSTILE[:20] + "x", id_last4="1234", phone="13600000999",
                                     password="Csp-join-2026").join_request
    member = PartyMember.objects.create(resident=tree.resident_a2, organization=tree.branch_a,
                                        assigned_node=tree.grid_a1, org_path=tree.grid_a1.path)
    party_code, _raw = join_actions.join_code_create(by=admin, party_member=member, days=30)
    # Participation: a published wish, an order and a party member's report, each with a hostile text.
    from gongzhi.participation import actions as part_actions

    wish = part_actions.wish_collect(by=SYSTEM, resident=tree.resident_a, title=HOSTILE[:60], description=HOSTILE)
    part_actions.wish_verify(wish=wish, by=SYSTEM)
    part_actions.wish_publish(wish=wish, by=SYSTEM)
    item = part_actions.service_item_save(by=SYSTEM, community=tree.comm_a, name=HOSTILE[:60])
    start = timezone.now() + dt.timedelta(hours=2)
    order = part_actions.order_place(by=SYSTEM, resident=tree.resident_a, item=item, window_start=start,
                                     window_end=start + dt.timedelta(hours=2), note=HOSTILE)
    report = part_actions.dual_register(by=SYSTEM, member=member, skills=HOSTILE[:200])
    staff_job = ImportJob.objects.create(kind="staff", created_by=u[Role.COMMUNITY_STAFF], node=tree.comm_a,
                                         org_path=tree.comm_a.path, original_name="人员.xlsx",
                                         status=ImportJob.Status.SUCCEEDED, rows_total=1, rows_validated=1, created=1)
    staff_job.error_report.save("errors.xlsx", ContentFile(b"PK\x03\x04 an error report"))
    return SimpleNamespace(cats=cats, hostile=hostile, rule=rule, resolved=resolved, waiting=waiting, tokens=tokens,
                           notices=notices, job=job, robot=robot, client=client, photo=resolved.photos.get(),
                           join_code=join_code, join_raw=join_raw, join_request=join_request, party_member=member,
                           party_code=party_code, wish=wish, order=order, report=report,
                           staff_job=staff_job, member=member)


def home(t, user):
    """The node where the user holds their role."""
    return RoleAssignment.objects.filter(user=user).select_related("node").first().node


def _appeal_ids(d, t, user):
    return [{"pk": d.resolved.pk}, {"pk": d.waiting.pk}]


# Where a URL takes an id: the objects to open, for a user (a dict, a list of them, or None). A URL with an
# id that is in neither map makes the test fail, so a new page is not left out unseen.
YEAR = dt.date.today().year
def _worker(d, t, u):
    return {"pk": t.users[Role.GRID_WORKER].pk}


DETAIL = {
    "accounts:token_revoke": lambda d, t, u: {"pk": d.tokens[u.pk].pk},
    "accounts:user_detail": _worker,
    "accounts:user_role_assign": _worker,
    "accounts:user_role_withdraw": lambda d, t, u: {
        "pk": t.users[Role.GRID_WORKER].pk, "role_pk": t.users[Role.GRID_WORKER].role_assignments.get().pk},
    "accounts:user_password_reset": _worker,
    "accounts:user_disable": _worker,
    "accounts:user_enable": _worker,
    "accounts:roster_job": lambda d, t, u: {"pk": d.staff_job.pk},
    "accounts:roster_job_progress": lambda d, t, u: {"pk": d.staff_job.pk},
    "accounts:roster_job_errors": lambda d, t, u: {"pk": d.staff_job.pk},
    "accounts:roster_codes": lambda d, t, u: {"pk": d.staff_job.pk},
    "accounts:party_member_account": lambda d, t, u: {"pk": d.member.pk},
    "orgs:tree_children": lambda d, t, u: {"pk": home(t, u).pk},
    "orgs:node": lambda d, t, u: [{"pk": home(t, u).pk}, {"pk": t.grid_a1.pk}],
    "orgs:grid_split": lambda d, t, u: {"pk": t.grid_a1.pk},
    "orgs:compound": lambda d, t, u: {"pk": t.compound_a.pk},
    "orgs:building": lambda d, t, u: {"pk": t.building_a.pk},
    "orgs:household": lambda d, t, u: {"pk": t.household_a.pk},
    "orgs:household_move": lambda d, t, u: {"pk": t.household_a.pk},
    "orgs:resident": lambda d, t, u: {"pk": t.resident_a.pk},
    "orgs:resident_edit": lambda d, t, u: {"pk": t.resident_a.pk},
    "orgs:resident_move": lambda d, t, u: {"pk": t.resident_a.pk},
    "orgs:resident_reveal": lambda d, t, u: {"pk": t.resident_a.pk},
    "orgs:party_org": lambda d, t, u: {"pk": t.branch_a.pk},
    "orgs:unit": lambda d, t, u: [{"pk": t.department.pk}, {"pk": t.partner.pk}],
    "setup:checklist": lambda d, t, u: {"pk": t.county.pk},
    "excel:job": lambda d, t, u: {"pk": d.job.pk},
    "excel:job_progress": lambda d, t, u: {"pk": d.job.pk},
    "excel:job_errors": lambda d, t, u: {"pk": d.job.pk},
    "appeals:m_detail": _appeal_ids,
    "appeals:m_rate": _appeal_ids,
    "appeals:m_follow": _appeal_ids,
    "appeals:m_photo": lambda d, t, u: {"pk": d.resolved.pk, "photo_pk": d.photo.pk},
    "appeals:admin_category_edit": lambda d, t, u: [{"pk": d.cats["water"].pk}, {"pk": d.hostile.pk}],
    "appeals:admin_policy_edit": lambda d, t, u: {"pk": d.cats["urgent"].pk},
    "appeals:admin_rule_edit": lambda d, t, u: {"pk": d.rule.pk},
    "appeals:admin_rule_delete": lambda d, t, u: {"pk": d.rule.pk},
    "appeals:admin_calendar_year": lambda d, t, u: [{"year": YEAR}, {"year": YEAR + 1}],
    # The queues of appeals.views: one page each.
    "appeals:queue": lambda d, t, u: [{"kind": k} for k in ("dispatch", "handle", "verify", "requests")],
    "appeals:detail": _appeal_ids,
    "appeals:act": lambda d, t, u: {"pk": d.waiting.pk, "action": "dispatch"},
    "appeals:photo": lambda d, t, u: {"pk": d.resolved.pk, "photo_pk": d.photo.pk},
    "open311:revoke": lambda d, t, u: {"pk": d.client.pk},
    "notify:open": lambda d, t, u: {"pk": d.notices[u.pk].pk},
    "notify:read": lambda d, t, u: {"pk": d.notices[u.pk].pk},
    "notify:webhook": lambda d, t, u: {"pk": d.robot.pk},
    "notify:webhook_test": lambda d, t, u: {"pk": d.robot.pk},
    "participation:wish_new": lambda d, t, u: {"resident_pk": t.resident_a.pk},
    "participation:wish": lambda d, t, u: {"pk": d.wish.pk},
    "participation:wish_step": lambda d, t, u: {"pk": d.wish.pk, "step": "claim"},
    "participation:order": lambda d, t, u: {"pk": d.order.pk},
    "participation:order_step": lambda d, t, u: {"pk": d.order.pk, "step": "take"},
    "participation:dual_decide": lambda d, t, u: {"pk": d.report.pk, "decision": "confirm"},
    "join:request": lambda d, t, u: {"pk": d.join_request.pk},
    "join:approve": lambda d, t, u: {"pk": d.join_request.pk},
    "join:reject": lambda d, t, u: {"pk": d.join_request.pk},
    "join:household": lambda d, t, u: {"pk": t.household_a2.pk},
    "join:unlink": lambda d, t, u: {"pk": t.household_a2.pk},
    "join:party": lambda d, t, u: {"pk": d.party_member.pk},
    "join:code_print": lambda d, t, u: [{"pk": d.join_code.pk}, {"pk": d.party_code.pk}],
    "join:code_qr": lambda d, t, u: {"pk": d.join_code.pk},
    "join:code_revoke": lambda d, t, u: {"pk": d.join_code.pk},
    "join:code": lambda d, t, u: {"code": d.join_raw},
}
# Machine interfaces, not pages: the JSON API's resources (its one page, the Swagger docs, is opened) and
# Open311's JSON/XML resources.
NOT_PAGES = ("api:", "open311:discovery", "open311:services", "open311:service", "open311:requests",
             "open311:request", "open311:token", "open311:updates")
API_PAGES = ("api:openapi-view",)
SAME_FOR_EVERYONE = {"api:openapi-view"}  # opened by the first role that has it (Swagger UI is slow to start)


def is_page(name: str) -> bool:
    return name in API_PAGES or not name.startswith(NOT_PAGES)


def url_patterns(patterns=None, namespace=""):
    """(full name, names of its arguments) for every named URL of the site."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            yield from url_patterns(p.url_patterns, namespace + (f"{p.namespace}:" if p.namespace else ""))
        elif p.name:
            yield namespace + p.name, sorted(p.pattern.regex.groupindex)


def urls_for(user, d, t) -> list[tuple[str, str]]:
    """(name, path) of every GET the user might open; fails on a URL with an id that no map knows."""
    out, unknown = [], []
    for name, args in url_patterns():
        if not is_page(name):
            continue
        if not args:
            out.append((name, reverse(name)))
            continue
        if name not in DETAIL:
            unknown.append(name)
            continue
        kwargs = DETAIL[name](d, t, user)
        for kw in kwargs if isinstance(kwargs, list) else [kwargs]:
            out.append((name, reverse(name, kwargs=kw)))
    assert unknown == [], f"URLs with an id the test does not know: add them to DETAIL (or NOT_PAGES): {unknown}"
    return out


ROLES = [Role.COUNTY_ADMIN, Role.SUBDISTRICT_STAFF, Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.BUILDING_STEWARD,
         Role.PARTY_SECRETARY, Role.DEPARTMENT_HANDLER, Role.PARTNER_CONTACT, Role.RESIDENT]


def test_every_page_of_every_role_runs_under_the_policy(tree, every_object, open_session):
    assert set(ROLES) == set(tree.users)
    loaded, post_only, files, problems = {}, set(), set(), []
    for role in ROLES:
        user = tree.users[role]
        s = open_session(user.username)  # the login page, under the policy too
        for name, path in urls_for(user, every_object, tree):
            if name in post_only or name in files or (name in SAME_FOR_EVERYONE and name in loaded):
                continue
            # Asked first without the page: a POST-only action answers 405, a download or JSON is not a page.
            probe = s.context.request.get(path)
            kind = probe.headers.get("content-type", "")
            if probe.status == 405:
                post_only.add(name)
                continue
            if probe.status != 200 or not kind.startswith("text/html"):
                if probe.status == 200:
                    files.add(name)
                continue  # not this role's (403/404): the error pages are tested once, in test_security_headers
            before = len(s.errors)
            response = s.page.goto(path)
            if response.headers.get("content-security-policy", "").find("script-src 'self'") < 0:
                problems.append(f"{role} {path}: no Content-Security-Policy header")
            # What the page loads after itself: htmx fragments, the dashboard's figures.
            expect(s.page.locator(".htmx-request, [aria-busy=true]")).to_have_count(0)
            problems += [f"{role} {path}: {e}" for e in s.errors[before:]]
            loaded.setdefault(name, set()).add(role)
        if s.page.evaluate("window.__xss") is not None:
            problems.append(f"{role}: a hostile name ran its onerror handler")
        s.close()
    pages = {name for name, _args in url_patterns() if is_page(name)}
    never = pages - set(loaded) - post_only - files
    print(f"\n{sum(len(r) for r in loaded.values())} page loads of {len(loaded)} pages; "
          f"POST-only, not loaded: {sorted(post_only)}; downloads and JSON, not loaded: {sorted(files)}")
    assert problems == []
    # Every page was opened by some role: none left out because no role of the tree could see it.
    assert never == set(), f"no role opened {sorted(never)}"
    assert {"dashboards:appeals", "appeals:list", "appeals:admin_routing", "appeals:m_new", "appeals:detail",
            "orgs:tree_children", "excel:job_progress", "api:openapi-view"} <= set(loaded)


# --- what the inline scripts did, from static files now ------------------------------------------------------


def test_moved_scripts_behave_as_before(tree, every_object, open_session):
    """"More filters" on a phone, the routing rule's delete confirmation, the large-text choice from the first
    paint: once done by inline scripts and on...= attributes, now by gongzhi/site.js and appeals/large-font.js."""
    s = open_session(tree.users[Role.COUNTY_ADMIN].username, "phone")
    page = s.goto("/appeals/")
    category = page.locator("[data-testid=filter-category]")
    expect(category).to_be_hidden()
    page.locator(".more-toggle").tap()
    expect(category).to_be_visible()
    s.screenshot("csp-appeals-more-filters")
    page.locator(".more-toggle").tap()
    expect(category).to_be_hidden()

    page = s.goto("/appeals/admin/routing/")
    rule = page.locator(f"[data-rule='{every_object.rule.pk}']")
    asked = []

    def answer(dialog, accept):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    rule.locator("[data-testid=delete-rule]").click()
    expect(rule).to_be_visible()
    assert asked == ["删除这条规则？"]
    s.screenshot("csp-routing")
    page.once("dialog", lambda d: answer(d, True))
    with page.expect_navigation():
        rule.locator("[data-testid=delete-rule]").click()
    expect(page.locator(f"[data-rule='{every_object.rule.pk}']")).to_have_count(0)
    assert len(asked) == 2

    r = open_session(tree.users[Role.RESIDENT].username, "phone")
    page = r.goto("/appeals/m/")
    page.locator("[data-testid=large-font]").tap()
    expect(page.locator("html")).to_have_class("large-font")
    # The next page is large before any deferred script runs: large-font.js runs in <head>.
    r.context.route("**/appeals-m.js", lambda route: route.abort())
    page = r.goto("/appeals/m/new/")
    expect(page.locator("html")).to_have_class("large-font")
    r.context.unroute("**/appeals-m.js")
    page = r.goto(f"/appeals/m/{every_object.resolved.pk}/")
    r.screenshot("csp-resident-large")
    assert s.errors == [] and [e for e in r.errors if "appeals-m.js" not in e and "ERR_FAILED" not in e] == []


# --- error pages on a phone -----------------------------------------------------------------------------------


def test_error_pages_fit_a_phone(tree, open_session, settings):
    """The 500 page rendered 980 px wide on a phone (no viewport meta): now it and the 404 page have the phone's
    width and the site's top bar, under the policy."""
    settings.ROOT_URLCONF = "tests.test_security_headers"  # the site's URLs and /boom/, a view that fails
    s = open_session(tree.users[Role.RESIDENT].username, "phone")
    for path, status in (("/boom/", 500), ("/no/such/page/", 404)):
        response = s.page.goto(path)
        assert response.status == status
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert s.page.evaluate("window.innerWidth") == 390, path
        assert s.overflow() <= 0, path
        expect(s.page.locator(f"[data-testid=error-page][data-status='{status}']")).to_be_visible()
        assert s.page.locator(".topbar .brand").bounding_box()["height"] > 0
        s.screenshot(f"error-{status}")
    # The browser reports the status of each page as an error; nothing else may be there (no policy violation).
    assert [e for e in s.errors if "status of 500" not in e and "status of 404" not in e] == []
