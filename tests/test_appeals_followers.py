"""Following a neighbour's appeal: only one offered as the same problem while filing, and a follower sees its
public part only: no name, phone, household or address beyond the place; phone and ID numbers in its text
masked; no photos. Out of reach answers 404 like a missing appeal."""

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongzhi.core.access import SYSTEM
from gongzhi.core.access import Role
from gongzhi.appeals import actions, policies, public
from gongzhi.appeals.models import AppealFollower, Channel

from .appeals_factories import make_categories
from .factories import make_user
from .test_appeals_resident_pages import handle, offer_in, tiny_png

API = "/api/v1"
SECRETS = ("李秀英", "13900002222", "139-0000-2222", "城东社区二组12号", "511823199001010022", "lixiuying")
TEXT = "我家漏水好几天了，电话139-0000-2222，身份证511823199001010022，楼上一直不理"


@pytest.fixture
def cats(db):
    return make_categories()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def hers(tree, cats, media):
    """李秀英 (grid 2 of the same community as the resident 张建国) reports at her household, with her phone
    and ID number in the text and a photo."""
    li = make_user("lixiuying", Role.RESIDENT, tree.grid_a2)
    tree.resident_a2.user = li
    tree.resident_a2.save(update_fields=["user"])
    return actions.appeal_file(
        by=li, category=cats["garbage"], title="", channel=Channel.ONLINE, reporter=tree.resident_a2,
        household=tree.household_a2, description=TEXT, attributes={},
        photos=[SimpleUploadedFile("home.png", tiny_png(), content_type="image/png")],
    )


def duplicates(c, cats, tree, text="我家漏水好几天了，楼上一直不理，怎么办"):
    return c.get(reverse("appeals:m_duplicates"), {
        "category": cats["garbage"].pk, "description": text, "place": "grid", "node": tree.grid_a2.pk,
    }).content.decode()


def assert_no_secrets(body: str):
    for secret in SECRETS:
        assert secret not in body, secret


def test_a_neighbours_appeal_not_offered_cannot_be_followed(tree, cats, hers, client):
    client.force_login(tree.users[Role.RESIDENT])
    follow = reverse("appeals:m_follow", args=[hers.pk])
    assert client.post(follow).status_code == 404  # same community, never offered
    assert client.post(follow, {"offer": "forged"}).status_code == 404
    other = actions.appeal_file(by=tree.users[Role.COMMUNITY_STAFF], category=cats["garbage"], title="",
                                channel=Channel.HOTLINE, node=tree.grid_a2, description="二组路口垃圾桶满了")
    offer_for_other = policies.follow_offer(tree.users[Role.RESIDENT], other)
    assert client.post(follow, {"offer": offer_for_other}).status_code == 404  # an offer is for one appeal
    offer_for_someone_else = policies.follow_offer(tree.users[Role.GRID_WORKER], hers)
    assert client.post(follow, {"offer": offer_for_someone_else}).status_code == 404  # and one user
    assert not AppealFollower.objects.filter(appeal=hers, user=tree.users[Role.RESIDENT]).exists()
    assert client.get(f"{API}/appeals/{hers.pk}").status_code == 404
    assert client.get(reverse("appeals:m_detail", args=[hers.pk])).status_code == 404
    # the action refuses on its own too
    with pytest.raises(PermissionDenied):
        actions.appeal_follow(appeal=hers, by=tree.users[Role.RESIDENT], offer="")


def test_an_expired_offer_is_refused(tree, cats, hers, client, monkeypatch):
    client.force_login(tree.users[Role.RESIDENT])
    offer = offer_in(duplicates(client, cats, tree), hers.pk)
    monkeypatch.setattr(policies, "FOLLOW_OFFER_SECONDS", -1)
    assert client.post(reverse("appeals:m_follow", args=[hers.pk]), {"offer": offer}).status_code == 404


def test_a_follower_of_an_offered_duplicate_sees_the_public_part_only(tree, cats, hers, client):
    me = tree.users[Role.RESIDENT]
    client.force_login(me)
    panel = duplicates(client, cats, tree)
    assert f'data-appeal="{hers.pk}"' in panel
    assert_no_secrets(panel)  # the title shown while filing is masked already
    assert "我家漏水好几天了" in panel  # the title made from the description: its first clause
    response = client.post(reverse("appeals:m_follow", args=[hers.pk]), {"offer": offer_in(panel, hers.pk)})
    assert response.status_code == 302
    assert AppealFollower.objects.filter(appeal=hers, user=me).count() == 1
    handle(tree, hers, result="已上门查看，联系139 0000 2222的住户修好了水管",
           photos=[SimpleUploadedFile("fixed.png", tiny_png(), content_type="image/png")])

    # the API answer
    r = client.get(f"{API}/appeals/{hers.pk}")
    assert r.status_code == 200
    body = r.content.decode()
    assert_no_secrets(body)
    data = r.json()
    assert data["reporter_name"] == "" and data["reporter_phone"] == "" and data["reporter_id"] is None
    assert data["household_id"] is None and data["filed_by"] == "" and data["accepted_by"] == ""
    assert data["address"] == tree.grid_a2.name
    assert data["description"] == TEXT.replace("139-0000-2222", "139********").replace(
        "511823199001010022", "5118**************")
    assert "139********" in data["result"]
    assert all("139 0000" not in e["note"] for e in data["events"])
    # the list of one's own appeals
    rows = client.get(f"{API}/appeals", {"queue": "mine"}).json()["items"]
    row = next(a for a in rows if a["id"] == hers.pk)
    assert row["address"] == tree.grid_a2.name and "139-0000" not in row["title"]
    assert_no_secrets(str(rows))
    # a search in the words of a followed appeal would tell the masked digits one by one
    assert client.get(f"{API}/appeals", {"q": "1390000"}).json()["items"] == []
    assert [a["id"] for a in client.get(f"{API}/appeals", {"q": hers.number}).json()["items"]] == [hers.pk]

    # the phone page
    page = client.get(reverse("appeals:m_detail", args=[hers.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert_no_secrets(html)
    assert "139********" in html and "5118**************" in html
    assert 'data-testid="photos"' not in html
    for photo in hers.photos.all():
        assert client.get(reverse("appeals:m_photo", args=[hers.pk, photo.pk])).status_code == 404
    listing = client.get(reverse("appeals:m_list")).content.decode()
    assert f'data-appeal="{hers.pk}"' in listing
    assert_no_secrets(listing)


def test_a_follower_does_not_see_the_name_and_phone_taken_at_the_window(tree, cats, client):
    staff = tree.users[Role.COMMUNITY_STAFF]
    window = actions.appeal_file(by=staff, category=cats["garbage"], title="", channel=Channel.WINDOW,
                                 node=tree.grid_a2, reporter_name="刘小红", reporter_phone="13911112222",
                                 address="二组12号楼下", description="二组12号楼下垃圾桶满了好几天没人清运")
    client.force_login(tree.users[Role.RESIDENT])
    panel = duplicates(client, cats, tree, text="二组楼下垃圾桶满了好几天没人清运")
    client.post(reverse("appeals:m_follow", args=[window.pk]), {"offer": offer_in(panel, window.pk)})
    data = client.get(f"{API}/appeals/{window.pk}").json()
    assert data["reporter_name"] == "" and data["reporter_phone"] == "" and data["filed_by"] == ""
    assert data["address"] == "二组12号楼下"  # a typed place (not a household) is where the problem is
    body = client.get(reverse("appeals:m_detail", args=[window.pk])).content.decode()
    assert "刘小红" not in body and "139****2222" not in body and "13911112222" not in body
    client.force_login(staff)
    assert client.get(f"{API}/appeals/{window.pk}").json()["reporter_phone"] == "139****2222"


def test_the_reporter_and_the_staff_still_see_the_whole_appeal(tree, cats, hers, client):
    client.force_login(tree.users[Role.RESIDENT])
    client.post(reverse("appeals:m_follow", args=[hers.pk]),
                {"offer": offer_in(duplicates(client, cats, tree), hers.pk)})
    client.force_login(hers.filed_by)
    data = client.get(f"{API}/appeals/{hers.pk}").json()
    assert data["reporter_name"] == "李秀英" and data["reporter_id"] == tree.resident_a2.pk
    assert data["address"] == "城东社区二组12号" and data["description"] == TEXT
    html = client.get(reverse("appeals:m_detail", args=[hers.pk])).content.decode()
    assert TEXT in html and 'data-testid="photos"' in html
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    data = client.get(f"{API}/appeals/{hers.pk}").json()
    assert data["reporter_name"] == "李秀英" and data["description"] == TEXT


def test_the_reporter_of_a_merged_appeal_follows_the_main_one_as_a_follower(tree, cats, hers, client):
    mine = actions.appeal_file(by=tree.users[Role.RESIDENT], category=cats["garbage"], title="", channel=Channel.ONLINE,
                               reporter=tree.resident_a, description="二组那边楼上漏水")
    actions.appeal_merge(appeal=mine, into=hers, by=tree.users[Role.COMMUNITY_STAFF])
    client.force_login(tree.users[Role.RESIDENT])
    r = client.get(f"{API}/appeals/{hers.pk}")
    assert r.status_code == 200
    assert_no_secrets(r.content.decode())
    assert_no_secrets(client.get(reverse("appeals:m_detail", args=[hers.pk])).content.decode())


def test_followers_notices_mask_numbers(tree, cats, hers, client):
    from gongzhi.notify.messages import notice_text

    hers.result = "已联系13900002222"
    text = notice_text("resolve", hers)
    assert "13900002222" not in text.body and "139-0000-2222" not in text.body + text.title
    assert re.search(r"139\*{8}", text.body)


def test_a_title_cut_inside_a_phone_number_is_masked_too(tree, cats):
    """A title left empty is made from the description (its first clause, or its start cut with an ellipsis):
    here the cut falls inside the phone number, which, cut short, no longer reads as one."""
    appeal = actions.appeal_file(by=tree.users[Role.COMMUNITY_STAFF], category=cats["garbage"], title="",
                                 channel=Channel.HOTLINE, node=tree.grid_a2,
                                 description="二组路口垃圾桶满了好几天没人清运电话139-1111-2222请尽快处理")
    assert appeal.title.endswith("139-1111-22…")
    assert public.title(appeal) == "二组路口垃圾桶满了好几天没人清运电话139********…"
    typed = actions.appeal_file(by=tree.users[Role.COMMUNITY_STAFF], category=cats["garbage"], title="电话13911112222",
                                channel=Channel.HOTLINE, node=tree.grid_a2, description="二组路口垃圾桶满了")
    assert public.title(typed) == "电话139********"


def test_staff_of_another_area_who_follow_as_residents_see_the_public_part(tree, cats, hers, client):
    """A community worker of another town who lives in this community files and follows here as a resident."""
    from gongzhi.orgs import actions as org_actions

    from .factories import make_id

    worker_b = make_user("shequ-b", Role.COMMUNITY_STAFF, tree.comm_b)
    org_actions.resident_create(household=tree.household_a, name="周敏", id_number=make_id("19850505", male=False),
                                user=worker_b, by=SYSTEM)
    actions.appeal_follow(appeal=hers, by=worker_b, offer=policies.follow_offer(worker_b, hers))
    actions.appeal_supervise(appeal=hers, by=tree.users[Role.SUBDISTRICT_STAFF], note="联系13900002222尽快处理")
    client.force_login(worker_b)
    response = client.get(reverse("appeals:detail", args=[hers.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("appeals:m_detail", args=[hers.pk])
    body = client.get(f"{API}/appeals/{hers.pk}").content.decode()
    assert_no_secrets(body)
    assert "尽快处理" not in body and "supervise_count" in body  # the internal step is not there
    photo = hers.photos.get()
    assert client.get(reverse("appeals:photo", args=[hers.pk, photo.pk])).status_code == 404
