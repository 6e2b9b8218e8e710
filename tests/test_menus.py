"""The menu each role sees: grouped into sections (诉求, 名册, 设置), each page once, short for a grid worker
and for a resident."""

import re

import pytest
from django.urls import reverse

from gongzhi.core.access import SYSTEM, Role
from gongzhi.orgs.models import PartyMember

from .factories import make_user


def menu(client, user) -> list[tuple[str, list[str]]]:
    """The menu as (section heading, [data-nav of its items]); the items before any heading under ""."""
    client.force_login(user)
    html = client.get(reverse("notify:list")).content.decode()
    nav = re.search(r'<nav id="sidenav".*?</nav>', html, re.S).group(0)
    sections, heading = [("", [])], ""
    for match in re.finditer(r'<h2 class="nav-head"[^>]*>([^<]*)</h2>|data-nav="([\w-]+)"', nav):
        if match.group(1) is not None:
            heading = match.group(1).strip()
            sections.append((heading, []))
        else:
            sections[-1][1].append(match.group(2))
    return [(h, items) for h, items in sections if items]


def items(sections) -> list[str]:
    return [i for _h, found in sections for i in found]


def test_grid_worker_menu_is_short_and_grouped(client, tree):
    sections = menu(client, tree.users[Role.GRID_WORKER])
    assert sections == [
        ("", ["home", "notices"]),
        ("诉求", ["appeal-queues", "appeals", "appeal-file-for", "appeal-dashboard"]),
        ("共建", ["orders", "wishes"]),
        ("名册", ["residents", "tree", "join-requests", "party", "units"]),
        ("设置", ["import"]),
    ]
    found = items(sections)
    assert len(found) == len(set(found))  # each page once
    assert "search" not in found  # the resident list searches; its page links the address search
    assert "mobile" not in found  # the grid worker's home is his phone page already
    assert f'href="{reverse("orgs:search")}' in client.get(reverse("orgs:residents")).content.decode()


def test_labels_in_a_section_do_not_repeat_its_heading(client, tree):
    client.force_login(tree.users[Role.GRID_WORKER])
    html = client.get(reverse("notify:list")).content.decode()
    nav = re.search(r'<nav id="sidenav".*?</nav>', html, re.S).group(0)
    labels = {m.group(1): re.sub(r"<[^>]+>", "", m.group(2)).strip()
              for m in re.finditer(r'data-nav="([\w-]+)"[^>]*>(.*?)</a>', nav, re.S)}
    assert labels["appeal-queues"] == "我的待办" and labels["appeals"] == "全部诉求"
    assert labels["appeal-file-for"] == "代居民登记"


def test_county_admin_menu_has_the_settings_together(client, tree):
    sections = dict(menu(client, tree.users[Role.COUNTY_ADMIN]))
    assert sections["设置"] == ["setup", "import", "audit", "appeal-settings", "users", "locks", "user-tokens"]
    assert "appeal-settings" not in sections["诉求"]


def test_resident_menu_stays_short(client, tree):
    assert menu(client, tree.users[Role.RESIDENT]) == [("", ["notices", "mine", "my-appeals", "my-wishes"])]


def test_party_member_menu_links_their_party_organisation(client, tree):
    PartyMember.objects.create(resident=tree.resident_a, organization=tree.branch_a, assigned_node=tree.micro_a1,
                               org_path=tree.micro_a1.path)
    assert menu(client, tree.users[Role.RESIDENT]) == [("", ["notices", "mine", "my-party", "my-appeals", "my-wishes"])]


@pytest.mark.parametrize("role", [Role.COMMUNITY_STAFF, Role.SUBDISTRICT_STAFF, Role.DEPARTMENT_HANDLER])
def test_every_staff_menu_is_sectioned_without_repeats(client, tree, role):
    sections = menu(client, tree.users[role])
    found = items(sections)
    assert len(found) == len(set(found)) and "search" not in found
    assert [h for h, _items in sections][0] == ""
    assert all(h for h, found in sections[1:] if found)  # every section has its heading


def test_staff_who_also_do_rounds_keep_the_phone_page_in_the_menu(client, tree):
    both = make_user("both", Role.COMMUNITY_STAFF, tree.comm_a)
    from gongzhi.accounts.actions import role_assign

    role_assign(user=both, role=Role.GRID_WORKER, node=tree.grid_a1, by=SYSTEM)
    assert "mobile" in dict(menu(client, both))["名册"]
