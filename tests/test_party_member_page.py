"""A resident who is a party member has a page of their own: 我的党组织 (the organisation they belong to, its
secretary, their join date, the organisation's place), linked from their menu; other residents are not
offered it."""

import datetime as dt

import pytest
from django.urls import reverse

from gongzhi.core.access import SYSTEM
from gongzhi.core.access import Role
from gongzhi.orgs import actions
from gongzhi.orgs.models import PartyMember, PartyOrgKind

from .factories import make_id, make_user


@pytest.fixture
def member(tree):
    secretary = actions.resident_create(household=tree.household_a, name="刘书记", id_number=make_id("19700101"),
                                        relation="other", by=SYSTEM)
    branch = tree.branch_a
    branch.secretary = PartyMember.objects.create(resident=secretary, organization=branch, assigned_node=tree.grid_a1,
                                                  org_path=tree.grid_a1.path)
    branch.compound = tree.compound_a
    branch.save()
    return PartyMember.objects.create(resident=tree.resident_a, organization=branch, assigned_node=tree.micro_a1,
                                      org_path=tree.micro_a1.path, joined_on=dt.date(1971, 7, 1))


def test_party_member_sees_their_party_organisation(client, tree, member):
    client.force_login(tree.users[Role.RESIDENT])
    home = client.get(reverse("orgs:mine")).content.decode()
    assert f'href="{reverse("orgs:mine_party")}"' in home and "我的党组织" in home
    response = client.get(reverse("orgs:mine_party"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="my-party-org"' in body
    for text in ("城东社区第一网格党支部", "党支部", "刘书记", "1971年7月1日", "城东社区 › 第一网格", "滨河小区"):
        assert text in body, text


def test_other_residents_and_staff_are_not_offered_the_page(client, tree, member):
    other = make_user("linju", Role.RESIDENT, tree.grid_a2)
    tree.resident_a2.user = other
    tree.resident_a2.save(update_fields=["user"])
    client.force_login(other)
    home = client.get(reverse("orgs:mine")).content.decode()
    assert reverse("orgs:mine_party") not in home
    body = client.get(reverse("orgs:mine_party")).content.decode()
    assert 'data-testid="my-party-org"' not in body and "尚未登记" in body
    client.force_login(tree.users[Role.GRID_WORKER])
    assert reverse("orgs:mine_party") not in client.get(reverse("orgs:tree")).content.decode()


def test_party_org_kinds_are_words(client, tree, member):
    member.organization.kind = PartyOrgKind.GROUP
    member.organization.save()
    client.force_login(tree.users[Role.RESIDENT])
    assert "党小组" in client.get(reverse("orgs:mine_party")).content.decode()
