"""Registry pages: what each shows, edits through the actions (audited, nothing written on error), query counts."""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from gongzhi.core.access import SYSTEM
from gongzhi.core.access import Role
from gongzhi.core.models import AuditEvent
from gongzhi.orgs import actions
from gongzhi.orgs import views as org_views
from gongzhi.orgs.models import CareTag, Household, NodeKind, OrgNode, Relocation, Resident

from .factories import make_id, make_user


@pytest.fixture
def as_role(client, tree):
    def login(role):
        client.force_login(tree.users[role])
        return client

    return login


def text(response) -> str:
    return response.content.decode()


# --- each page shows what it is for ----------------------------------------------------------

PAGE_CONTENT = [
    ("tree", lambda t: reverse("orgs:tree"), ["汉源县"]),
    ("node", lambda t: reverse("orgs:node", args=[t.county.pk]), ["富林镇", "九襄镇", 'data-figure="residents"']),
    ("grid", lambda t: reverse("orgs:node", args=[t.grid_a1.pk]), ["滨河小区 1栋", "滨河小区1栋1单元101", "张建国"]),
    ("compound", lambda t: reverse("orgs:compound", args=[t.compound_a.pk]), ["滨河小区", "1栋", "第一网格"]),
    ("building", lambda t: reverse("orgs:building", args=[t.building_a.pk]), ["滨河小区1栋1单元101", "张建国"]),
    ("household", lambda t: reverse("orgs:household", args=[t.household_a.pk]), ["张建国", "138****1111", "第一微网格"]),
    ("resident", lambda t: reverse("orgs:resident", args=[t.resident_a.pk]), ["张建国", "138****1111", "汉族"]),
    ("residents", lambda t: reverse("orgs:residents"), ["张建国", "李秀英", "王小明"]),
    ("search", lambda t: reverse("orgs:search") + "?q=滨河小区", ["张建国", "滨河小区1栋1单元101"]),
    ("mobile", lambda t: reverse("orgs:mobile"), ["张建国"]),
    ("party", lambda t: reverse("orgs:party"), ["城东社区第一网格党支部"]),
    ("party_org", lambda t: reverse("orgs:party_org", args=[t.branch_a.pk]), ["城东社区第一网格党支部", "第一网格"]),
    ("units", lambda t: reverse("orgs:units"), ["县供电公司", "县住建局", "城东社区"]),
    ("unit", lambda t: reverse("orgs:unit", args=[t.partner.pk]), ["县供电公司", "城东社区"]),
    ("audit", lambda t: reverse("core:audit"), ["resident.create", "张建国"]),
]


@pytest.mark.parametrize("name,url,expected", PAGE_CONTENT, ids=[p[0] for p in PAGE_CONTENT])
def test_page_shows_its_content(as_role, tree, name, url, expected):
    response = as_role(Role.COUNTY_ADMIN).get(url(tree))
    assert response.status_code == 200
    body = text(response)
    for snippet in expected:
        assert snippet in body, f"{name}: {snippet!r} missing"
    # Personal data is only ever shown masked on a page.
    assert tree.resident_a.reveal_phone() not in body
    assert tree.resident_a.reveal_id_number() not in body


def test_home_sends_each_role_to_its_page(client, tree):
    expected = {
        Role.COUNTY_ADMIN: reverse("orgs:node", args=[tree.county.pk]),
        Role.SUBDISTRICT_STAFF: reverse("orgs:node", args=[tree.town_a.pk]),
        Role.COMMUNITY_STAFF: reverse("orgs:node", args=[tree.comm_a.pk]),
        Role.GRID_WORKER: reverse("orgs:mobile"),
        Role.RESIDENT: reverse("orgs:mine"),
    }
    for role, url in expected.items():
        client.force_login(tree.users[role])
        assert client.get("/").url == url, role
    client.force_login(make_user("nobody"))
    response = client.get("/")
    assert response.status_code == 200 and "您还没有任何角色" in text(response)
    client.logout()
    assert client.get("/").url.startswith(reverse("accounts:login"))


def test_tree_children_partial(as_role, tree):
    response = as_role(Role.COUNTY_ADMIN).get(reverse("orgs:tree_children", args=[tree.town_a.pk]), HTTP_HX_REQUEST="true")
    body = text(response)
    assert "城东社区" in body and "九襄镇" not in body and "<html" not in body


def test_node_page_counts_residents_per_child(as_role, tree):
    response = as_role(Role.COUNTY_ADMIN).get(reverse("orgs:node", args=[tree.comm_a.pk]))
    children = {c.name: c.resident_count for c in response.context["children"]}
    assert children == {"第一网格": 1, "第二网格": 1}
    rows = {r["key"]: r["value"] for r in response.context["figures"]["rows"]}
    assert rows["grids"] == 2 and rows["residents"] == 2 and rows["compounds"] == 1
    assert "subdistricts" not in rows  # only the levels below a community
    assert f'href="{reverse("orgs:residents")}?node={tree.comm_a.pk}"' in text(response)


def test_grid_page_households_and_care_residents(as_role, tree):
    response = as_role(Role.GRID_WORKER).get(reverse("orgs:node", args=[tree.grid_a1.pk]))
    ctx = response.context
    assert [(b.name, b.n_households) for b in ctx["buildings"]] == [("1栋", 1)]
    assert [h.address for h in ctx["households"]["rows"]] == ["滨河小区1栋1单元101"]
    assert [r.name for r in ctx["care_residents"]] == ["张建国"]
    assert 'data-testid="split-grid"' not in text(response)  # a grid worker may not reshape the tree


# --- resident list ----------------------------------------------------------------------------


def _add_residents(household, n, care=("elderly_alone",)):
    for i in range(n):
        actions.resident_create(household=household, name=f"居民{i:02d}", id_number=make_id("19500101"),
                                phone=f"1370000{i:04d}", care_groups=care, by=SYSTEM)


@pytest.mark.parametrize("query,names", [
    ("care_group=elderly_alone", ["张建国"]),
    ("gender=F", ["李秀英"]),
    ("age_min=80", ["张建国"]),
    ("age_max=17", ["王小明"]),
    ("residency=floating", []),
    ("care_group=veteran", []),  # a care group nobody in the area has
    ("q=zjg", ["张建国"]),
    ("q=13900002222", ["李秀英"]),
    ("q=花园小区", ["王小明"]),
])
def test_resident_list_filters(as_role, tree, query, names):
    response = as_role(Role.COUNTY_ADMIN).get(reverse("orgs:residents") + "?" + query)
    assert [r.name for r in response.context["rows"]] == names
    assert response.context["total"] == len(names)


def test_resident_list_finds_id_number_only_in_full(as_role, tree):
    client = as_role(Role.COUNTY_ADMIN)
    full = tree.resident_b.reveal_id_number()
    assert [r.name for r in client.get(reverse("orgs:residents"), {"q": full}).context["rows"]] == ["王小明"]
    assert client.get(reverse("orgs:residents"), {"q": full[:12]}).context["rows"] == []


def _area_options(response) -> list[dict]:
    """The area filter's <option>s as the page shows them."""
    return [{"pk": pk, "selected": bool(selected), "label": html.unescape(label)}
            for pk, selected, label in re.findall(r'<option value="(\d+)"( selected)?>([^<]*)</option>',
                                                  response.context["node_options"])]


def test_resident_list_node_filter_scoped(as_role, tree):
    client = as_role(Role.SUBDISTRICT_STAFF)
    response = client.get(reverse("orgs:residents"), {"node": tree.grid_a2.pk})
    assert [r.name for r in response.context["rows"]] == ["李秀英"]
    assert client.get(reverse("orgs:residents"), {"node": tree.grid_b1.pk}).status_code == 404
    options = [o["label"].strip("\u3000") for o in _area_options(client.get(reverse("orgs:residents")))]
    assert options == ["富林镇", "城东社区"]  # grids are picked from their community's page, not this list
    chosen = _area_options(client.get(reverse("orgs:residents"), {"node": tree.grid_a2.pk}))
    assert chosen[-1]["pk"] == str(tree.grid_a2.pk) and chosen[-1]["selected"]  # ... yet a chosen grid shows
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    options = [o["label"].strip("\u3000") for o in _area_options(client.get(reverse("orgs:residents")))]
    assert options == ["城东社区", "第一网格", "第二网格"]


def test_resident_list_htmx_returns_only_the_table(as_role, tree):
    response = as_role(Role.COUNTY_ADMIN).get(reverse("orgs:residents"), {"gender": "F"}, HTTP_HX_REQUEST="true")
    body = text(response)
    assert body.lstrip().startswith('<div id="resident-table"') and "<html" not in body
    assert "李秀英" in body and "张建国" not in body
    assert "HX-Request" in response["Vary"]


def test_resident_list_keyset_pages(as_role, tree):
    _add_residents(tree.household_a, 30)
    client = as_role(Role.COUNTY_ADMIN)
    url = reverse("orgs:residents")
    first = client.get(url)
    assert len(first.context["rows"]) == 25 and first.context["has_next"] and not first.context["has_prev"]
    second = client.get(url, {"after": first.context["last_cursor"], "page": 2})
    assert len(second.context["rows"]) == 8 and not second.context["has_next"] and second.context["has_prev"]
    assert second.context["page_no"] == 2
    seen = [r.pk for r in first.context["rows"]] + [r.pk for r in second.context["rows"]]
    assert sorted(seen) == sorted(Resident.objects.values_list("pk", flat=True))  # every row once
    back = client.get(url, {"before": second.context["first_cursor"], "page": 1})
    assert [r.pk for r in back.context["rows"]] == [r.pk for r in first.context["rows"]]
    assert not back.context["has_prev"]
    assert first.context["total"] == 33 and not first.context["more"]


def test_resident_list_count_is_capped(as_role, tree, monkeypatch):
    monkeypatch.setattr(org_views, "COUNT_CAP", 2)
    response = as_role(Role.COUNTY_ADMIN).get(reverse("orgs:residents"))
    assert response.context["more"] and "超过 2 名居民" in text(response)


def test_resident_list_queries_do_not_grow_with_rows(as_role, tree, django_assert_num_queries):
    _add_residents(tree.household_a, 30, care=("elderly_alone", "hardship"))
    client = as_role(Role.COUNTY_ADMIN)
    url = reverse("orgs:residents")
    # the user with their role assignments (once: then kept with the session in the shared cache), area
    # options, page of residents (with the capped count), their care tags
    with django_assert_num_queries(4):
        response = client.get(url)
    assert len(response.context["rows"]) == 25
    assert all(len(r.care_labels) == 2 for r in response.context["rows"][1:])
    with django_assert_num_queries(2):  # the area choices are kept a while (core.process_cache), the user too
        assert len(client.get(url, {"gender": "F"}).context["rows"]) == 1
    # the htmx partial skips the area options; the care group looks up its tags in the area first
    with django_assert_num_queries(3):
        response = client.get(url, {"care_group": "hardship"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.count('data-label="') == 25 * 9 and "30" in html.split('data-testid="result-count">')[1][:40]


def test_node_and_grid_page_query_counts(as_role, tree, django_assert_num_queries):
    client = as_role(Role.COUNTY_ADMIN)
    # user with roles (once; then from the shared cache, as the session), node, ancestors, 7 figures
    # (levels, buildings, households, residents, party members, compounds, care groups), children,
    # resident counts per child
    with django_assert_num_queries(12):
        client.get(reverse("orgs:node", args=[tree.comm_a.pk]))
    _add_residents(tree.household_a, 10)
    # node page without compounds (6 figures) + buildings, households page, care residents and their tags
    with django_assert_num_queries(14):
        response = client.get(reverse("orgs:node", args=[tree.grid_a1.pk]))
    assert len(response.context["care_residents"]) == 11


# --- search and the mobile page ---------------------------------------------------------------


def test_search_page(as_role, tree):
    client = as_role(Role.SUBDISTRICT_STAFF)
    response = client.get(reverse("orgs:search"), {"q": "13800001111"})
    assert [r.name for r in response.context["residents"]] == ["张建国"]
    assert "滨河小区1栋1单元101" in text(response)
    assert client.get(reverse("orgs:search"), {"q": "1380000"}).context["residents"] == []
    assert client.get(reverse("orgs:search"), {"q": "王小明"}).context["residents"] == []  # another town
    partial = client.get(reverse("orgs:search"), {"q": "lxy"}, HTTP_HX_REQUEST="true")
    assert "李秀英" in text(partial) and "<html" not in text(partial)


def test_mobile_page_groups_care_residents_without_call_link(as_role, tree):
    response = as_role(Role.GRID_WORKER).get(reverse("orgs:mobile"))
    (grid,) = response.context["grids"]
    assert grid["node"] == tree.grid_a1
    assert [(g["group"], [r.name for r in g["residents"]]) for g in grid["care_groups"]] == [
        ("elderly_alone", ["张建国"]), ("advanced_age", ["张建国"]),
    ]
    assert "tel:" not in text(response) and "138****1111" in text(response)
    found = as_role(Role.GRID_WORKER).get(reverse("orgs:mobile"), {"q": "zjg"})
    assert [r.name for r in found.context["results"]] == ["张建国"]


def test_mine_page(client, tree):
    client.force_login(tree.users[Role.RESIDENT])
    response = client.get(reverse("orgs:mine"))
    assert response.context["household"] == tree.household_a
    assert "138****1111" in text(response) and "查看完整信息" not in text(response)
    client.force_login(tree.users[Role.COUNTY_ADMIN])
    assert client.get(reverse("orgs:mine")).context["me"] is None


# --- reveal -----------------------------------------------------------------------------------


def _reveal(client, resident, field="phone", reason="上门走访"):
    return client.post(reverse("orgs:resident_reveal", args=[resident.pk]), {"field": field, "reason": reason},
                       HTTP_HX_REQUEST="true")


def test_reveal_swaps_in_the_full_value_and_audits(as_role, tree):
    client = as_role(Role.GRID_WORKER)
    response = _reveal(client, tree.resident_a)
    assert response.status_code == 200 and 'href="tel:13800001111"' in text(response)
    id_response = _reveal(client, tree.resident_a, field="id_number")
    assert tree.resident_a.reveal_id_number() in text(id_response)
    events = AuditEvent.objects.filter(action__startswith="pii.reveal", object_id=str(tree.resident_a.pk))
    assert sorted(e.action for e in events) == ["pii.reveal.id_number", "pii.reveal.phone"]
    assert {e.reason for e in events} == {"上门走访"}


def test_reveal_needs_a_reason(as_role, tree):
    response = _reveal(as_role(Role.GRID_WORKER), tree.resident_a, reason=" x ")
    assert response.status_code == 200 and "13800001111" not in text(response)
    assert "errorlist" in text(response) and " open" in text(response)
    assert not AuditEvent.objects.filter(action__startswith="pii.reveal").exists()


def test_reveal_refused_without_permission_or_scope(as_role, tree):
    steward = as_role(Role.BUILDING_STEWARD)  # sees the registry, may not reveal
    page = steward.get(reverse("orgs:resident", args=[tree.resident_a.pk]))
    assert page.status_code == 200 and 'data-testid="reveal-phone"' not in text(page)
    assert _reveal(steward, tree.resident_a).status_code == 403
    assert _reveal(as_role(Role.GRID_WORKER), tree.resident_b).status_code == 404
    assert _reveal(as_role(Role.PARTNER_CONTACT), tree.resident_a).status_code == 404
    assert not AuditEvent.objects.filter(action__startswith="pii.reveal").exists()
    admin_page = as_role(Role.COUNTY_ADMIN).get(reverse("orgs:resident", args=[tree.resident_a.pk]))
    assert 'data-testid="reveal-phone"' in text(admin_page) and 'data-testid="reveal-id_number"' in text(admin_page)


# --- edits ------------------------------------------------------------------------------------


def test_edit_resident(as_role, tree):
    client = as_role(Role.GRID_WORKER)
    url = reverse("orgs:resident_edit", args=[tree.resident_a.pk])
    assert client.get(url).context["form"].initial["care_groups"] == ["elderly_alone", "advanced_age"]
    response = client.post(url, {
        "phone": "13912345678", "relation": "head", "residency": "floating", "ethnicity": "彝族",
        "care_groups": ["advanced_age", "disabled"],
    })
    assert response.url == reverse("orgs:resident", args=[tree.resident_a.pk])
    r = Resident.objects.get(pk=tree.resident_a.pk)
    assert (r.phone_masked, r.residency, r.ethnicity) == ("139****5678", "floating", "彝族")
    assert sorted(CareTag.objects.filter(resident=r).values_list("group", flat=True)) == ["advanced_age", "disabled"]
    event = AuditEvent.objects.get(action="resident.update")
    assert event.actor == tree.users[Role.GRID_WORKER] and event.changes["phone"] == ["", "139****5678"]
    assert client.get(reverse("orgs:resident", args=[r.pk])).context["resident"].residency == "floating"


def test_edit_resident_error_writes_nothing(as_role, tree):
    client = as_role(Role.GRID_WORKER)
    before = AuditEvent.objects.count()
    response = client.post(reverse("orgs:resident_edit", args=[tree.resident_a.pk]), {
        "phone": "12345", "relation": "head", "residency": "floating", "ethnicity": "汉族", "care_groups": [],
    })
    assert response.status_code == 200
    assert "11 位手机号" in text(response) and 'data-testid="form-errors"' in text(response)
    r = Resident.objects.get(pk=tree.resident_a.pk)
    assert r.residency == "registered" and r.phone_masked == "138****1111"
    assert CareTag.objects.filter(resident=r).count() == 2 and AuditEvent.objects.count() == before


def test_edit_buttons_only_for_editors(as_role, tree):
    url = reverse("orgs:resident", args=[tree.resident_a.pk])
    assert 'data-testid="edit-resident"' in text(as_role(Role.GRID_WORKER).get(url))
    steward = as_role(Role.BUILDING_STEWARD)
    assert 'data-testid="edit-resident"' not in text(steward.get(url))
    assert steward.get(reverse("orgs:resident_edit", args=[tree.resident_a.pk])).status_code == 403
    assert steward.post(reverse("orgs:household_move", args=[tree.household_a.pk]),
                        {"to_node": tree.grid_a2.pk}).status_code == 403
    household = text(steward.get(reverse("orgs:household", args=[tree.household_a.pk])))
    assert 'data-testid="move-household"' not in household
    # Out of scope is "not found", whatever the role may do elsewhere.
    assert as_role(Role.GRID_WORKER).get(reverse("orgs:resident_edit", args=[tree.resident_b.pk])).status_code == 404


def test_move_household(as_role, tree):
    client = as_role(Role.COMMUNITY_STAFF)
    url = reverse("orgs:household_move", args=[tree.household_a.pk])
    choices = dict(client.get(url).context["form"].fields["to_node"].choices)
    assert set(choices) == {"", tree.grid_a1.pk, tree.grid_a2.pk}  # not its own micro-grid, nothing outside
    assert choices[tree.grid_a2.pk] == "城东社区 › 第二网格"
    response = client.post(url, {"to_node": tree.grid_a2.pk, "reason": "调整网格"})
    assert response.url == reverse("orgs:household", args=[tree.household_a.pk])
    h = Household.objects.get(pk=tree.household_a.pk)
    assert h.org_path == tree.grid_a2.path and Resident.objects.get(pk=tree.resident_a.pk).org_path == tree.grid_a2.path
    assert AuditEvent.objects.filter(action="household.move", reason="调整网格").count() == 1
    page = text(client.get(reverse("orgs:household", args=[h.pk])))
    assert "调整网格" in page and "第二网格" in page  # the move shows in the history


def test_move_household_outside_scope_refused(as_role, tree):
    client = as_role(Role.COMMUNITY_STAFF)
    response = client.post(reverse("orgs:household_move", args=[tree.household_a.pk]), {"to_node": tree.grid_b1.pk})
    assert response.status_code == 200 and response.context["form"].errors
    assert Household.objects.get(pk=tree.household_a.pk).org_path == tree.micro_a1.path
    assert not AuditEvent.objects.filter(action="household.move").exists()


def test_move_resident(as_role, tree):
    client = as_role(Role.COMMUNITY_STAFF)
    url = reverse("orgs:resident_move", args=[tree.resident_a.pk])
    matches = client.get(url, {"q": "城东"}, HTTP_HX_REQUEST="true")
    assert "城东社区二组12号" in text(matches) and "<html" not in text(matches)
    assert client.get(url, {"q": "花园"}).context["matches"] == []  # another town's household
    response = client.post(url, {"q": "城东", "to_household": tree.household_a2.pk, "relation": "parent", "reason": "投靠子女"})
    assert response.url == reverse("orgs:resident", args=[tree.resident_a.pk])
    r = Resident.objects.get(pk=tree.resident_a.pk)
    assert r.household_id == tree.household_a2.pk and r.relation == "parent"
    assert Relocation.objects.filter(resident=r, kind=Relocation.Kind.RESIDENT_HOUSEHOLD).count() == 1
    assert "投靠子女" in text(client.get(reverse("orgs:resident", args=[r.pk])))


def test_move_resident_errors(as_role, tree):
    client = as_role(Role.COMMUNITY_STAFF)
    url = reverse("orgs:resident_move", args=[tree.resident_a.pk])
    for data in ({"relation": "other"}, {"to_household": tree.household_b.pk, "relation": "other"}):
        response = client.post(url, data)
        assert response.status_code == 200 and "请从搜索结果中选择新住户" in text(response)
    assert Resident.objects.get(pk=tree.resident_a.pk).household_id == tree.household_a.pk
    assert not AuditEvent.objects.filter(action="resident.move").exists()


def test_split_grid(as_role, tree):
    client = as_role(Role.COMMUNITY_STAFF)
    url = reverse("orgs:grid_split", args=[tree.grid_a1.pk])
    response = client.post(url, {"new_name": "第三网格", "households": [tree.household_a.pk]})
    new_grid = OrgNode.objects.get(name="第三网格")
    assert new_grid.kind == NodeKind.GRID and response.url == reverse("orgs:node", args=[new_grid.pk])
    assert Household.objects.get(pk=tree.household_a.pk).org_path == new_grid.path
    assert AuditEvent.objects.filter(action="grid.split").count() == 1


def test_split_grid_errors(as_role, tree):
    client = as_role(Role.COMMUNITY_STAFF)
    url = reverse("orgs:grid_split", args=[tree.grid_a1.pk])
    response = client.post(url, {"new_name": "第三网格"})
    assert response.status_code == 200 and response.context["form"].errors["households"]
    response = client.post(url, {"new_name": "第三网格", "households": [tree.household_a2.pk]})  # another grid's
    assert response.context["form"].errors["households"]
    assert not OrgNode.objects.filter(name="第三网格").exists()
    assert as_role(Role.GRID_WORKER).get(url).status_code == 403  # no tree.edit
    assert client.get(reverse("orgs:grid_split", args=[tree.micro_a1.pk])).status_code == 403  # not a grid


# --- audit ------------------------------------------------------------------------------------


def test_audit_page_scoped_and_filtered(as_role, tree):
    actions.resident_reveal(resident=tree.resident_a, by=tree.users[Role.GRID_WORKER], field="phone", reason="核实电话")
    client = as_role(Role.SUBDISTRICT_STAFF)
    url = reverse("core:audit")
    response = client.get(url)
    reprs = {e.object_repr for e in response.context["rows"]}
    assert "张建国" in reprs and "王小明" not in reprs  # the other town's events stay hidden
    assert "pii.reveal.phone" in dict(response.context["form"].fields["action"].choices)

    def found(**query):
        return [(e.action, e.object_repr) for e in client.get(url, query).context["rows"]]

    assert found(action="pii.reveal.phone") == [("pii.reveal.phone", "张建国")]
    assert found(actor="wangge") == [("pii.reveal.phone", "张建国")]
    assert found(reason="核实") == [("pii.reveal.phone", "张建国")]
    today = timezone.localdate()
    assert ("pii.reveal.phone", "张建国") in found(date_from=today.isoformat(), date_to=today.isoformat())
    assert found(date_to=(today - dt.timedelta(days=2)).isoformat()) == []
    assert found(object_type="orgs.household", action="household.create") == [  # newest first
        ("household.create", "城东社区二组12号"), ("household.create", "滨河小区1栋1单元101"),
    ]


def test_audit_page_paginates(as_role, tree, monkeypatch):
    from gongzhi.core import views as core_views

    monkeypatch.setattr(core_views, "AUDIT_PAGE_SIZE", 3)
    client = as_role(Role.COUNTY_ADMIN)
    first = client.get(reverse("core:audit"))
    second = client.get(reverse("core:audit"), {"page": 2})
    assert len(first.context["rows"]) == 3 and first.context["has_next"] and second.context["has_prev"]
    assert not {e.pk for e in first.context["rows"]} & {e.pk for e in second.context["rows"]}


def test_subtree_range_bounds():
    from gongzhi.core.scoping import past_subtree as _past_subtree

    assert _past_subtree("00010009") == "0001000A"
    assert _past_subtree("000100AZ") == "000100B"
    assert _past_subtree("0001ZZZZ") == "0002"
    assert _past_subtree("ZZZZ") is None
    for inside in ("000100AZ", "000100AZ0001", "000100AZZZZZ"):
        assert "000100AZ" <= inside < _past_subtree("000100AZ")
    assert not "000100B0" < _past_subtree("000100AZ")
