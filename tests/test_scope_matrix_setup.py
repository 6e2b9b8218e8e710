"""Role x scope matrix for the county set-up pages: who sees the page, the division pick and the checklist, who may
complete the county and import places where; out of scope 404 (like missing), no permission 403, nothing written.

Expectations come from ``ROLE_PERMS`` and where each role is held, never from the pages themselves."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongzhi.core.access import ROLE_PERMS, Role
from gongzhi.core.models import AuditEvent, ImportJob
from gongzhi.orgs.models import OrgNode
from gongzhi.orgs.permissions import Perm

from .test_setup_places import filled

ALL_ROLES = list(Role)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _base(user) -> str:
    (assignment,) = user.role_assignments.all()
    return assignment.node.path


@pytest.mark.parametrize("role", ALL_ROLES)
def test_setup_pages(client, tree, role):
    user = tree.users[role]
    perms, base = ROLE_PERMS[role], _base(user)
    imports = Perm.TREE_EDIT in perms or Perm.PLACES_EDIT in perms
    completes = Perm.TREE_EDIT in perms and tree.county.path.startswith(base)  # the tree editable at the county
    client.force_login(user)
    before = (OrgNode.objects.count(), AuditEvent.objects.count())

    assert client.get(reverse("setup:index")).status_code == (200 if imports or completes else 403), role
    assert client.get(reverse("setup:template")).status_code == (200 if imports else 403), role
    assert client.get(reverse("setup:cascade"), {"province": "51"}).status_code == (200 if completes else 403), role
    for node in OrgNode.objects.all():
        status = client.get(reverse("setup:checklist", args=[node.pk])).status_code
        assert status == (200 if completes and node.kind == "county" else 404), (role, node)
        # Completing the county: refused (403 without the right anywhere, 404 for a node out of reach), nothing written.
        status = client.post(reverse("setup:county"), {"county": "511823", "node": node.pk}).status_code
        if not completes:
            assert status in (403, 404), (role, node)
    assert (OrgNode.objects.count(), AuditEvent.objects.count()) == before or completes

    # Importing places: into a node of their area, or nowhere (404 for any other, nothing stored).
    data = filled({"网格": [{"parent": "城东社区", "name": "新网格"}]})
    for node in OrgNode.objects.filter(kind__in=["county", "subdistrict", "community"]):
        response = client.post(reverse("setup:upload"), {"node": node.pk, "file": SimpleUploadedFile("p.xlsx", data)})
        may = imports and node.path.startswith(base)
        if not imports:
            assert response.status_code == 403, (role, node)
        elif may:
            assert response.status_code == 302, (role, node)
        else:
            assert response.status_code in (400, 404), (role, node)
            assert not ImportJob.objects.filter(created_by=user, node=node).exists()


def test_an_id_out_of_range_is_refused_on_the_form(client, tree):
    client.force_login(tree.users[Role.COUNTY_ADMIN])
    data = filled({"网格": [{"parent": "城东社区", "name": "新网格"}]})
    for node in (str(2**63), "0", "-5", "x"):
        response = client.post(reverse("setup:upload"), {"node": node, "file": SimpleUploadedFile("p.xlsx", data)})
        assert response.status_code == 400, node
    assert not ImportJob.objects.exists()


def test_anonymous_is_sent_to_login(client, tree):
    for url in (reverse("setup:index"), reverse("setup:template"), reverse("setup:cascade"),
                reverse("setup:checklist", args=[tree.county.pk])):
        response = client.get(url)
        assert response.status_code == 302 and reverse("accounts:login") in response.url
