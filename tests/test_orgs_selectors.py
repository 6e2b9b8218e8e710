"""Scoped reads: every selector limits rows to the user's subtrees; search finds by hash, initials, address."""

import pytest
from django.http import Http404

from gongzhi.core.access import Role

from gongzhi.appeals.permissions import Perm
from gongzhi.orgs import selectors


def names(qs):
    return sorted(r.name for r in qs)


def test_residents_scoped_by_role(tree):
    u = tree.users
    assert names(selectors.residents(u[Role.COUNTY_ADMIN])) == ["张建国", "李秀英", "王小明"]
    assert names(selectors.residents(u[Role.SUBDISTRICT_STAFF])) == ["张建国", "李秀英"]
    assert names(selectors.residents(u[Role.GRID_WORKER])) == ["张建国"]
    assert names(selectors.residents(u[Role.RESIDENT])) == ["张建国"]
    assert names(selectors.residents(u[Role.PARTNER_CONTACT])) == []


def test_out_of_scope_get_is_404_like_missing(tree):
    worker = tree.users[Role.GRID_WORKER]
    assert selectors.resident_get(worker, tree.resident_a.pk) == tree.resident_a
    with pytest.raises(Http404):
        selectors.resident_get(worker, tree.resident_b.pk)
    with pytest.raises(Http404):
        selectors.resident_get(worker, 999999)
    with pytest.raises(Http404):
        selectors.resident_get(worker, "abc")


@pytest.mark.parametrize("text_of", [
    lambda t: t.resident_a.reveal_id_number(),
    lambda t: t.resident_a.reveal_id_number().lower(),
    lambda t: "138 0000 1111",
    lambda t: "zjg",
    lambda t: "张建",
    lambda t: "滨河小区1栋",
])
def test_search(tree, text_of):
    admin = tree.users[Role.COUNTY_ADMIN]
    found = selectors.residents(admin).filter(selectors.search_q(text_of(tree)))
    assert names(found) == ["张建国"]


def test_filters(tree):
    admin = tree.users[Role.COUNTY_ADMIN]
    qs = selectors.residents(admin)
    assert names(selectors.resident_filter(qs, care_group="elderly_alone")) == ["张建国"]
    assert names(selectors.resident_filter(qs, age_min=80)) == ["张建国"]
    assert names(selectors.resident_filter(qs, age_max=17)) == ["王小明"]
    assert names(selectors.resident_filter(qs, gender="F")) == ["李秀英"]
    assert names(selectors.resident_filter(qs, node=tree.comm_b)) == ["王小明"]


def test_places_and_units_scope(tree):
    worker = tree.users[Role.GRID_WORKER]
    assert [c.name for c in selectors.compounds(worker)] == ["滨河小区"]
    assert [u.name for u in selectors.units(worker)] == ["县供电公司"]
    assert {u.name for u in selectors.units(tree.users[Role.COUNTY_ADMIN])} == {"县供电公司", "县住建局"}
    assert [n.name for n in selectors.node_roots(worker)] == ["第一网格"]
    figures = selectors.node_figures(worker, tree.comm_a)
    assert figures["residents"] == 2 and figures["grids"] == 2 and figures["care_groups"]["elderly_alone"] == 1


def test_under_is_the_subtree_exactly(tree):
    """The range form of the prefix test selects exactly the paths that start with the prefix."""
    from gongzhi.core.scoping import past_subtree, under
    from gongzhi.orgs.models import OrgNode

    assert past_subtree("0001") == "0002" and past_subtree("000Z") == "001" and past_subtree("ZZZZ") is None
    for node in OrgNode.objects.all():
        inside = set(OrgNode.objects.filter(under(node.path, "path")).values_list("pk", flat=True))
        assert inside == set(OrgNode.objects.filter(path__startswith=node.path).values_list("pk", flat=True))


@pytest.mark.parametrize("few,cap", [(200, 2000), (0, 2000), (0, 0)])  # ids, tags walked in order, per row
def test_care_group_filter_same_either_way(tree, monkeypatch, few, cap):
    """The three ways to find a care group give the same residents, in an area and out of it."""
    from gongzhi.orgs import actions
    from gongzhi.orgs.models import CareTag

    monkeypatch.setattr(selectors, "_FEW_IDS", few)
    monkeypatch.setattr(selectors, "_IDS_CAP", cap)
    staff = tree.users[Role.SUBDISTRICT_STAFF]
    resident = selectors.residents(staff).exclude(name="张建国").order_by("id").first()
    actions.resident_update(resident=resident, by=tree.users[Role.COUNTY_ADMIN], care_groups=["elderly_alone", "veteran"])
    scope = staff.paths_with(Perm.REGISTRY_VIEW)
    qs = selectors.residents(staff)
    expected = sorted(
        set(CareTag.objects.filter(group="elderly_alone").values_list("resident__name", flat=True))
        & set(qs.values_list("name", flat=True))
    )
    assert len(expected) == 2
    assert names(selectors.resident_filter(qs, care_group="elderly_alone", scope=scope)) == expected
    assert names(selectors.resident_filter(qs, care_group="veteran", scope=scope)) == [resident.name]
    # a node outside the group's residents: nobody, however the group is found
    assert names(selectors.resident_filter(qs, care_group="veteran", node=tree.comm_b, scope=scope)) == []
