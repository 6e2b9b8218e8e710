"""The resident's phone pages for appeals (file, my appeals, the timeline, rating) and staff filing for residents."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from gongzhi.core.access import ROLE_PERMS, Role

from gongzhi.appeals.permissions import Perm
from gongzhi.core import pages
from gongzhi.orgs import selectors as registry

from .. import actions, policies, public, selectors
from ..forms import (
    PLACE_ADDRESS,
    PLACE_GRID,
    PLACE_HOUSEHOLD,
    AppealFileForm,
    CategoryFieldsForm,
    RateForm,
    StaffAppealFileForm,
)
from ..models import ENDED_STATUSES, Appeal, Category, Channel, DueState, Satisfaction, Status

LIST_SIZE = 20
DUPLICATE_MIN_CHARS = 4
# What each staff role may record an appeal as: rounds for grid workers, the desk for community staff ...
ROLE_CHANNELS = {
    Role.GRID_WORKER: (Channel.VISIT, Channel.SNAPSHOT),
    Role.BUILDING_STEWARD: (Channel.VISIT, Channel.SNAPSHOT),
    Role.PARTY_SECRETARY: (Channel.VISIT, Channel.MEETING, Channel.WISH_WALL),
    Role.COMMUNITY_STAFF: (Channel.WINDOW, Channel.HOTLINE, Channel.MEETING, Channel.WISH_WALL, Channel.VISIT),
    Role.SUBDISTRICT_STAFF: (Channel.WINDOW, Channel.HOTLINE, Channel.MEETING, Channel.WISH_WALL),
    Role.COUNTY_ADMIN: (Channel.WINDOW, Channel.HOTLINE, Channel.MEETING, Channel.WISH_WALL),
}
# Where an appeal stands, in the words a resident uses.
STATUS_WORDS = {
    Status.SUBMITTED: gettext_lazy("Received, waiting to be assigned"),
    Status.DISPATCHED: gettext_lazy("Assigned, waiting to be taken up"),
    Status.ACCEPTED: gettext_lazy("Being handled"),
    Status.RESOLVED: gettext_lazy("Handled"),
    Status.VERIFIED: gettext_lazy("Handled and checked"),
    Status.CLOSED: gettext_lazy("Finished"),
    Status.VOIDED: gettext_lazy("Cancelled"),
    Status.MERGED: gettext_lazy("Joined with a report of the same problem"),
}
_WORKING = (Status.SUBMITTED, Status.DISPATCHED, Status.ACCEPTED)
_IMAGE_TYPES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"GIF8", "image/gif"),
                (b"RIFF", "image/webp"))


# --- helpers ----------------------------------------------------------------------------------


def _resident(user):
    """The registry record of the signed-in resident, or None when the account is not linked."""
    return registry.residents(user).filter(user=user).select_related("household__grid", "household__compound").first()


def _when(value) -> str:
    """"3月5日 14:20" this year, "2025年3月5日 14:20" before."""
    local = timezone.localtime(value)
    if local.year == timezone.localtime().year:
        # Translators: Django date format for day and time this year; Chinese "n月j日 H:i" (3月5日 14:20).
        return formats.date_format(local, pgettext("date format", "M j, H:i"))
    # Translators: Django date format for a day and time in another year; Chinese "Y年n月j日 H:i".
    return formats.date_format(local, pgettext("date format", "M j, Y, H:i"))


def _day(value) -> str:
    local = timezone.localtime(value)
    if local.year == timezone.localtime().year:
        # Translators: Django date format for a day this year; Chinese "n月j日" (11月23日).
        return formats.date_format(local, pgettext("date format", "M j"))
    return formats.date_format(local, "DATE_FORMAT")


def _title(user, appeal: Appeal) -> str:
    """The title as typed for its reporter and the staff; masked for a follower or anyone else
    (``policies.sees_whole``)."""
    return appeal.title if policies.sees_whole(user, appeal) else public.title(appeal)


def _status(appeal: Appeal) -> dict:
    """Plain words and colours for an appeal's state and deadline."""
    words = STATUS_WORDS.get(appeal.status, appeal.get_status_display())
    to_rate = appeal.status in actions.ALLOWED_FROM["rate"] and appeal.rated_at is None
    tone = "ended" if appeal.status in ENDED_STATUSES else ("done" if appeal.status not in _WORKING else "open")
    due = ""
    if appeal.status in _WORKING and appeal.due_state != DueState.NORMAL:
        due = appeal.due_state
    return {"words": words, "tone": tone, "due": due, "due_label": DueState(due).label if due else "",
            "to_rate": to_rate}


def _household_point(household) -> tuple[float | None, float | None]:
    """A household has no coordinates of its own: its compound's, else its (micro-)grid's."""
    for place in (household.compound, household.micro_grid, household.grid):
        if place is not None and place.lng is not None and place.lat is not None:
            return place.lng, place.lat
    return None, None


def _place_kwargs(data: dict, *, household, community) -> dict:
    """``appeal_file`` arguments for the chosen place: a household, a grid point, or a typed address."""
    address = (data.get("address") or "").strip()
    if data["place"] == PLACE_HOUSEHOLD:
        lng, lat = _household_point(household)
        return {"household": household, "address": address, "lng": lng, "lat": lat}
    if data["place"] == PLACE_GRID:
        node = data["node"]
        return {"node": node, "address": address, "lng": node.lng, "lat": node.lat}
    return {"node": community, "address": address}


def _chosen_category(request, form) -> Category | None:
    raw = form.data.get("category") if form.is_bound else request.GET.get("category")
    try:
        return selectors.categories().filter(pk=int(raw)).first() if raw else None
    except (TypeError, ValueError):
        return None


def staff_channels(user) -> list[tuple[str, str]]:
    """The channels that make sense for the user's filing roles, in the usual order."""
    allowed = set()
    for a in user.active_assignments:
        if Perm.APPEALS_FILE in ROLE_PERMS.get(a.role, ()):
            allowed.update(ROLE_CHANNELS.get(a.role, ()))
    return [(c.value, c.label) for c in Channel if c in allowed]


def _need_filing(user):
    if not policies.can_file_for_others(user):
        raise PermissionDenied


# --- my appeals -------------------------------------------------------------------------------


@login_required
def my_list(request):
    """The resident's own appeals, newest first, with their state in plain words."""
    user = request.user
    page = pages.offset_page(request, selectors.mine(user).select_related("reporter").order_by("-submitted_at", "-id"),
                             LIST_SIZE)
    rows = [{"appeal": a, "title": _title(user, a), "status": _status(a), "when": _when(a.submitted_at)}
            for a in page["rows"]]
    return render(request, "appeals/m/list.html", {
        "rows": rows, "page": page, "linked": _resident(user) is not None,
        "can_file_for": policies.can_file_for_others(user),
    })


# --- filing -----------------------------------------------------------------------------------


def _resident_places(resident) -> list[tuple[str, str]]:
    return [
        (PLACE_HOUSEHOLD, _("At my home: %(address)s") % {"address": resident.household.address}),
        (PLACE_GRID, _("Somewhere else: pick it on the map")),
        (PLACE_ADDRESS, _("Somewhere else: type the address")),
    ]


@login_required
def file_new(request):
    """File an appeal for oneself: category and its questions, description, photos, place."""
    user = request.user
    resident = _resident(user)
    if resident is None:
        return render(request, "appeals/m/new.html", {"linked": False,
                                                      "can_file_for": policies.can_file_for_others(user)})
    nodes = selectors.place_nodes(user, own=True)
    form = AppealFileForm(request.POST or None, request.FILES or None, categories=selectors.categories(),
                          nodes=nodes, places=_resident_places(resident))
    category = _chosen_category(request, form)
    fields_form = CategoryFieldsForm(request.POST or None, category=category)
    if request.method == "POST":
        form_ok, fields_ok = form.is_valid(), fields_form.is_valid()
        if form_ok and fields_ok:
            data = form.cleaned_data
            try:
                appeal = actions.appeal_file(
                    by=user, reporter=resident, channel=Channel.ONLINE, category=data["category"], title="",
                    description=data["description"], attributes=fields_form.answers(), photos=data["photos"],
                    **_place_kwargs(data, household=resident.household, community=policies.home_community(user)),
                )
            except (ValidationError, PermissionDenied) as exc:
                pages.form_errors(form, exc)
            else:
                messages.success(request, _("Your appeal has been submitted. Its number is %(number)s.")
                                 % {"number": appeal.number})
                return redirect("appeals:m_detail", pk=appeal.pk)
    return render(request, "appeals/m/new.html", {
        "linked": True, "form": form, "fields_form": fields_form, "nodes": nodes,
        "photos_lost": request.method == "POST" and bool(request.FILES.getlist("photos")),
        "points_url": reverse("appeals:m_places"),
    })


@login_required
def category_fields(request):
    """htmx: the chosen category's own questions."""
    category = None
    raw = request.GET.get("category", "")
    if raw.isdigit():
        category = selectors.categories().filter(pk=int(raw)).first()
    return render(request, "appeals/m/_fields.html", {"fields_form": CategoryFieldsForm(category=category)})


@login_required
def places(request):
    """GeoJSON outlines of the grids and micro-grids one may pick on the filing map (and the compounds among
    them): set ones, or derived from the points (``orgs.selectors.place_outlines``)."""
    user = request.user
    staff = request.GET.get("for") == "staff" and policies.can_file_for_others(user)
    if not staff and _resident(user) is None:
        raise Http404
    return JsonResponse(registry.place_outlines(selectors.place_nodes(user, own=not staff)),
                        content_type="application/geo+json")


@login_required
def duplicates(request):
    """htmx: open appeals at the same place and in the same category that read alike, while typing."""
    user = request.user
    text = request.GET.get("description", "").strip()[:2000]
    raw_category, place = request.GET.get("category", ""), request.GET.get("place", "")
    category = selectors.categories().filter(pk=int(raw_category)).first() if raw_category.isdigit() else None
    staff = request.GET.get("for") == "staff" and policies.can_file_for_others(user)
    rows = []
    if category is not None and len(text) >= DUPLICATE_MIN_CHARS:
        household, node = None, None
        if staff:
            raw = request.GET.get("reporter", "")
            reporter = registry.residents(user).filter(pk=int(raw)).first() if raw.isdigit() else None
            household = reporter.household if reporter and place == PLACE_HOUSEHOLD else None
        else:
            resident = _resident(user)
            if resident is None:
                raise Http404
            household = resident.household if place == PLACE_HOUSEHOLD else None
            if place == PLACE_ADDRESS:
                node = policies.home_community(user)
        if place == PLACE_GRID:
            raw = request.GET.get("node", "")
            node = {n.pk: n for n in selectors.place_nodes(user, own=not staff)}.get(int(raw)) if raw.isdigit() else None
        if household is not None or node is not None:
            found = selectors.possible_duplicates(node=node, category=category, text=text, household=household)
            mine = set(selectors.mine(user).filter(pk__in=[a.pk for a, _score in found]).values_list("pk", flat=True))
            rows = [{"appeal": a, "title": _title(user, a), "status": _status(a), "when": _day(a.submitted_at),
                     "mine": a.pk in mine, "offer": "" if staff or a.pk in mine else policies.follow_offer(user, a)}
                    for a, _score in found]
    return render(request, "appeals/m/_duplicates.html", {"rows": rows, "staff": staff})


@login_required
@require_POST
def follow(request, pk):
    """“Same problem? Follow it”: join an open appeal offered while filing (``duplicates``) instead of filing it
    again. Any other appeal answers as a missing one."""
    user = request.user
    offer = request.POST.get("offer", "")
    appeal = selectors.followable(user).filter(pk=pk).first()
    if appeal is None or not policies.can_follow(user, appeal, offer):
        raise Http404("not found")
    try:
        actions.appeal_follow(appeal=appeal, by=user, offer=offer)
    except (ValidationError, PermissionDenied) as exc:
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        if request.htmx:
            return render(request, "appeals/m/_followed.html", {"appeal": appeal, "error": message})
        messages.error(request, message)
        return redirect("appeals:m_new")
    if request.htmx:
        return render(request, "appeals/m/_followed.html", {"appeal": appeal})
    messages.success(request, _("You now follow this appeal and will be told the outcome."))
    return redirect("appeals:m_detail", pk=appeal.pk)


# --- one appeal: the timeline and the rating --------------------------------------------------


class _Actors:
    """Staff shown to residents as their role (or unit) and display name; never a phone or a user name."""

    def __init__(self, appeal: Appeal):
        self.appeal = appeal
        self.cache: dict[int, str] = {}

    def label(self, user) -> str:
        if user is None:
            return ""
        if user.pk not in self.cache:
            self.cache[user.pk] = self._label(user)
        return self.cache[user.pk]

    def _label(self, user) -> str:
        a = self.appeal
        paths = [p for p in (a.handler_path, a.owner_path, a.org_path) if p]
        staff = [x for x in user.active_assignments if x.role != Role.RESIDENT]
        staff.sort(key=lambda x: (not any(p.startswith(x.org_path) for p in paths), -len(x.org_path)))
        role = ""
        if staff:
            first = staff[0]
            role = first.unit.name if first.unit_id else Role(first.role).label
        name = user.display_name.strip()
        if role and name:
            return _("%(role)s %(name)s") % {"role": role, "name": name}
        return role or name or _("Staff")


def _timeline(appeal: Appeal, viewer, *, whole: bool = True) -> tuple[list[dict], list]:
    """The public events as plain sentences, with the notes and photos the resident may see; and the
    photos sent with the appeal (shown with the description). Not ``whole`` (a follower): notes masked
    (``appeals.public``), no photos."""
    actors = _Actors(appeal)
    items, filed_photos = [], []
    events = appeal.events.filter(public=True).select_related("actor").prefetch_related("photos")
    for e in events:
        who = actors.label(e.actor)
        data = e.data or {}
        photos = list(e.photos.all()) if whole else []
        for p in photos:
            p.view_url = reverse("appeals:m_photo", args=[appeal.pk, p.pk])
        note = e.note if whole else public.text(e.note)
        item = {"kind": e.kind, "when": _when(e.at), "note": note, "note_label": "", "photos": photos, "link": None}
        if e.kind == "file":
            if e.actor_id and e.actor_id == viewer.pk and not viewer.can(Perm.WORKBENCH):
                item["text"] = _("Your appeal was submitted")
            elif e.actor_id and e.actor_id != getattr(appeal.reporter, "user_id", None):
                item["text"] = _("%(who)s recorded the appeal (%(channel)s)") % {
                    "who": who, "channel": Channel(appeal.channel).label}
            else:
                item["text"] = _("The appeal was received (%(channel)s)") % {"channel": Channel(appeal.channel).label}
            item["note"], item["photos"] = "", []  # the description and its photos are shown above the timeline
            filed_photos.extend(photos)
        elif e.kind == "dispatch":
            item["text"] = _("Assigned to %(unit)s") % {"unit": data.get("to") or _("the handling unit")}
        elif e.kind == "accept":
            item["text"] = _("%(who)s took it up") % {"who": who}
        elif e.kind == "return":
            item["text"] = _("Sent back to be assigned again")
        elif e.kind == "resolve":
            item["text"] = _("Handled by %(who)s") % {"who": who}
            item["note_label"] = _("What was done")
        elif e.kind == "verify":
            item["text"] = _("The result was checked")
        elif e.kind == "verify_reject":
            item["text"] = _("Checked: not finished yet, handled again")
        elif e.kind == "close":
            item["text"] = _("Closed")
        elif e.kind == "reopen":
            item["text"] = _("Being handled again")
        elif e.kind in ("rate", "callback"):
            satisfaction = Satisfaction(data["satisfaction"]).label if data.get("satisfaction") in Satisfaction.values else ""
            solved = _("solved") if data.get("resolved") else _("not solved")
            if e.kind == "callback":
                item["text"] = _("Follow-up call: %(solved)s, %(satisfaction)s") % {"solved": solved, "satisfaction": satisfaction}
            elif e.actor_id == viewer.pk:
                item["text"] = _("You rated it: %(solved)s, %(satisfaction)s") % {"solved": solved, "satisfaction": satisfaction}
            else:
                item["text"] = _("Rated: %(solved)s, %(satisfaction)s") % {"solved": solved, "satisfaction": satisfaction}
        elif e.kind == "extension_request":
            item["text"] = _("%(who)s asked for %(days)s more working days") % {"who": who, "days": data.get("days", "?")}
        elif e.kind == "extension_decide":
            if data.get("approved"):
                item["text"] = _("The deadline was extended by %(days)s working days") % {"days": data.get("days", "?")}
            else:
                item["text"] = _("More time was not granted")
        elif e.kind == "void_decide":
            if not data.get("approved"):
                continue  # the request to void was internal; its refusal changes nothing for the resident
            item["text"] = _("This appeal was cancelled")
        elif e.kind == "merge":
            item["text"] = _("Joined with appeal %(number)s about the same problem") % {"number": data.get("into", "")}
            if appeal.merged_into_id:
                item["link"] = reverse("appeals:m_detail", args=[appeal.merged_into_id])
        else:
            label = actions.ACTION_LABELS.get(e.kind, e.kind)
            item["text"] = _("%(who)s: %(action)s") % {"who": who or _("Staff"), "action": label}
        items.append(item)
    return items, filed_photos


def _answers(appeal: Appeal, *, whole: bool = True) -> list[tuple[str, str]]:
    """The category's questions and the answers given, in words (masked when not ``whole``)."""
    out = []
    given = (appeal.attributes or {}) if whole else public.answers(appeal.attributes)
    for spec in appeal.category.form_fields or []:
        value = given.get(spec.get("code"))
        if value in (None, "", []):
            continue
        names = {str(v.get("key")): v.get("name") for v in spec.get("values", [])}
        values = value if isinstance(value, list) else [value]
        # Translators: separator of a list of states ("、" in Chinese).
        out.append((spec.get("description") or spec.get("code"), _(", ").join(str(names.get(str(v), v)) for v in values)))
    return out


def _detail_context(request, appeal: Appeal, rate_form=None) -> dict:
    """The page of one appeal: whole for its reporter (and staff), the public part for a follower."""
    user = request.user
    whole = policies.sees_whole(user, appeal)
    status = _status(appeal)
    can_rate = status["to_rate"] and policies.can_rate(user, appeal)
    items, filed_photos = _timeline(appeal, user, whole=whole)
    last_rating = next((i for i in reversed(items) if i["kind"] in ("rate", "callback")), None)
    reopened_after_rating = bool(items) and items[-1]["kind"] == "reopen" and last_rating is not None
    if whole:
        title, description, place = appeal.title, appeal.description, appeal.address or str(appeal.node)
    else:
        title, description = public.title(appeal), public.text(appeal.description)
        place = public.address(appeal, str(appeal.node))
    return {
        "appeal": appeal, "title": title, "description": description, "follower": not whole,
        "status": status, "items": items, "answers": _answers(appeal, whole=whole),
        "handler": appeal.handler_unit or appeal.handler_node,
        "place": place, "submitted": _when(appeal.submitted_at),
        "resolve_due": _day(appeal.resolve_due) if appeal.status in _WORKING else "",
        "filed_photos": filed_photos,
        "rate_form": (rate_form or RateForm()) if can_rate else None,
        "rating": {
            "resolved": appeal.rating_resolved, "satisfaction": appeal.get_satisfaction_display(),
            "comment": appeal.rating_comment if whole else public.text(appeal.rating_comment),
            "by_callback": appeal.rated_by_callback,
        } if appeal.rated_at else None,
        "reopened_after_rating": reopened_after_rating,
    }


@login_required
def detail(request, pk):
    """One appeal as the resident sees it: where it stands, the timeline, the handler's reply, the rating."""
    appeal = selectors.appeal_get(request.user, pk)
    return render(request, "appeals/m/detail.html", _detail_context(request, appeal))


@login_required
@require_POST
def rate(request, pk):
    user = request.user
    appeal = selectors.appeal_get(user, pk)
    form = RateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.appeal_rate(appeal=appeal, by=user, resolved=data["resolved"], satisfaction=data["satisfaction"],
                                comment=data["comment"])
        except (ValidationError, PermissionDenied) as exc:
            pages.form_errors(form, exc)
        else:
            appeal.refresh_from_db()
            if appeal.status in _WORKING:
                messages.success(request, _("Thank you. The appeal has been sent back to be handled again."))
            else:
                messages.success(request, _("Thank you for your rating."))
            return redirect("appeals:m_detail", pk=appeal.pk)
    context = _detail_context(request, appeal, rate_form=form)
    if context["rate_form"] is None:  # rated meanwhile (another tab, a callback): say so above the page
        for message in form.non_field_errors() or [_("This appeal cannot be rated now.")]:
            messages.error(request, message)
        return redirect("appeals:m_detail", pk=appeal.pk)
    return render(request, "appeals/m/detail.html", context)


@login_required
def photo(request, pk, photo_pk):
    """A photo of an appeal the user may see whole (not a follower: ``policies.sees_whole``); served as the image
    type its bytes show, whatever its name."""
    appeal = selectors.appeal_get(request.user, pk)
    if not policies.sees_whole(request.user, appeal):
        raise Http404
    item = get_object_or_404(appeal.photos.all(), pk=photo_pk)
    try:
        handle = item.image.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    head = handle.read(12)
    handle.seek(0)
    kind = next((t for magic, t in _IMAGE_TYPES if head.startswith(magic)), None)
    if kind is None:
        handle.close()
        raise Http404
    response = FileResponse(handle, content_type=kind)
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- staff filing for a resident --------------------------------------------------------------


_STAFF_PLACES = [
    (PLACE_HOUSEHOLD, gettext_lazy("At the resident's home")),
    (PLACE_GRID, gettext_lazy("Pick the grid on the map or from the list")),
]


@login_required
def file_for(request):
    """Staff file an appeal for a resident: on a grid worker's rounds, at the window, from the hotline,
    a meeting or the wish wall."""
    user = request.user
    _need_filing(user)
    channels = staff_channels(user)
    if not channels:
        raise PermissionDenied
    nodes = selectors.place_nodes(user, own=False)
    form = StaffAppealFileForm(request.POST or None, request.FILES or None, categories=selectors.categories(),
                               nodes=nodes, places=_STAFF_PLACES, channels=channels)
    category = _chosen_category(request, form)
    fields_form = CategoryFieldsForm(request.POST or None, category=category)
    reporter, matches = None, None
    raw_reporter = form.data.get("reporter", "") if form.is_bound else ""
    if str(raw_reporter).isdigit():
        reporter = registry.residents(user).filter(pk=int(raw_reporter)).first()
    # 查找 is a form of its own (a GET, htmx asks for the matches alone): it never submits the appeal's form,
    # so nothing is checked before anything is filled in.
    lookup = request.method == "GET" and "q" in request.GET
    q = request.GET.get("q", "").strip()[:60] if lookup else ""
    if lookup:
        matches = _matches(user, q)
    elif request.method == "POST":
        form_ok, fields_ok = form.is_valid(), fields_form.is_valid()
        if form_ok and raw_reporter and reporter is None:
            form.add_error(None, _("That resident is not in your area."))
            form_ok = False
        if form_ok and fields_ok:
            data = form.cleaned_data
            try:
                appeal = actions.appeal_file(
                    by=user, reporter=reporter, reporter_name="" if reporter else data["reporter_name"],
                    reporter_phone="" if reporter else data["reporter_phone"], channel=data["channel"],
                    category=data["category"], title="", description=data["description"],
                    attributes=fields_form.answers(), photos=data["photos"],
                    **_place_kwargs(data, household=reporter.household if reporter else None, community=None),
                )
            except (ValidationError, PermissionDenied) as exc:
                pages.form_errors(form, exc)
            else:
                # Back to an empty form: at the window and on rounds the next person is usually waiting.
                return redirect(f"{reverse('appeals:file_for')}?filed={appeal.pk}")
    if matches is None and reporter is not None:
        matches = [reporter]
    filed = None
    if request.method == "GET" and request.GET.get("filed", "").isdigit():
        filed = selectors.appeals(user).filter(pk=int(request.GET["filed"])).first()
    return render(request, "appeals/file_staff.html", {
        "filed": filed, "filed_url": _staff_url(user, filed),
        "form": form, "fields_form": fields_form, "nodes": nodes, "matches": matches, "reporter": reporter, "q": q,
        "photos_lost": request.method == "POST" and bool(request.FILES.getlist("photos")),
        "points_url": reverse("appeals:m_places") + "?for=staff",
    })


def _staff_url(user, appeal) -> str:
    """The staff page of a just-filed appeal when the user may work there, else the resident's view of it."""
    if appeal is None:
        return ""
    if user.can(Perm.APPEALS_VIEW):
        return reverse("appeals:detail", args=[appeal.pk])
    return reverse("appeals:m_detail", args=[appeal.pk])


def _matches(user, q: str):
    if len(q) < 1:
        return None
    return list(registry.residents(user).filter(registry.search_q(q)).order_by("org_path", "id")[:10])


@login_required
def file_for_residents(request):
    """htmx: residents matching a name, pinyin initials, ID number or phone, to file for."""
    user = request.user
    _need_filing(user)
    q = request.GET.get("q", "").strip()[:60]
    return render(request, "appeals/m/_residents.html", {"matches": _matches(user, q), "q": q, "reporter": None})
