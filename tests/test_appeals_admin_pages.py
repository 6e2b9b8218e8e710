"""The appeal settings pages: categories with their form fields, deadline policies, routing rules and the
route tester, the working-day calendar; who may use them."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from gongzhi.core.access import Role
from gongzhi.appeals import routing
from gongzhi.appeals.models import Category, DeadlinePolicy, RoutingRule
from gongzhi.core import workdays
from gongzhi.core.models import AuditEvent, CalendarDay

from .appeals_factories import make_categories


@pytest.fixture
def cats(db):
    return make_categories()


@pytest.fixture
def as_role(client, tree):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    def login(role):
        client.force_login(tree.users[role])
        return client

    return login


def text(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def category_data(fields=(), **values) -> dict:
    data = {"code": "streetlight", "name": "路灯维修", "description": "", "parent": "", "policy": "", "keywords": "路灯",
            "sort_order": "3", "is_active": "on"}
    data.update(values)
    data.update({"ff-TOTAL_FORMS": str(len(fields)), "ff-INITIAL_FORMS": "0", "ff-MIN_NUM_FORMS": "0",
                 "ff-MAX_NUM_FORMS": "40"})
    for i, field in enumerate(fields):
        for key, value in field.items():
            data[f"ff-{i}-{key}"] = value
    return data


# --- categories ----------------------------------------------------------------------------------


def test_create_a_category_with_form_fields(as_role, tree, cats):
    client = as_role(Role.COUNTY_ADMIN)
    assert client.get(reverse("appeals:admin_category_new")).status_code == 200
    response = client.post(reverse("appeals:admin_category_new"), category_data(
        fields=[
            {"code": "pole", "datatype": "string", "required": "on", "description": "灯杆编号", "values": ""},
            {"code": "kind", "datatype": "singlevaluelist", "description": "什么问题",
             "values": "dark: 不亮\nflicker：一闪一闪\n\n"},
            {"code": "", "datatype": "string", "description": "", "values": ""},  # an empty row adds nothing
        ],
        parent=str(cats["env"].pk), policy=str(cats["urgent"].pk),
    ))
    assert response.status_code == 302 and response.url == reverse("appeals:admin_categories")
    category = Category.objects.get(code="streetlight")
    assert category.parent == cats["env"] and category.policy == cats["urgent"] and category.sort_order == 3
    assert category.form_fields == [
        {"code": "pole", "datatype": "string", "required": True, "description": "灯杆编号", "order": 1},
        {"code": "kind", "datatype": "singlevaluelist", "required": False, "description": "什么问题", "order": 2,
         "values": [{"key": "dark", "name": "不亮"}, {"key": "flicker", "name": "一闪一闪"}]},
    ]
    assert AuditEvent.objects.filter(action="appeals.category_create", object_id=str(category.pk)).exists()
    listing = text(client.get(reverse("appeals:admin_categories")))
    row = re.search(r'<tr data-category="streetlight".*?</tr>', listing, re.S).group(0)
    assert "路灯维修" in row and "紧急" in row and "灯杆编号 *" in row
    # the garbage category shows the policy it inherits
    row = re.search(r'<tr data-category="garbage".*?</tr>', listing, re.S).group(0)
    assert "普通 (inherited)" in row


def test_edit_form_fields_and_policy(as_role, tree, cats):
    client = as_role(Role.COUNTY_ADMIN)
    water = cats["water"]
    page = text(client.get(reverse("appeals:admin_category_edit", args=[water.pk])))
    assert 'value="outage"' in page and "none: 没有水" in page  # the stored field is shown for editing
    data = category_data(
        fields=[
            {"code": "outage", "datatype": "singlevaluelist", "required": "on", "description": "停水情况",
             "values": "none: 没有水\nlow: 水压低", "DELETE": "on"},
            {"code": "since", "datatype": "datetime", "description": "从什么时候开始", "values": ""},
        ],
        code="water", name="供水", policy=str(cats["ordinary"].pk),
    )
    data["ff-INITIAL_FORMS"] = "1"
    response = client.post(reverse("appeals:admin_category_edit", args=[water.pk]), data)
    assert response.status_code == 302
    water.refresh_from_db()
    assert [f["code"] for f in water.form_fields] == ["since"] and water.policy == cats["ordinary"]
    event = AuditEvent.objects.get(action="appeals.category_update", object_id=str(water.pk))
    assert event.changes["policy"] == ["水电气暖", "普通"]


@pytest.mark.parametrize("change, message", [
    ({"fields": [{"code": "kind", "datatype": "singlevaluelist", "description": "问题", "values": ""}]},
     "“kind” is a list: give its values."),
    ({"fields": [{"code": "a", "datatype": "string", "values": ""}, {"code": "a", "datatype": "number", "values": ""}]},
     "The code “a” is used twice."),
    ({"fields": [{"code": "", "datatype": "string", "description": "没有代码的问题", "values": ""}]},
     "Every form field needs a code."),
    ({"code": "garbage"}, "Another category has the code “garbage”."),
    ({"fields": [{"code": "9lives", "datatype": "string", "values": ""}]}, "Letters, digits and _ only"),
])
def test_category_refusals_write_nothing(as_role, tree, cats, change, message):
    client = as_role(Role.COUNTY_ADMIN)
    before = (Category.objects.count(), AuditEvent.objects.count())
    change = dict(change)
    response = client.post(reverse("appeals:admin_category_new"), category_data(change.pop("fields", ()), **change))
    assert response.status_code == 200 and message in text(response)
    assert (Category.objects.count(), AuditEvent.objects.count()) == before


def test_a_category_cannot_go_under_its_own_branch(as_role, tree, cats):
    client = as_role(Role.COUNTY_ADMIN)
    page = client.get(reverse("appeals:admin_category_edit", args=[cats["env"].pk]))
    parents = dict(page.context["form"].fields["parent"].choices)
    assert cats["garbage"].pk not in parents and cats["env"].pk not in parents and cats["water"].pk in parents
    response = client.post(reverse("appeals:admin_category_edit", args=[cats["env"].pk]),
                           category_data(code="environment", name="环境卫生", parent=str(cats["garbage"].pk)))
    assert response.status_code == 200 and "Select a valid choice" in text(response)
    cats["env"].refresh_from_db()
    assert cats["env"].parent is None


# --- deadline policies ---------------------------------------------------------------------------


def policy_data(**values):
    data = {"name": "复杂", "response_amount": "2", "response_unit": "working_hours", "resolve_amount": "15",
            "resolve_unit": "working_days", "due_soon_percent": "20", "reopen_on_unsatisfied": "on",
            "max_reopens": "1"}
    data.update(values)
    return data


def test_policies(as_role, tree, cats):
    client = as_role(Role.COUNTY_ADMIN)
    response = client.post(reverse("appeals:admin_policy_new"), policy_data())
    assert response.status_code == 302
    policy = DeadlinePolicy.objects.get(name="复杂")
    assert (policy.resolve_amount, policy.resolve_unit, policy.due_soon_percent, policy.max_reopens) == (
        15, "working_days", 20, 1)
    response = client.post(reverse("appeals:admin_policy_edit", args=[cats["ordinary"].pk]),
                           policy_data(name="普通", resolve_amount="5", reopen_on_unsatisfied=""))
    assert response.status_code == 302
    cats["ordinary"].refresh_from_db()
    assert cats["ordinary"].resolve_amount == 5 and not cats["ordinary"].reopen_on_unsatisfied
    assert routing.policy_for(cats["garbage"]).resolve_amount == 5  # the subcategory inherits it
    listing = text(client.get(reverse("appeals:admin_policies")))
    row = re.search(r'<tr data-policy="普通".*?</tr>', listing, re.S).group(0)
    assert "5 working days" in row and "20% left" in row and ">no<" in row
    assert AuditEvent.objects.filter(action="appeals.policy_update").count() == 1

    for bad, message in ((policy_data(name="紧急"), "Deadline policy with this Name already exists."),
                         (policy_data(name="新的", due_soon_percent="150"),
                          "The due-soon share is a percentage from 0 to 100.")):
        before = DeadlinePolicy.objects.count()
        response = client.post(reverse("appeals:admin_policy_new"), bad)
        assert response.status_code == 200 and message in text(response)
        assert DeadlinePolicy.objects.count() == before


# --- routing -------------------------------------------------------------------------------------


def rule_data(node, **values):
    data = {"node": str(node.pk), "category": "", "target": "own_grid", "target_node": "", "target_unit": ""}
    data.update(values)
    return data


def test_routing_rules_and_the_route_tester(as_role, tree, cats):
    client = as_role(Role.COUNTY_ADMIN)
    tester = client.get(reverse("appeals:admin_routing"), {"node": tree.micro_a1.pk, "category": cats["water"].pk})
    assert re.search(r'data-testid="route-handler">城东社区<', text(tester))  # no rule: the community
    assert "No rule applies" in text(tester)

    response = client.post(reverse("appeals:admin_rule_new"), rule_data(
        tree.county, category=str(cats["water"].pk), target="unit", target_unit=str(tree.partner.pk),
        auto_dispatch="on"))
    assert response.status_code == 302
    rule = RoutingRule.objects.get(node=tree.county, category=cats["water"])
    assert rule.target_unit == tree.partner and rule.auto_dispatch and rule.org_path == tree.county.path
    assert AuditEvent.objects.filter(action="appeals.routing_create").exists()

    tester = client.get(reverse("appeals:admin_routing"), {"node": tree.micro_a1.pk, "category": cats["water"].pk},
                        HTTP_HX_REQUEST="true")
    body = text(tester)
    assert "<html" not in body and re.search(r'data-testid="route-handler">县供电公司<', body)
    assert "dispatched automatically" in body and "By the rule set at 汉源县" in body

    # a deeper rule wins in its subtree
    client.post(reverse("appeals:admin_rule_new"), rule_data(tree.comm_a, category=str(cats["water"].pk)))
    assert routing.route(tree.micro_a1, cats["water"]).node == tree.grid_a1
    assert routing.route(tree.grid_b1, cats["water"]).unit == tree.partner

    # one rule per place and category; a fixed node must be chosen when the target is a node
    for data, message in (
        (rule_data(tree.comm_a, category=str(cats["water"].pk)), "There is a rule for this place and category already"),
        (rule_data(tree.comm_b, target="node"), "Choose the org node that handles these appeals."),
    ):
        before = RoutingRule.objects.count()
        response = client.post(reverse("appeals:admin_rule_new"), data)
        assert response.status_code == 200 and message in text(response)
        assert RoutingRule.objects.count() == before

    response = client.post(reverse("appeals:admin_rule_delete", args=[rule.pk]))
    assert response.status_code == 302 and not RoutingRule.objects.filter(pk=rule.pk).exists()
    assert AuditEvent.objects.filter(action="appeals.routing_delete").exists()


def test_subdistrict_staff_keep_the_rules_of_their_own_area(as_role, tree, cats):
    county_rule = RoutingRule.objects.create(node=tree.county, org_path=tree.county.path, category=None,
                                             target=RoutingRule.Target.OWN_COMMUNITY)
    client = as_role(Role.SUBDISTRICT_STAFF)
    page = client.get(reverse("appeals:admin_rule_new"))
    offered = dict(page.context["form"].fields["node"].choices)
    assert tree.town_a.pk in offered and tree.grid_a1.pk in offered
    assert tree.town_b.pk not in offered and tree.county.pk not in offered

    response = client.post(reverse("appeals:admin_rule_new"), rule_data(tree.town_a, category=str(cats["env"].pk),
                                                                        target="own_grid"))
    assert response.status_code == 302
    mine = RoutingRule.objects.get(node=tree.town_a)
    response = client.post(reverse("appeals:admin_rule_new"), rule_data(tree.town_b))
    assert response.status_code == 200 and "Select a valid choice" in text(response)
    assert not RoutingRule.objects.filter(node=tree.town_b).exists()

    listing = client.get(reverse("appeals:admin_routing"))
    assert [r.pk for r in listing.context["rules"]] == [mine.pk]
    assert [r.pk for r in listing.context["inherited"]] == [county_rule.pk]  # shown, read-only
    assert client.get(reverse("appeals:admin_rule_edit", args=[county_rule.pk])).status_code == 404
    assert client.post(reverse("appeals:admin_rule_delete", args=[county_rule.pk])).status_code == 404
    assert client.get(reverse("appeals:admin_rule_edit", args=[mine.pk])).status_code == 200
    assert RoutingRule.objects.filter(pk=county_rule.pk).exists()


# --- the calendar --------------------------------------------------------------------------------


def test_calendar_override_and_confirm_remove_the_warning(as_role, tree, django_capture_on_commit_callbacks):
    client = as_role(Role.COUNTY_ADMIN)
    assert 2027 not in workdays.library_years()  # the library knows nothing of 2027 yet
    page = client.get(reverse("appeals:admin_calendar_year", args=[2027]))
    body = text(page)
    assert 'data-testid="year-warning"' in body and 'data-confirmed="0"' in body
    assert 'data-testid="no-overrides"' in body
    index = text(client.get(reverse("appeals:admin_index")))
    assert 'data-testid="unconfirmed-year" data-year="2027"' in index

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("appeals:admin_calendar_year", args=[2027]),
                               {"op": "set", "date": "2027-02-08", "is_workday": "0", "name": "春节"})
    assert response.status_code == 302
    assert CalendarDay.objects.get(date=dt.date(2027, 2, 8)).name == "春节"
    assert not workdays.is_workday(dt.date(2027, 2, 8))  # a Monday off
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("appeals:admin_calendar_year", args=[2027]),
                    {"op": "set", "date": "2027-02-06", "is_workday": "1", "name": "春节调休上班"})
    body = text(client.get(reverse("appeals:admin_calendar_year", args=[2027])))
    overrides = re.search(r'data-testid="overrides".*?</ul>', body, re.S).group(0)
    assert "02-08" in overrides and "春节" in overrides and "02-06" in overrides
    assert re.search(r'<td class="holiday" data-date="2027-02-08">', body)
    assert re.search(r'<td class="makeup" data-date="2027-02-06">', body)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("appeals:admin_calendar_year", args=[2027]), {"op": "clear", "date": "2027-02-06"})
    assert not CalendarDay.objects.filter(date=dt.date(2027, 2, 6)).exists()
    assert not workdays.is_workday(dt.date(2027, 2, 6))  # a Saturday again

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("appeals:admin_calendar_year", args=[2027]),
                               {"op": "confirm", "confirmed": "1", "note": "国办发明电"})
    assert response.status_code == 302
    body = text(client.get(reverse("appeals:admin_calendar_year", args=[2027])))
    assert 'data-testid="year-warning"' not in body and 'data-testid="year-confirmed"' in body
    assert 'data-year="2027"' not in text(client.get(reverse("appeals:admin_index")))
    assert workdays.year_confirmed(2027)
    assert AuditEvent.objects.filter(action="calendar.year_confirm").exists()


def test_calendar_shows_the_official_year(as_role, tree):
    body = text(as_role(Role.COUNTY_ADMIN).get(reverse("appeals:admin_calendar_year", args=[2026])))
    official = re.sub(r"<[^>]+>", "", re.search(r'data-testid="official".*?</ul>', body, re.S).group(0))
    assert "10-01 – 10-07 National Day 7 days off" in official  # 国庆 2026 with its make-up working days
    assert "09-20 make-up working day (National Day)" in official and "10-10 make-up working day" in official
    assert re.search(r'<td class="makeup" data-date="2026-10-10">', body)  # a Saturday at work
    assert 'data-testid="year-warning"' not in body


def test_calendar_refuses_bad_input(as_role, tree):
    client = as_role(Role.COUNTY_ADMIN)
    response = client.post(reverse("appeals:admin_calendar_year", args=[2027]), {"op": "set", "date": "soon"},
                           follow=True)
    assert "Date: Enter a valid date." in text(response)
    assert not CalendarDay.objects.exists()


# --- who may use these pages ---------------------------------------------------------------------

ADMIN_ONLY = ["admin_categories", "admin_category_new", "admin_policies", "admin_policy_new", "admin_calendar"]
ROUTING = ["admin_index", "admin_routing", "admin_rule_new"]


@pytest.mark.parametrize("role", list(Role))
def test_who_may_use_the_settings(as_role, tree, cats, role):
    client = as_role(role)
    county_admin = role == Role.COUNTY_ADMIN
    routing_ok = role in (Role.COUNTY_ADMIN, Role.SUBDISTRICT_STAFF)  # APPEALS_ADMIN over their area
    for name in ADMIN_ONLY:
        assert client.get(reverse(f"appeals:{name}")).status_code == (200 if county_admin else 403), name
    for name in ROUTING:
        assert client.get(reverse(f"appeals:{name}")).status_code == (200 if routing_ok else 403), name
    before = Category.objects.count()
    response = client.post(reverse("appeals:admin_category_new"), category_data())
    assert response.status_code == (302 if county_admin else 403)
    assert Category.objects.count() == before + (1 if county_admin else 0)
    response = client.post(reverse("appeals:admin_calendar_year", args=[2027]), {"op": "confirm", "confirmed": "1"})
    assert response.status_code == (302 if county_admin else 403)


def test_anonymous_is_sent_to_login(client, tree):
    for name in ADMIN_ONLY + ROUTING:
        response = client.get(reverse(f"appeals:{name}"))
        assert response.status_code == 302 and reverse("accounts:login") in response.url
