"""The resident's appeal pages (file, my appeals, timeline, rating) and staff filing for residents."""

import re
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from gongzhi.core.access import Role
from gongzhi.appeals import actions
from gongzhi.appeals.models import Appeal, AppealFollower, Channel, Status, photo_extension
from gongzhi.core.models import AuditEvent
from gongzhi.orgs import geometry

from .appeals_factories import make_categories
from .factories import make_user


def tiny_png() -> bytes:
    """A valid 1x1 red PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


@pytest.fixture
def cats(db):
    return make_categories()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def client_for(client, user):
    client.force_login(user)
    return client


def resident_client(client, tree):
    return client_for(client, tree.users[Role.RESIDENT])


def file_as_resident(tree, cats, **kw):
    args = dict(by=tree.users[Role.RESIDENT], category=cats["garbage"], title="", channel=Channel.ONLINE,
                description="3栋门口垃圾堆了三天没人清运", reporter=tree.resident_a)
    args.update(kw)
    return actions.appeal_file(**args)


def offer_in(html: str, pk: int) -> str:
    """The signed offer on the follow button of appeal ``pk`` in the possible-duplicates panel."""
    item = re.search(rf'data-appeal="{pk}".*?</li>', html, re.S).group(0)
    return re.search(r'"offer": "([^"]+)"', item).group(1)


def second_resident(tree):
    """李秀英 (grid 2 of the same community) with an account of her own."""
    user = make_user("lixiuying", Role.RESIDENT, tree.grid_a2)
    tree.resident_a2.user = user
    tree.resident_a2.save(update_fields=["user"])
    return user


# --- filing ------------------------------------------------------------------------------------


def test_resident_files_with_a_photo(tree, cats, client, media):
    c = resident_client(client, tree)
    page = c.get(reverse("appeals:m_new"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'accept="image/*"' in html and "capture" in html and "multiple" in html
    assert "滨河小区1栋1单元101" in html  # the default place: their own household
    assert '<optgroup label="环境卫生">' in html  # categories grouped under their parent

    photo = SimpleUploadedFile("door.png", tiny_png(), content_type="image/png")
    response = c.post(reverse("appeals:m_new"), {
        "category": cats["garbage"].pk, "description": "楼下垃圾桶满了三天没人清", "place": "household",
        "photos": [photo],
    })
    appeal = Appeal.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("appeals:m_detail", args=[appeal.pk])
    assert appeal.reporter == tree.resident_a and appeal.channel == Channel.ONLINE
    assert appeal.household == tree.household_a and appeal.node == tree.micro_a1
    assert appeal.filed_by == tree.users[Role.RESIDENT]
    assert appeal.photos.count() == 1

    detail = c.get(reverse("appeals:m_detail", args=[appeal.pk])).content.decode()
    photo_url = reverse("appeals:m_photo", args=[appeal.pk, appeal.photos.get().pk])
    assert photo_url in detail and "楼下垃圾桶满了三天没人清" in detail
    image = c.get(photo_url)
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == tiny_png()


def test_stored_photo_name_is_random_with_the_contents_extension(tree, cats, client, media):
    c = resident_client(client, tree)
    upload = SimpleUploadedFile("evil.php.jpg", tiny_png(), content_type="image/jpeg")
    c.post(reverse("appeals:m_new"), {
        "category": cats["garbage"].pk, "description": "楼下垃圾桶满了三天没人清", "place": "household",
        "photos": [upload],
    })
    stored = Appeal.objects.get().photos.get().image
    today = timezone.localdate()
    assert re.fullmatch(rf"appeals/{today:%Y/%m}/[0-9a-f]{{32}}\.png", stored.name), stored.name
    assert "evil" not in stored.name and "php" not in stored.name and ".jpg" not in stored.name
    assert (media / stored.name).read_bytes() == tiny_png()


@pytest.mark.parametrize("head, ext", [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01", "jpg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0d", "png"),
    (b"RIFF\x24\x00\x00\x00WEBP", "webp"),
    (b"GIF89a\x01\x00\x01\x00\x00\x00", "gif"),
    (b"RIFF\x24\x00\x00\x00WAVE", "bin"),  # a RIFF that is not a WebP
    (b"<?php echo 1;", "bin"),
])
def test_photo_extension_from_content(head, ext):
    assert photo_extension(head) == ext


def test_errors_are_shown_and_the_text_is_kept(tree, cats, client, media):
    c = resident_client(client, tree)
    text = "自来水停了一整天，老人做不了饭"
    # the category's own required question unanswered
    response = c.post(reverse("appeals:m_new"), {"category": cats["water"].pk, "description": text, "place": "household"})
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="form-errors"' in html
    assert text in html and 'name="attr-outage"' in html
    # the action refuses a file that is not a photo: said on the form, the text kept, nothing filed
    fake = SimpleUploadedFile("note.png", b"just some text, not an image", content_type="image/png")
    response = c.post(reverse("appeals:m_new"), {
        "category": cats["water"].pk, "attr-outage": "none", "description": text, "place": "household", "photos": [fake],
    })
    html = response.content.decode()
    assert "JPEG, PNG" in html or "照片" in html  # the action's own message (English or Chinese)
    assert text in html and 'data-testid="photos-lost"' in html
    # a grid outside the resident's community is not a choice
    response = c.post(reverse("appeals:m_new"), {
        "category": cats["garbage"].pk, "description": text, "place": "grid", "node": tree.grid_b1.pk,
    })
    assert response.status_code == 200 and text in response.content.decode()
    # an address place without an address
    response = c.post(reverse("appeals:m_new"), {"category": cats["garbage"].pk, "description": text, "place": "address"})
    assert response.status_code == 200 and 'id="id_address"' in response.content.decode()
    assert not Appeal.objects.exists()


def test_place_on_a_grid_or_at_a_typed_address(tree, cats, client, media):
    tree.grid_a2.lng, tree.grid_a2.lat = 102.65, 29.35
    tree.grid_a2.save()
    c = resident_client(client, tree)
    c.post(reverse("appeals:m_new"), {"category": cats["garbage"].pk, "description": "二组路口垃圾没人收",
                                      "place": "grid", "node": tree.grid_a2.pk, "address": "二组路口"})
    on_grid = Appeal.objects.get()
    assert on_grid.node == tree.grid_a2 and (on_grid.lng, on_grid.lat) == (102.65, 29.35)
    assert on_grid.address == "二组路口"
    c.post(reverse("appeals:m_new"), {"category": cats["garbage"].pk, "description": "菜市场门口积水",
                                      "place": "address", "address": "城东菜市场门口"})
    typed = Appeal.objects.exclude(pk=on_grid.pk).get()
    assert typed.node == tree.comm_a and typed.address == "城东菜市场门口"


def test_category_fields_follow_the_category(tree, cats, client):
    c = resident_client(client, tree)
    html = c.get(reverse("appeals:m_fields"), {"category": cats["water"].pk}).content.decode()
    assert 'name="attr-outage"' in html and "没有水" in html and "停水情况" in html
    html = c.get(reverse("appeals:m_fields"), {"category": cats["garbage"].pk}).content.decode()
    assert "attr-" not in html


def test_map_outlines_are_the_residents_own_community(tree, cats, client):
    for node, (lng, lat) in ((tree.grid_a1, (102.1, 29.1)), (tree.micro_a1, (102.2, 29.2)), (tree.grid_b1, (103.0, 30.0))):
        node.lng, node.lat = lng, lat
        node.save()
    data = resident_client(client, tree).get(reverse("appeals:m_places")).json()
    assert data["type"] == "FeatureCollection"
    ids = {f["properties"]["id"]: f for f in data["features"] if f["properties"]["kind"] != "compound"}
    assert set(ids) == {tree.grid_a1.pk, tree.micro_a1.pk}  # grid_a2 has no coordinates; grid_b1 is elsewhere
    cell = ids[tree.micro_a1.pk]  # the micro-grid is picked; its grid is drawn around it
    assert cell["geometry"]["type"] == "Polygon" and cell["properties"]["role"] == "cell"
    assert geometry.inside((102.2, 29.2), [[tuple(p) for p in cell["geometry"]["coordinates"][0]]])
    assert ids[tree.grid_a1.pk]["properties"]["role"] == "area"
    assert cell["properties"]["label"] == "第一网格 › 第一微网格"


# --- possible duplicates and following ----------------------------------------------------------


def test_duplicates_while_typing_and_follow(tree, cats, client):
    worker = tree.users[Role.GRID_WORKER]
    theirs = actions.appeal_file(by=worker, category=cats["garbage"], title="", channel=Channel.VISIT,
                                 node=tree.grid_a1, description="第一网格垃圾站满了没人清运")
    other_town = actions.appeal_file(by=tree.users[Role.COUNTY_ADMIN], category=cats["garbage"], title="",
                                     channel=Channel.HOTLINE, node=tree.grid_b1, description="垃圾站满了没人清运")
    c = resident_client(client, tree)
    html = c.get(reverse("appeals:m_duplicates"), {
        "category": cats["garbage"].pk, "description": "垃圾站满了好几天没人清运", "place": "grid", "node": tree.grid_a1.pk,
    }).content.decode()
    assert f'data-appeal="{theirs.pk}"' in html and 'data-testid="follow"' in html
    assert f'data-appeal="{other_town.pk}"' not in html
    # another category or too little text: nothing
    assert 'data-testid="duplicate"' not in c.get(reverse("appeals:m_duplicates"), {
        "category": cats["water"].pk, "description": "垃圾站满了好几天没人清运", "place": "grid", "node": tree.grid_a1.pk,
    }).content.decode()

    follow_url = reverse("appeals:m_follow", args=[theirs.pk])
    offer = offer_in(html, theirs.pk)  # the button carries the signed offer
    assert c.post(follow_url, {"offer": offer}, HTTP_HX_REQUEST="true").status_code == 200
    assert c.post(follow_url, {"offer": offer}).status_code == 302  # twice: still one follower
    me = tree.users[Role.RESIDENT]
    assert AppealFollower.objects.filter(appeal=theirs, user=me).count() == 1
    assert AuditEvent.objects.filter(action="appeal.follow", object_id=str(theirs.pk)).count() == 1
    listing = c.get(reverse("appeals:m_list")).content.decode()
    assert f'data-appeal="{theirs.pk}"' in listing
    # an appeal in another community cannot be followed: it answers like a missing one
    assert c.post(reverse("appeals:m_follow", args=[other_town.pk])).status_code == 404


def test_own_earlier_appeal_shows_as_mine(tree, cats, client):
    mine = file_as_resident(tree, cats)
    html = resident_client(client, tree).get(reverse("appeals:m_duplicates"), {
        "category": cats["garbage"].pk, "description": "3栋门口垃圾堆了好几天没人清运", "place": "household",
    }).content.decode()
    assert f'data-appeal="{mine.pk}"' in html and 'data-testid="follow"' not in html


# --- my appeals and one appeal -------------------------------------------------------------------


def test_my_list_is_only_mine_and_others_are_not_found(tree, cats, client):
    mine = file_as_resident(tree, cats)
    li = second_resident(tree)
    hers = actions.appeal_file(by=li, category=cats["garbage"], title="", channel=Channel.ONLINE,
                               reporter=tree.resident_a2, description="二组12号门前路灯坏了")
    c = resident_client(client, tree)
    html = c.get(reverse("appeals:m_list")).content.decode()
    assert f'data-appeal="{mine.pk}"' in html and f'data-appeal="{hers.pk}"' not in html
    assert c.get(reverse("appeals:m_detail", args=[hers.pk])).status_code == 404
    assert c.get(reverse("appeals:m_detail", args=[999999])).status_code == 404
    assert c.post(reverse("appeals:m_rate", args=[hers.pk]), {"resolved": "1", "satisfaction": "satisfied"}).status_code == 404


def test_list_shows_due_state_badges(tree, cats, client):
    appeal = file_as_resident(tree, cats)
    Appeal.objects.filter(pk=appeal.pk).update(due_state="overdue")
    html = resident_client(client, tree).get(reverse("appeals:m_list")).content.decode()
    assert 'class="m-due due-overdue"' in html


def handle(tree, appeal, result="已联系环卫清运完毕", photos=()):
    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    if appeal.status == Status.SUBMITTED:
        actions.appeal_dispatch(appeal=appeal, by=staff, to_node=tree.grid_a1, note="请尽快处理")
    actions.appeal_accept(appeal=appeal, by=worker)
    actions.appeal_resolve(appeal=appeal, by=worker, result=result, photos=photos)
    return appeal


def test_timeline_in_plain_words_without_internal_notes(tree, cats, client, media):
    worker = tree.users[Role.GRID_WORKER]
    worker.display_name = "王芳"
    worker.save()
    appeal = file_as_resident(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    actions.appeal_supervise(appeal=appeal, by=tree.users[Role.SUBDISTRICT_STAFF], note="内部督办：本周内必须办结")
    handle(tree, appeal, photos=[SimpleUploadedFile("after.png", tiny_png())])
    html = resident_client(client, tree).get(reverse("appeals:m_detail", args=[appeal.pk])).content.decode()
    assert "内部督办" not in html  # supervise is internal (public=False)
    assert "已联系环卫清运完毕" in html  # the handler's reply
    assert "第一网格" in html and "王芳" in html  # the unit and the handler's name
    assert "wangge" not in html and "13800001111" not in html  # no user names, no phone numbers
    kinds = [k for k in ("file", "dispatch", "accept", "resolve") if f'data-kind="{k}"' in html]
    assert kinds == ["file", "dispatch", "accept", "resolve"]
    resolve_photo = appeal.photos.get()
    assert reverse("appeals:m_photo", args=[appeal.pk, resolve_photo.pk]) in html
    assert 'data-testid="m-rate-form"' in html


def test_rating_unsatisfied_reopens_then_satisfied(tree, cats, client):
    appeal = handle(tree, file_as_resident(tree, cats))
    c = resident_client(client, tree)
    response = c.post(reverse("appeals:m_rate", args=[appeal.pk]),
                      {"resolved": "0", "satisfaction": "unsatisfied", "comment": "垃圾还在"})
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == Status.DISPATCHED and appeal.reopen_count == 1
    html = c.get(reverse("appeals:m_detail", args=[appeal.pk])).content.decode()
    assert 'data-testid="m-reopened"' in html and "垃圾还在" in html
    assert 'data-testid="m-rate-form"' not in html  # nothing to rate while it is handled again

    handle(tree, appeal, result="已再次清运并安排每日巡查")
    html = c.get(reverse("appeals:m_detail", args=[appeal.pk])).content.decode()
    assert 'data-testid="m-rate-form"' in html and 'data-testid="m-reopened"' not in html
    c.post(reverse("appeals:m_rate", args=[appeal.pk]), {"resolved": "1", "satisfaction": "satisfied"})
    appeal.refresh_from_db()
    assert appeal.status == Status.RESOLVED and appeal.satisfaction == "satisfied"
    html = c.get(reverse("appeals:m_detail", args=[appeal.pk])).content.decode()
    assert 'data-testid="m-rating"' in html and 'data-testid="m-rate-form"' not in html
    # rating twice is refused on the form
    response = c.post(reverse("appeals:m_rate", args=[appeal.pk]), {"resolved": "1", "satisfaction": "basic"},
                      follow=True)
    assert 'class="msg-error"' in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.satisfaction == "satisfied"


def test_only_the_reporter_rates(tree, cats, client):
    appeal = handle(tree, file_as_resident(tree, cats))
    staff = client_for(client, tree.users[Role.COMMUNITY_STAFF])
    response = staff.post(reverse("appeals:m_rate", args=[appeal.pk]), {"resolved": "1", "satisfaction": "satisfied"},
                          follow=True)
    assert 'class="msg-error"' in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.rated_at is None


def test_photo_of_another_appeal_is_not_found(tree, cats, client, media):
    appeal = file_as_resident(tree, cats, photos=[SimpleUploadedFile("a.png", tiny_png())])
    li = second_resident(tree)
    hers = actions.appeal_file(by=li, category=cats["garbage"], title="", channel=Channel.ONLINE,
                               reporter=tree.resident_a2, description="路灯坏了")
    c = resident_client(client, tree)
    photo = appeal.photos.get()
    assert c.get(reverse("appeals:m_photo", args=[hers.pk, photo.pk])).status_code == 404
    assert client_for(client, li).get(reverse("appeals:m_photo", args=[appeal.pk, photo.pk])).status_code == 404


# --- staff filing for residents -----------------------------------------------------------------


def test_grid_worker_files_for_a_registry_resident(tree, cats, client, media):
    worker = tree.users[Role.GRID_WORKER]
    c = client_for(client, worker)
    page = c.get(reverse("appeals:file_for")).content.decode()
    assert 'value="visit"' in page and 'value="window"' not in page  # channels of a grid worker's rounds
    found = c.get(reverse("appeals:file_for_residents"), {"q": "zjg"}).content.decode()
    assert "张建国" in found and "138****1111" in found and "13800001111" not in found
    response = c.post(reverse("appeals:file_for"), {
        "for": "staff", "channel": "visit", "reporter": tree.resident_a.pk, "category": cats["garbage"].pk,
        "description": "走访发现楼道堆放杂物", "place": "household",
        "photos": [SimpleUploadedFile("p.png", tiny_png())],
    })
    appeal = Appeal.objects.get()
    assert response.status_code == 302 and f"filed={appeal.pk}" in response["Location"]
    assert appeal.filed_by == worker and appeal.reporter == tree.resident_a and appeal.channel == Channel.VISIT
    assert appeal.owner_node == tree.grid_a1  # found on the worker's own rounds: the grid owns it
    assert appeal.photos.count() == 1
    after = c.get(response["Location"]).content.decode()
    assert 'data-testid="filed"' in after and appeal.number in after


def test_window_staff_file_for_someone_not_in_the_registry(tree, cats, client):
    c = client_for(client, tree.users[Role.COMMUNITY_STAFF])
    base = {"for": "staff", "channel": "window", "category": cats["garbage"].pk,
            "description": "路过的赵大爷反映二组路口垃圾桶坏了", "reporter_name": "赵大爷", "reporter_phone": "13700003333"}
    response = c.post(reverse("appeals:file_for"), {**base, "place": "household"})
    assert response.status_code == 200 and "赵大爷反映" in response.content.decode()  # the place must be picked
    assert not Appeal.objects.exists()
    response = c.post(reverse("appeals:file_for"), {**base, "place": "grid", "node": tree.grid_a2.pk})
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.reporter is None and appeal.reporter_name == "赵大爷" and appeal.node == tree.grid_a2
    assert appeal.reporter_phone_masked == "137****3333" and appeal.channel == Channel.WINDOW


def test_find_only_searches(tree, cats, client):
    """查找 must not submit the appeal: it belongs to a GET form of its own (htmx asks for the matches alone),
    so a form not yet filled in shows no errors; without JavaScript the page comes back with the matches."""
    c = client_for(client, tree.users[Role.COMMUNITY_STAFF])
    page = c.get(reverse("appeals:file_for")).content.decode()
    find = re.search(r'<button[^>]*data-testid="lookup"[^>]*>', page).group(0)
    assert 'form="resident-lookup"' in find
    assert f'hx-get="{reverse("appeals:file_for_residents")}"' in find
    lookup_form = re.search(r'<form id="resident-lookup"[^>]*>', page).group(0)
    assert 'method="get"' in lookup_form
    assert 'form="resident-lookup"' in re.search(r'<input[^>]*name="q"[^>]*>', page).group(0)
    response = c.get(reverse("appeals:file_for"), {"q": "李"})
    html = response.content.decode()
    assert response.status_code == 200 and "李秀英" in html
    assert 'data-testid="form-errors"' not in html and "errorlist" not in html
    assert not Appeal.objects.exists()


def test_staff_filing_refusals(tree, cats, client):
    for role in (Role.RESIDENT, Role.DEPARTMENT_HANDLER, Role.PARTNER_CONTACT):
        c = client_for(client, tree.users[role])
        assert c.get(reverse("appeals:file_for")).status_code == 403
        assert c.get(reverse("appeals:file_for_residents"), {"q": "张"}).status_code == 403
    worker = client_for(client, tree.users[Role.GRID_WORKER])
    base = {"for": "staff", "category": cats["garbage"].pk, "description": "楼道堆放杂物", "place": "household"}
    # a channel the grid worker does not record
    response = worker.post(reverse("appeals:file_for"), {**base, "channel": "hotline", "reporter": tree.resident_a.pk})
    assert response.status_code == 200 and 'data-testid="form-errors"' in response.content.decode()
    # a resident outside the worker's grid answers like a stranger
    response = worker.post(reverse("appeals:file_for"), {**base, "channel": "visit", "reporter": tree.resident_b.pk})
    assert response.status_code == 200 and 'data-testid="form-errors"' in response.content.decode()
    # a place outside the worker's grid is not a choice
    response = worker.post(reverse("appeals:file_for"), {**base, "channel": "visit", "reporter_name": "路人",
                                                         "place": "grid", "node": tree.grid_b1.pk})
    assert response.status_code == 200
    assert not Appeal.objects.exists()


def test_resident_without_a_household_link(tree, client):
    lonely = make_user("lonely", Role.RESIDENT, tree.grid_a1)
    c = client_for(client, lonely)
    html = c.get(reverse("appeals:m_new")).content.decode()
    assert 'data-testid="m-file-form"' not in html
    assert c.post(reverse("appeals:m_new"), {"description": "x"}).status_code == 200
    assert c.get(reverse("appeals:m_places")).status_code == 404
    assert not Appeal.objects.exists()
