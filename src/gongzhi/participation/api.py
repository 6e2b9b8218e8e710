"""Micro-wish endpoints: scoped reads through ``selectors``, every step through ``actions``.

A step the wish's state does not allow now (claimed by someone else a moment ago) answers 409 with the reason,
naming who took it; a step the caller may not take 403; a wish they may not see 404, like a missing one."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.pagination import paginate
from ninja.responses import Status as HttpStatus

from gongzhi.core.api import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, Id, Page, errors
from gongzhi.orgs import selectors as org_selectors
from gongzhi.orgs.models import Resident, Unit

from . import actions, policies, selectors
from .schemas import WishFilterIn, WishIn, WishOut, WishStep, WishStepIn

router = Router(tags=["participation"])
STEP_ERRORS = {**WRITE_ERRORS, **errors(409)}


@router.get("/wishes", response={200: list[WishOut], **LIST_ERRORS}, summary="List micro-wishes")
@paginate(Page)
def wish_list(request, filters: Query[WishFilterIn]):
    """Wishes you may see: your area's (staff), the wall of the community where you claim (party members,
    partner units: surname and place only), those you claimed, and your own; newest first, or with `wall` the
    open ones the longest waiting first."""
    user = request.auth
    qs = selectors.wall(user) if filters.wall else selectors.wishes(user).order_by("-collected_at", "-id")
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs.select_related("resident")


@router.get("/wishes/{wish_id}", response={200: WishOut, **READ_ERRORS}, summary="One micro-wish")
def wish_detail(request, wish_id: Id):
    return selectors.wish_get(request.auth, wish_id)


@router.post("/wishes", response={201: WishOut, **WRITE_ERRORS}, summary="Take down a micro-wish")
def wish_create(request, payload: WishIn):
    """Staff take down a resident's wish (`resident_id`, in their area); a resident makes their own (no
    `resident_id`; the channel is `online`)."""
    user = request.auth
    if payload.resident_id is not None:
        resident = org_selectors.resident_get(user, payload.resident_id)
    else:
        resident = Resident.objects.filter(user=user).select_related("household").first()
        if resident is None:
            raise PermissionDenied(_("Your account is not linked to a resident: ask your grid worker."))
    wish = actions.wish_collect(by=user, resident=resident, title=payload.title, description=payload.description,
                                kind=payload.kind, channel=payload.channel)
    return HttpStatus(201, wish)


_STEPS = {
    "verify": lambda wish, by, p: actions.wish_verify(wish=wish, by=by, note=p.note),
    "publish": lambda wish, by, p: actions.wish_publish(wish=wish, by=by),
    "reject": lambda wish, by, p: actions.wish_reject(wish=wish, by=by, reason=p.note),
    "release": lambda wish, by, p: actions.wish_release(wish=wish, by=by, reason=p.note),
    "fulfil": lambda wish, by, p: actions.wish_fulfil(wish=wish, by=by, note=p.note),
    "thank": lambda wish, by, p: actions.wish_thank(wish=wish, by=by, note=p.note),
}


def _claim(wish, by, payload):
    unit = None
    if payload.unit_id is not None:
        unit = Unit.objects.filter(pk=payload.unit_id).first()
        if unit is None:
            raise Http404
    return actions.wish_claim(wish=wish, by=by, unit=unit)


_STEPS["claim"] = _claim


@router.post("/wishes/{wish_id}/{step}", response={200: WishOut, **STEP_ERRORS}, summary="Take a step on a micro-wish")
def wish_step(request, wish_id: Id, step: WishStep, payload: WishStepIn | None = None):
    """`claim` (one claimant: 409 naming who took it when someone was first), `release` (with the reason),
    `fulfil` (how), `thank`, and the staff's `verify`, `publish`, `reject` (why)."""
    user = request.auth
    wish = selectors.wish_get(user, wish_id)
    try:
        wish = _STEPS[step](wish, user, payload or WishStepIn())
    except policies.StepRefused as exc:
        return HttpStatus(409, {"detail": " ".join(exc.messages)})
    return wish
