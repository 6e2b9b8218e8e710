"""Micro-wish pages: the staff list and a wish's page with its steps; on the phone, the wall of open wishes and
what one claimed (party members, partner contacts), and a resident's own wishes."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import pages
from gongzhi.orgs import selectors as org_selectors
from gongzhi.orgs.models import Resident

from .. import actions, policies, selectors
from ..forms import OwnWishForm, StepForm, WishFilterForm, WishForm
from ..models import WishStatus
from ..permissions import Perm

PAGE_SIZE = 30


@login_required
def wish_list(request):
    user = request.user
    pages.need(user, Perm.WISHES_VIEW)
    form = WishFilterForm(request.GET or None)
    qs = selectors.area_wishes(user).order_by("-collected_at", "-id")
    if form.is_valid() and form.cleaned_data["status"]:
        qs = qs.filter(status=form.cleaned_data["status"])
    return render(request, "participation/wish_list.html", {
        "form": form, "page": pages.offset_page(request, qs, PAGE_SIZE),
        "statuses": WishStatus.choices,
    })


@login_required
def wish_new(request, resident_pk):
    """Staff take down a resident's wish (from the resident's page)."""
    user = request.user
    pages.need(user, Perm.WISHES_COLLECT)
    resident = org_selectors.resident_get(user, resident_pk)
    form = WishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            wish = actions.wish_collect(by=user, resident=resident, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            pages.form_errors(form, exc)
        else:
            messages.success(request, _("The wish was taken down; the community verifies it."))
            return redirect("participation:wish", wish.pk)
    return render(request, "participation/wish_new.html", {"form": form, "resident": resident})


@login_required
def wish_detail(request, pk):
    user = request.user
    wish = selectors.wish_get(user, pk)
    template = "participation/wish.html" if user.can(Perm.WISHES_VIEW) else "participation/m/wish.html"
    return render(request, template, {
        "wish": wish, "whole": policies.sees_whole(user, wish), "steps": policies.allowed_steps(user, wish),
        "events": wish.events.all() if policies.sees_whole(user, wish) or policies.is_claimant(user, wish) else [],
        "may_record_claim": wish.status == WishStatus.PUBLISHED and policies.can_manage(user, wish),
    })


_RUN = {
    "verify": lambda w, by, d: actions.wish_verify(wish=w, by=by, note=d["note"]),
    "publish": lambda w, by, d: actions.wish_publish(wish=w, by=by),
    "reject": lambda w, by, d: actions.wish_reject(wish=w, by=by, reason=d["note"]),
    "claim": lambda w, by, d: actions.wish_claim(wish=w, by=by, for_name=d["for_name"]),
    "release": lambda w, by, d: actions.wish_release(wish=w, by=by, reason=d["note"]),
    "fulfil": lambda w, by, d: actions.wish_fulfil(wish=w, by=by, note=d["note"]),
    "thank": lambda w, by, d: actions.wish_thank(wish=w, by=by, note=d["note"]),
}
_DONE = {
    "verify": _("Verified."), "publish": _("Published on the wish wall."), "reject": _("Turned down."),
    "claim": _("You claimed this wish. Thank you!"), "release": _("Handed back to the wall."),
    "fulfil": _("Fulfilled. Thank you!"), "thank": _("Your thanks were passed on."),
}


@login_required
@require_POST
def wish_step(request, pk, step):
    user = request.user
    wish = selectors.wish_get(user, pk)
    if step not in _RUN:
        return redirect("participation:wish", pk)
    form = StepForm(request.POST)
    if form.is_valid():
        try:
            _RUN[step](wish, user, form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, str(_DONE[step]))
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    if request.POST.get("back") == "m":  # from the phone page
        return redirect("participation:m_home")
    return redirect("participation:wish", pk)


@login_required
def m_home(request):
    """The phone page of those who claim and take (party members, partner contacts) and of residents: the open
    service orders and the wall of open wishes of one's community, what one took and claimed; one's own orders
    and wishes."""
    user = request.user
    own = Resident.objects.filter(user=user).first()
    member = selectors.my_membership(user)
    today = timezone.localdate()
    return render(request, "participation/m/home.html", {
        "member": member, "registration": selectors.my_registration(member),
        "households": selectors.households_looked_after(member) if member else [],
        "hours": selectors.hours_of(user, today) if member else None,
        "ranking": selectors.branch_ranking(member, today) if member else [],
        "wall": list(selectors.wall(user)[:50]), "claims": list(selectors.my_claims(user)[:50]),
        "mine": list(selectors.my_wishes(user)[:20]), "community": policies.member_community(user),
        "may_claim": bool(policies.claim_paths(user)), "own": own,
        "open_orders": list(selectors.open_orders(user)[:50]), "my_orders": list(selectors.my_orders(user)[:50]),
        "my_done": list(selectors.my_orders(user, done=True)[:10]),
        "ordered": list(selectors.ordered_by_me(user)[:20]),
    })


@login_required
def m_wish_new(request):
    """A resident makes a wish of their own on the phone; the community verifies it before it goes on the wall."""
    user = request.user
    resident = Resident.objects.filter(user=user).select_related("household").first()
    if resident is None:
        raise PermissionDenied(_("Your account is not linked to a resident: ask your grid worker."))
    form = OwnWishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.wish_collect(by=user, resident=resident, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            pages.form_errors(form, exc)
        else:
            messages.success(request, _("Your wish was sent; the community will contact you."))
            return redirect("participation:m_home")
    return render(request, "participation/m/wish_new.html", {"form": form})
