"""Setting up a county: the division codes shipped with the package, the county and its townships in one
idempotent, audited action, who may do it, and the set-up page's cascading selects."""

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from gongzhi.accounts.models import RoleAssignment
from gongzhi.core.access import SYSTEM, Role
from gongzhi.core.models import AuditEvent
from gongzhi.orgs import actions as orgs_actions
from gongzhi.orgs.models import NodeKind, OrgNode
from gongzhi.orgs.setup import divisions
from gongzhi.orgs.setup.actions import county_setup

from .factories import make_user

HANYUAN = "511823"  # 四川省雅安市汉源县: 21 townships


def test_divisions_ship_with_the_package_and_read_to_township_level():
    data = Path(divisions.__file__).resolve().parent.parent / "data" / "divisions"
    assert {p.name for p in data.iterdir()} >= {"provinces.csv", "cities.csv", "areas.csv", "streets.csv.gz",
                                                  "LICENSE.modood-WTFPL.txt", "README.md"}
    assert len(divisions.provinces()) == 31
    assert [c.name for c in divisions.cities("51")][:2] == ["成都市", "自贡市"]
    assert "汉源县" in [c.name for c in divisions.counties("5118")]
    towns = divisions.townships(HANYUAN)
    assert len(towns) == 21 and all(len(t.code) == 9 and t.code.startswith(HANYUAN) for t in towns)
    assert towns[0].name == "富林镇" and towns[0].is_rural
    assert divisions.county_label(HANYUAN) == "四川省 雅安市 汉源县"
    street = next(t for t in divisions.townships("110101") if t.name.endswith("街道"))
    assert not street.is_rural
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert '"orgs/data/**/*"' in pyproject  # a non-editable install carries the files


@pytest.mark.django_db
def test_a_superuser_starts_a_county_and_administers_it():
    root = make_user("root", superuser=True)
    result = county_setup(code=HANYUAN, by=root)
    county = result.node
    assert result.started and county.is_root() and county.kind == NodeKind.COUNTY
    assert (county.name, county.code) == ("汉源县", HANYUAN)
    towns = list(OrgNode.objects.get_children(county).order_by("code"))
    assert [t.code for t in towns] == [t.code for t in divisions.townships(HANYUAN)]
    assert all(t.kind == NodeKind.SUBDISTRICT and t.is_rural == t.name.endswith(("乡", "镇")) for t in towns)
    assert RoleAssignment.objects.filter(user=root, role=Role.COUNTY_ADMIN, node=county, is_active=True).exists()
    audit = AuditEvent.objects.get(action="county.setup")
    assert audit.changes == {"code": HANYUAN, "started": True, "created": 21, "coded": 0, "unchanged": 0}
    assert AuditEvent.objects.filter(action="orgnode.create").count() == 22
    assert AuditEvent.objects.filter(action="role.assign", actor=root).exists()


@pytest.mark.django_db
def test_county_setup_is_idempotent_and_completes_a_hand_made_tree():
    root = make_user("root", superuser=True)
    county_setup(code=HANYUAN, by=root)
    again = county_setup(code=HANYUAN, by=root)
    assert (again.started, again.created, again.coded, again.unchanged) == (False, 0, 0, 21)
    assert OrgNode.objects.filter(kind=NodeKind.COUNTY).count() == 1
    assert OrgNode.objects.filter(kind=NodeKind.SUBDISTRICT).count() == 21


@pytest.mark.django_db
def test_county_setup_completes_a_hand_made_tree():
    # A county typed by hand (no code, two towns by name, one with a name not in the list) is completed.
    county = orgs_actions.orgnode_create(parent=None, name="汉源县", kind=NodeKind.COUNTY, by=SYSTEM)
    orgs_actions.orgnode_create(parent=county, name="富林镇", kind=NodeKind.SUBDISTRICT, by=SYSTEM)
    orgs_actions.orgnode_create(parent=county, name="城区管委会", kind=NodeKind.SUBDISTRICT, by=SYSTEM)
    admin = make_user("admin", Role.COUNTY_ADMIN, county)
    result = county_setup(code=HANYUAN, node=county, by=admin)
    assert (result.started, result.created, result.coded, result.unchanged) == (False, 20, 1, 0)
    county.refresh_from_db()
    assert county.code == HANYUAN
    assert OrgNode.objects.get(name="富林镇").code == "511823100"
    assert OrgNode.objects.filter(kind=NodeKind.SUBDISTRICT).count() == 22  # its own one is kept
    assert AuditEvent.objects.filter(action="orgnode.code").count() == 1


@pytest.mark.django_db
def test_who_may_set_up_a_county(tree):
    users = tree.users
    with pytest.raises(PermissionDenied):  # a county administrator completes their county, never starts one
        county_setup(code="511822", by=users[Role.COUNTY_ADMIN])
    for role in (Role.SUBDISTRICT_STAFF, Role.COMMUNITY_STAFF, Role.GRID_WORKER):
        with pytest.raises(PermissionDenied):
            county_setup(code=HANYUAN, node=tree.county, by=users[role])
    with pytest.raises(ValidationError):
        county_setup(code="999999", node=tree.county, by=users[Role.COUNTY_ADMIN])
    tree.county.code = "511822"
    tree.county.save()
    with pytest.raises(ValidationError):  # a county with another code is not renamed
        county_setup(code=HANYUAN, node=tree.county, by=users[Role.COUNTY_ADMIN])
    assert OrgNode.objects.filter(kind=NodeKind.SUBDISTRICT).count() == 2
    assert not AuditEvent.objects.filter(action="county.setup").exists()
    result = county_setup(code="511822", node=tree.county, by=users[Role.COUNTY_ADMIN])
    assert result.created == len(divisions.townships("511822"))


@pytest.mark.django_db
def test_setup_page_cascade_and_submit(client):
    root = make_user("root", superuser=True)
    client.force_login(root)
    assert client.get(reverse("home")).url == reverse("setup:index")  # day one: straight to the set-up
    page = client.get(reverse("setup:index"))
    assert page.status_code == 200 and "四川省" in page.content.decode()
    cities = client.get(reverse("setup:cascade"), {"province": "51"}, HTTP_HX_REQUEST="true").content.decode()
    assert "雅安市" in cities and "汉源县" not in cities
    counties = client.get(reverse("setup:cascade"), {"province": "51", "city": "5118"}).content.decode()
    assert "汉源县" in counties
    plan = client.get(reverse("setup:cascade"), {"province": "51", "city": "5118", "county": HANYUAN}).content.decode()
    assert "富林镇" in plan and "21" in plan
    # A county of another city is not offered with this one (the selects are reset, not trusted).
    stale = client.get(reverse("setup:cascade"), {"province": "11", "city": "5118", "county": HANYUAN}).content.decode()
    assert "富林镇" not in stale
    for bad in ({"province": "5x"}, {"city": "123456789"}, {"county": "1" * 30}):
        assert client.get(reverse("setup:cascade"), bad).status_code == 400
    response = client.post(reverse("setup:county"), {"county": HANYUAN})
    assert response.status_code == 302
    county = OrgNode.objects.get(kind=NodeKind.COUNTY)
    assert OrgNode.objects.get_children(county).count() == 21
    page = client.get(reverse("setup:index")).content.decode()
    assert 'data-test="checklist"' in page and "汉源县" in page


@pytest.mark.django_db
def test_setup_pages_refuse_who_does_not_set_up(client, tree):
    client.force_login(tree.users[Role.GRID_WORKER])
    assert client.get(reverse("setup:index")).status_code == 403
    assert client.get(reverse("setup:cascade"), {"province": "51"}).status_code == 403
    assert client.post(reverse("setup:county"), {"county": HANYUAN}).status_code == 403
    # Community staff import places in their area, but set up no county and see no checklist.
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    page = client.get(reverse("setup:index"))
    assert page.status_code == 200 and 'id="county"' not in page.content.decode()
    assert client.get(reverse("setup:checklist", args=[tree.county.pk])).status_code == 404
    assert client.post(reverse("setup:county"), {"county": HANYUAN, "node": tree.county.pk}).status_code == 403
    # Subdistrict staff: the county's checklist is out of their scope (404, as a missing one).
    client.force_login(tree.users[Role.SUBDISTRICT_STAFF])
    assert client.get(reverse("setup:checklist", args=[tree.county.pk])).status_code == 404
    assert OrgNode.objects.filter(kind=NodeKind.SUBDISTRICT).count() == 2


@pytest.mark.django_db
def test_out_of_range_ids_and_audit_words(client, tree):
    from django.utils import translation

    from gongzhi.core import audit

    client.force_login(tree.users[Role.COUNTY_ADMIN])
    for pk in (str(2**63), "9" * 30):
        assert client.get(f"/registry/setup/checklist/{pk}/").status_code == 404
    for node in ("abc", str(2**63), "-1"):
        assert client.get(reverse("setup:cascade"), {"node": node}).status_code == 404
    with translation.override("zh-hans"):
        assert audit.action_label("county.setup") == "按区划代码设置县"
        assert audit.action_label("places.import") == "导入地点"
        assert audit.change_label("county.setup", "created") == "新增乡镇街道"
    with translation.override("en"):
        assert audit.action_label("building.create") == "Building created"
