"""Joining pages: the resident's (open a code's link on the phone, or ask without a code) and the grid
worker's (a household's codes and their door notice, a party member's code, the requests waiting)."""

from __future__ import annotations

import io

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gongzhi.core import pages
from gongzhi.orgs import selectors as orgs_selectors
from gongzhi.orgs.models import Building, Compound, NodeKind, OrgNode, Resident

from .. import policies, selectors, sms
from ..actions import join as actions
from ..forms import JoinAskForm, JoinCodeCreateForm, JoinCodeForm, JoinRejectForm, UnlinkForm

REQUESTS_PER_PAGE = 30
LOGIN_BACKEND = "gongzhi.accounts.backends.ThrottledBackend"


def _existing_account(request):
    """A logged-in account without a household (someone who moved out) joins without phone and password."""
    user = request.user
    if not user.is_authenticated:
        return None
    return user


def _linked(user) -> bool:
    return user.is_authenticated and Resident.objects.filter(user=user).exists()


def _refused(request, form, template, context, refused):
    form.add_error(None, refused.lock.message())
    response = render(request, template, {**context, "form": form}, status=429)
    response["Retry-After"] = str(refused.lock.seconds_left)
    return response


def _send_phone_code(request, form):
    """The "text me a code" button: sends, and says honestly what happened."""
    try:
        result = actions.phone_check_send(request=request, phone=request.POST.get("phone", ""))
    except ValidationError as exc:
        form.add_action_errors(exc)
        return None
    if result.delivered:
        messages.info(request, _("A code was sent to your phone by text message."))
    else:
        messages.warning(request, _("This server cannot send text messages yet: the code was written to the "
                                    "server's log. Ask your grid worker."))
    return None


@never_cache
def start(request):
    """Enter a code (or open the code's link); or ask to join without one."""
    if request.method == "POST":
        code = actions.normalize_code(request.POST.get("code", ""))
        if code:
            return redirect("join:code", code=code)
        messages.error(request, _("A join code has 8 letters and digits, like ABCD-EFGH."))
    return render(request, "accounts/join/start.html", {"linked": _linked(request.user)})


@never_cache
def with_code(request, code: str):
    """The code's link: name, last 4 of the ID number, phone and password. Nothing about the code or the
    household is shown before the form is sent (no household's address to anyone who guesses a link)."""
    existing = _existing_account(request)
    if existing is not None and _linked(existing):
        messages.info(request, _("Your account is linked to a household already."))
        return redirect("orgs:mine")
    options = {"existing_account": existing is not None, "verify_phone": settings.JOIN_VERIFY_PHONE}
    context = {"verify_phone": settings.JOIN_VERIFY_PHONE, "existing": existing,
               "code_shown": actions.format_code(actions.normalize_code(code))}
    if request.method != "POST":
        form = JoinCodeForm(initial={"code": context["code_shown"] or code[:20]}, **options)
        return render(request, "accounts/join/code.html", {**context, "form": form})
    form = JoinCodeForm(request.POST, **options)
    if "send_code" in request.POST:
        _send_phone_code(request, form)
        return render(request, "accounts/join/code.html", {**context, "form": form})
    if not form.is_valid():
        return render(request, "accounts/join/code.html", {**context, "form": form}, status=400)
    data = form.cleaned_data
    try:
        joined = actions.join(request=request, code=data["code"], name=data["name"], id_last4=data["id_last4"],
                              phone=data.get("phone"), password=data.get("password") if existing is None else None,
                              user=existing, sms_code=data.get("sms_code", ""))
    except actions.JoinRefused as refused:
        return _refused(request, form, "accounts/join/code.html", context, refused)
    except ValidationError as exc:
        form.add_action_errors(exc)
        return render(request, "accounts/join/code.html", {**context, "form": form}, status=400)
    if joined.status == "active":
        if existing is None:
            login(request, joined.user, backend=LOGIN_BACKEND)
        messages.success(request, _("Welcome! Your account is linked to your household."))
        return redirect("orgs:mine")
    request.session["join_sent"] = True
    return redirect("join:sent")


def _places(data) -> dict:
    def number(key):
        value = str(data.get(key, "") or "")
        return int(value) if value.isdigit() and len(value) < 19 else None

    community, compound = number("community"), number("compound")
    return {
        "communities": selectors.join_places(),
        "compounds": selectors.join_places(community_id=community) if community else [],
        "buildings": selectors.join_places(compound_id=compound) if compound else [],
    }


@never_cache
def ask(request):
    """No code: pick the community, compound and building, type the address; the request waits for the grid
    worker (always the same answer)."""
    existing = _existing_account(request)
    if existing is not None and _linked(existing):
        messages.info(request, _("Your account is linked to a household already."))
        return redirect("orgs:mine")
    options = {"existing_account": existing is not None, "verify_phone": settings.JOIN_VERIFY_PHONE}
    data = request.POST if request.method == "POST" else request.GET
    context = {"existing": existing, "verify_phone": settings.JOIN_VERIFY_PHONE}
    if request.method != "POST":
        form = JoinAskForm(initial={k: data.get(k) for k in ("community", "compound")}, **_places(data), **options)
        return render(request, "accounts/join/ask.html", {**context, "form": form})
    form = JoinAskForm(request.POST, **_places(data), **options)
    if "send_code" in request.POST:
        _send_phone_code(request, form)
        return render(request, "accounts/join/ask.html", {**context, "form": form})
    if not form.is_valid():
        return render(request, "accounts/join/ask.html", {**context, "form": form}, status=400)
    d = form.cleaned_data
    community = OrgNode.objects.filter(pk=d["community"], kind=NodeKind.COMMUNITY).first()
    compound = Compound.objects.filter(pk=d["compound"]).first() if d["compound"] else None
    building = Building.objects.filter(pk=d["building"]).first() if d["building"] else None
    if community is None:
        form.add_error("community", _("Choose your community or village."))
        return render(request, "accounts/join/ask.html", {**context, "form": form}, status=400)
    try:
        actions.join_ask(request=request, community=community, compound=compound, building=building,
                         address=d["address"], name=d["name"], id_last4=d["id_last4"], phone=d.get("phone"),
                         password=d.get("password") if existing is None else None, user=existing,
                         sms_code=d.get("sms_code", ""))
    except actions.JoinRefused as refused:
        return _refused(request, form, "accounts/join/ask.html", context, refused)
    except ValidationError as exc:
        form.add_action_errors(exc)
        return render(request, "accounts/join/ask.html", {**context, "form": form}, status=400)
    request.session["join_sent"] = True
    return redirect("join:sent")


def places(request):
    """``<option>``s for the ask form's compound and building (htmx, when the community or compound changes)."""
    data = _places(request.GET)
    if "compound" in request.GET:
        return HttpResponse(pages.options_html([("", "—")] + data["buildings"]))
    # A new community: its compounds, and the building list emptied (out of band).
    empty = pages.options_html([("", "—")])
    return HttpResponse(pages.options_html([("", "—")] + data["compounds"])
                        + f'<select id="id_building" hx-swap-oob="innerHTML">{empty}</select>')


@never_cache
def sent(request):
    """The one answer to every request that waits: no hint of what matched."""
    if not request.session.pop("join_sent", False):
        return redirect("join:start")
    return render(request, "accounts/join/sent.html", {"sms_delivers": sms.delivers()})


# --- the grid worker's pages --------------------------------------------------------------------------------------


def _need_requests(user):
    if not policies.sees_join_requests(user):
        raise PermissionDenied


@login_required
def requests(request):
    """The join requests of the user's area: waiting ones first (the default), or the decided ones."""
    _need_requests(request.user)
    tab = request.GET.get("tab", "pending")
    qs = selectors.join_requests(request.user)
    qs = qs.filter(status="pending") if tab != "decided" else qs.exclude(status="pending")
    return render(request, "accounts/join/requests.html", {
        "page": pages.offset_page(request, qs, REQUESTS_PER_PAGE), "tab": "decided" if tab == "decided" else "pending",
    })


def _request_page(request, join_request, *, reject_form=None, status=200, approve_error=""):
    candidates = selectors.join_candidates(request.user, join_request) if join_request.status == "pending" else []
    hints = selectors.join_match_hints(join_request, candidates)
    for c in candidates:
        c.hint = hints.get(c.pk, {})
    return render(request, "accounts/join/request.html", {
        "jr": join_request, "candidates": candidates, "reject_form": reject_form or JoinRejectForm(),
        "approve_error": approve_error,
    }, status=status)


@login_required
def request_detail(request, pk: int):
    join_request = selectors.join_request_get(request.user, pk)
    return _request_page(request, join_request)


@login_required
@require_POST
def request_approve(request, pk: int):
    join_request = selectors.join_request_get(request.user, pk)
    value = request.POST.get("resident", "")
    if not value.isdigit() or len(value) > 18:
        return _request_page(request, join_request, status=400, approve_error=_("Choose the household member."))
    resident = selectors.linkable_resident(request.user, join_request, int(value))
    try:
        actions.join_request_approve(join_request=join_request, resident=resident, by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return _request_page(request, join_request, status=400, approve_error=message)
    messages.success(request, _("Approved: %(name)s's account is linked to %(resident)s.")
                     % {"name": join_request.name, "resident": resident.name})
    return redirect("join:requests")


@login_required
@require_POST
def request_reject(request, pk: int):
    join_request = selectors.join_request_get(request.user, pk)
    form = JoinRejectForm(request.POST)
    if form.is_valid():
        try:
            actions.join_request_reject(join_request=join_request, reason=form.cleaned_data["reason"], by=request.user)
        except (ValidationError, PermissionDenied) as exc:
            pages.form_errors(form, exc)
        else:
            messages.success(request, _("The request was refused."))
            return redirect("join:requests")
    return _request_page(request, join_request, reject_form=form, status=400)


def _codes_page(request, *, household=None, member=None, form=None, unlink_form=None, new=None, status=200):
    user = request.user
    if household is not None:
        codes = selectors.household_join_codes(user, household)
        members = list(orgs_selectors.residents(user).filter(household=household).select_related("user")
                       .order_by("birth_date"))
    else:
        codes = member.join_codes.select_related("created_by").order_by("-created_at", "-id")
        members = [member.resident]
    return render(request, "accounts/join/codes.html", {
        "household": household, "member": member, "codes": list(codes[:50]), "members": members,
        "form": form or JoinCodeCreateForm(), "unlink_form": unlink_form or UnlinkForm(), "new": new,
        "can_unlink": household is not None,
    }, status=status)


def _create_code(request, **target):
    form = JoinCodeCreateForm(request.POST)
    if form.is_valid():
        try:
            code, raw = actions.join_code_create(by=request.user, days=form.cleaned_data["days"], **target)
        except (ValidationError, PermissionDenied) as exc:
            pages.form_errors(form, exc)
        else:
            messages.success(request, _("Join code %(code)s made: print its notice or show it on your phone.")
                             % {"code": actions.format_code(raw)})
            return redirect("join:code_print", pk=code.pk)
    return _codes_page(request, form=form, status=400, **target)


@login_required
def household_codes(request, pk: int):
    """A household's join codes (make, print, revoke) and its members' accounts (unlink one who moved out)."""
    household = orgs_selectors.household_get(request.user, pk)
    if not policies.can_issue_household_code(request.user, household):
        raise Http404("not found")
    if request.method == "POST":
        return _create_code(request, household=household)
    return _codes_page(request, household=household)


@login_required
def party_codes(request, pk: int):
    """A party member's join code, made by their branch."""
    member = orgs_selectors.party_member_get(request.user, pk)
    if not policies.can_issue_party_code(request.user, member):
        raise Http404("not found")
    if request.method == "POST":
        return _create_code(request, party_member=member)
    return _codes_page(request, member=member)


@login_required
@require_POST
def unlink(request, pk: int):
    household = orgs_selectors.household_get(request.user, pk)
    if not policies.can_issue_household_code(request.user, household):
        raise Http404("not found")
    form = UnlinkForm(request.POST)
    if form.is_valid():
        resident = Resident.objects.filter(pk=form.cleaned_data["resident"], household=household).first()
        if resident is None:
            raise Http404("not found")
        try:
            actions.resident_account_unlink(resident=resident, by=request.user, reason=form.cleaned_data["reason"])
        except (ValidationError, PermissionDenied) as exc:
            pages.form_errors(form, exc)
        else:
            messages.success(request, _("%(name)s's account is no longer linked to this household.")
                             % {"name": resident.name})
            return redirect("join:household", pk=household.pk)
    return _codes_page(request, household=household, unlink_form=form, status=400)


def _code_link(raw: str) -> str:
    return settings.GONGZHI_BASE_URL + reverse("join:code", args=[raw])


@login_required
def code_print(request, pk: int):
    """The door notice (A5/A4): the household's address, the QR code, the code to type, how to join."""
    code = selectors.join_code_get(request.user, pk)
    raw = code.reveal()
    return render(request, "accounts/join/print.html", {
        "code": code, "shown": actions.format_code(raw), "link": _code_link(raw),
    })


@login_required
def code_qr(request, pk: int):
    """The QR code of a join code's link, as SVG (the pages' policy allows images from this site only)."""
    code = selectors.join_code_get(request.user, pk)
    out = io.BytesIO()
    segno.make(_code_link(code.reveal()), error="m").save(out, kind="svg", scale=8, border=2, xmldecl=False,
                                                          svgclass=None, lineclass=None)
    response = HttpResponse(out.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def code_revoke(request, pk: int):
    code = selectors.join_code_get(request.user, pk)
    actions.join_code_revoke(code=code, by=request.user)
    messages.success(request, _("The join code was revoked."))
    if code.household_id:
        return redirect("join:household", pk=code.household_id)
    return redirect("join:party", pk=code.party_member_id)


@login_required
def badge(request):
    """The number of waiting requests: in the menu, or as a card on the grid worker's phone page (``?card=1``)."""
    count = selectors.pending_join_count(request.user)
    template = "accounts/join/_card.html" if request.GET.get("card") == "1" else "accounts/join/_badge.html"
    return render(request, template, {"count": count, "capped": count > selectors.PENDING_COUNT_CAP})
