"""Appeals API routes: scoped reads through ``selectors``, every transition through ``actions``.

A refused transition (wrong state, already done by someone else) answers 409 with the reason; a
permission the caller lacks 403; an appeal outside the caller's view 404, like a missing one.
"""

from types import SimpleNamespace

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.pagination import paginate
from ninja.responses import Status as HttpStatus

from gongzhi.appeals.permissions import Perm
from gongzhi.core.api import COUNT_CAP, LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, Id, Page, errors
from gongzhi.orgs import selectors as org_selectors

from . import actions, policies, public, routing, selectors
from .selectors import listing
from .actions import ACTION_LABELS, TransitionError
from .models import Appeal, AppealRequest, Channel
from .schemas import (
    AppealDetailOut,
    AppealFileIn,
    AppealFilterIn,
    PagedAppealOut,
    CategoryOut,
    DecideIn,
    DispatchIn,
    ExtensionIn,
    MergeIn,
    NoteIn,
    RateIn,
    ReasonIn,
    ReopenIn,
    ResolveIn,
    SuperviseIn,
    VerifyIn,
)

router = Router(tags=["appeals"])
TRANSITION_ERRORS = {**WRITE_ERRORS, **errors(409)}

# --- reading ------------------------------------------------------------------------------------------



def _is_staff(user) -> bool:
    return user.can(Perm.WORKBENCH)


# The policy's action names as the transition routes are named (rating and callback share POST .../rate).
_ROUTES = {"extension_request": "extension", "void_request": "void", "extension_decide": "extension/decide",
           "void_decide": "void/decide", "callback": "rate"}


def _allowed(user, appeal: Appeal, requests) -> list[str]:
    """The transitions the user may make now (``policies.allowed_actions``), as the routes' names."""
    out = []
    for action in policies.allowed_actions(user, appeal, requests):
        name = _ROUTES.get(action, action)
        if name not in out:
            out.append(name)
    return out


# Detail fields computed here rather than read off the model.
_DETAIL_OWN = {"category", "category_name", "node_name", "handler_name", "reporter_phone", "filed_by", "client",
               "accepted_by", "events", "requests", "allowed"}


def _public_fields(appeal: Appeal) -> dict:
    """What a follower who did not report the appeal sees in place of the whole (``policies.sees_whole``): its
    public part (``appeals.public``), without the reporter, the household or who filed and accepted it."""
    lat, lng = public.point(appeal)
    return {
        "title": public.title(appeal), "description": public.text(appeal.description),
        "address": public.address(appeal, appeal.node.name), "attributes": public.answers(appeal.attributes),
        "lat": lat, "lng": lng, "household_id": None, "reporter_id": None, "reporter_name": "",
        "result": public.text(appeal.result), "rating_comment": public.text(appeal.rating_comment),
    }


def _detail(user, appeal: Appeal) -> SimpleNamespace:
    """The appeal with its timeline: every step for staff, the public ones (without names) for residents; a
    follower who did not report it gets its public part."""
    whole = policies.sees_whole(user, appeal)
    staff = _is_staff(user) and whole  # staff who only follow this one see what a resident follower sees
    events = appeal.events.all() if staff else appeal.events.filter(public=True)
    requests = list(appeal.requests.select_related("requested_by").order_by("requested_at", "id"))
    fields = {f: getattr(appeal, f) for f in AppealDetailOut.model_fields if f not in _DETAIL_OWN}
    if not whole:
        fields.update(_public_fields(appeal))
    return SimpleNamespace(
        **fields, category=appeal.category.code, category_name=appeal.category.name, node_name=appeal.node.name,
        handler_name=(appeal.handler_unit or appeal.handler_node).name if appeal.handler_unit_id or appeal.handler_node_id
        else "", reporter_phone=appeal.reporter_phone_masked if whole else "",
        filed_by=str(appeal.filed_by) if appeal.filed_by_id and whole else "",
        client=appeal.client.name if appeal.client_id else "",
        accepted_by=str(appeal.accepted_by) if appeal.accepted_by_id and whole else "",
        events=[
            {"id": e.pk, "at": e.at, "kind": e.kind, "label": str(ACTION_LABELS.get(e.kind, e.kind)),
             "actor": e.actor_name if staff else "", "from_status": e.from_status, "to_status": e.to_status,
             "note": e.note if whole else public.text(e.note), "public": e.public, "data": e.data if staff else {}}
            for e in events.order_by("at", "id")
        ],
        requests=[
            {"id": r.pk, "kind": r.kind, "state": r.state, "reason": r.reason, "extend_days": r.extend_days,
             "requested_at": r.requested_at, "requested_by": str(r.requested_by or ""), "decided_at": r.decided_at,
             "decision_note": r.decision_note}
            for r in requests
        ] if staff else [],
        allowed=_allowed(user, appeal, requests),
    )


@router.get("/appeal-categories", response={200: list[CategoryOut], **LIST_ERRORS}, summary="List appeal categories")
@paginate(Page)
def category_list(request):
    """Active categories with their form fields and deadlines (the same as the Open311 services)."""
    out = []
    for category in selectors.categories().order_by("sort_order", "code"):
        policy = routing.policy_for(category)
        out.append({
            "id": category.pk, "code": category.code, "name": category.name, "description": category.description,
            "parent_id": category.parent_id, "keywords": category.keywords, "form_fields": category.form_fields or [],
            "response_amount": policy.response_amount, "response_unit": policy.response_unit,
            "resolve_amount": policy.resolve_amount, "resolve_unit": policy.resolve_unit,
        })
    return out


@router.get("/appeals", response={200: PagedAppealOut, **LIST_ERRORS}, summary="List appeals")
def appeal_list(request, filters: Query[AppealFilterIn], paging: Query[Page.Input]):
    """Appeals you may see (your area, dispatched to you, or your own), newest first, with filters.

    The same rows, in the same order, as the staff list page. An appeal you only follow shows its public part
    (phone and ID numbers in the title masked) and is not found by words of its text, only by its number."""
    user = request.auth
    empty = {"items": [], "count": 0, "count_capped": False}
    try:
        node = org_selectors.node_get(user, filters.node) if filters.node is not None else None
    except Http404:  # missing or out of scope: "nothing there", the list comes back empty either way
        return empty
    query = listing.ListQuery(
        queue=filters.queue or "", node=node, handler_node_id=filters.handler_node,
        handler_unit_id=filters.handler_unit, status=filters.status or "", due_state=filters.due_state or "",
        category_ids=listing.category_subtree(code=filters.category) if filters.category else None,
        date_from=filters.date_from, date_to=filters.date_to, text=filters.q,
    )
    found = listing.page(user, query, fields=listing.API_FIELDS, size=paging.limit, offset=paging.offset,
                         cap=COUNT_CAP)
    codes, names = listing.category_codes(), listing.category_names()
    for row in found.rows:
        row.id, row.category, row.category_name = row.pk, codes.get(row.category_id, ""), names.get(row.category_id, "")
    count, capped = found.count(COUNT_CAP)
    return {"items": found.rows, "count": count, "count_capped": capped}


@router.get("/appeals/{appeal_id}", response={200: AppealDetailOut, **READ_ERRORS}, summary="One appeal")
def appeal_detail(request, appeal_id: Id):
    """The appeal with its timeline and, for staff, its extension and void requests."""
    return _detail(request.auth, selectors.appeal_get(request.auth, appeal_id))


# --- filing ----------------------------------------------------------------------------------------------


@router.post("/appeals", response={201: AppealDetailOut, **WRITE_ERRORS}, summary="File an appeal")
def appeal_file(request, payload: AppealFileIn):
    """Residents file for themselves (their household is the place unless another is given); staff
    holding the filing permission file for residents or others in their area."""
    user = request.auth
    category = selectors.categories().filter(code=payload.category).first()
    if category is None:
        raise Http404
    reporter = org_selectors.resident_get(user, payload.reporter_id) if payload.reporter_id else None
    household = org_selectors.household_get(user, payload.household_id) if payload.household_id else None
    node = org_selectors.node_get(user, payload.node_id) if payload.node_id else None
    channel = payload.channel
    if not policies.can_file_for_others(user):
        own = org_selectors.residents(user).filter(user=user).first()
        if own is None or (reporter is not None and reporter.pk != own.pk):
            raise PermissionDenied(_("Residents file appeals for themselves only."))
        reporter, channel = own, Channel.ONLINE
    appeal = actions.appeal_file(
        by=user, category=category, title=payload.title, description=payload.description, channel=channel,
        node=node, household=household, reporter=reporter, reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone, address=payload.address, lng=payload.lng, lat=payload.lat,
        attributes=payload.attributes,
    )
    return HttpStatus(201, _detail(user, appeal))


# --- transitions -------------------------------------------------------------------------------------------


def _act(request, appeal_id: int, fn, **kwargs):
    """Run one action on an appeal the caller can see; a refusal becomes 409 with its reason."""
    appeal = selectors.appeal_get(request.auth, appeal_id)
    try:
        fn(appeal, **kwargs)
    except TransitionError as exc:
        return HttpStatus(409, {"detail": " ".join(exc.messages)})
    # The caller may no longer see it (a returned appeal leaves the handler's view): answer with what they did.
    appeal.refresh_from_db()
    return _detail(request.auth, appeal)


def _dispatch_target(user, appeal: Appeal, payload: DispatchIn) -> dict:
    """The node or unit named: one the appeal may be dispatched to (``policies.dispatch_target_nodes`` /
    ``_units``, or the routing suggestion), or else one the caller sees, which the action then refuses with the
    reason (422). Anything else answers 404, like a missing id."""
    route = routing.route(appeal.node, appeal.category)
    if payload.to_node_id is not None:
        if route.node is not None and route.node.pk == payload.to_node_id:
            return {"to_node": route.node}
        node = policies.dispatch_target_nodes(appeal).filter(pk=payload.to_node_id).first()
        return {"to_node": node if node is not None else org_selectors.node_get(user, payload.to_node_id)}
    if payload.to_unit_id is not None:
        if route.unit is not None and route.unit.pk == payload.to_unit_id:
            return {"to_unit": route.unit}
        unit = policies.dispatch_target_units(appeal).filter(pk=payload.to_unit_id).first()
        return {"to_unit": unit if unit is not None else org_selectors.unit_get(user, payload.to_unit_id)}
    return {}


def _transition(path: str, summary: str, description: str):
    return router.post(f"/appeals/{{appeal_id}}/{path}", response={200: AppealDetailOut, **TRANSITION_ERRORS},
                       summary=summary, description=description)


@_transition("dispatch", "Dispatch (派单)",
             "The first receiver's staff send a submitted appeal to one handling unit: a node of its community or its "
             "subdistrict, a department or partner unit serving it, or the routing table's suggestion (anywhere else "
             "is refused with 422).")
def appeal_dispatch(request, appeal_id: Id, payload: DispatchIn):
    def run(appeal):
        actions.appeal_dispatch(appeal=appeal, by=request.auth, note=payload.note,
                                **_dispatch_target(request.auth, appeal, payload))

    return _act(request, appeal_id, run)


@_transition("accept", "Accept (签收)", "The handling unit takes it; of two at once, one wins and the other gets 409.")
def appeal_accept(request, appeal_id: Id, payload: NoteIn):
    return _act(request, appeal_id, lambda a: actions.appeal_accept(appeal=a, by=request.auth, note=payload.note))


@_transition("return", "Return (退单)", "The handling unit sends it back to the first receiver, with a reason.")
def appeal_return(request, appeal_id: Id, payload: ReasonIn):
    return _act(request, appeal_id, lambda a: actions.appeal_return(appeal=a, by=request.auth, reason=payload.reason))


@_transition("resolve", "Resolve (办结)", "The handling unit says what was done.")
def appeal_resolve(request, appeal_id: Id, payload: ResolveIn):
    return _act(request, appeal_id, lambda a: actions.appeal_resolve(appeal=a, by=request.auth, result=payload.result))


@_transition("verify", "Verify (核查)", "The first receiver's staff check the work; ok=false sends it back.")
def appeal_verify(request, appeal_id: Id, payload: VerifyIn):
    return _act(request, appeal_id,
                lambda a: actions.appeal_verify(appeal=a, by=request.auth, ok=payload.ok, note=payload.note))


@_transition("close", "Close (结案)",
             "The first receiver's staff close a verified appeal once the resident has rated it or a callback (回访) "
             "is recorded, or when the wait for a rating is over (409 until then, saying until when).")
def appeal_close(request, appeal_id: Id, payload: NoteIn):
    return _act(request, appeal_id, lambda a: actions.appeal_close(appeal=a, by=request.auth, note=payload.note))


@_transition("rate", "Rate (评价) or record a callback (回访)",
             "The resident rates once it is resolved; staff record a phone callback with callback=true. "
             "Unsatisfied reopens it when the category's policy says so.")
def appeal_rate(request, appeal_id: Id, payload: RateIn):
    return _act(request, appeal_id, lambda a: actions.appeal_rate(
        appeal=a, by=request.auth, resolved=payload.resolved, satisfaction=payload.satisfaction,
        comment=payload.comment, callback=payload.callback))


@_transition("reopen", "Reopen (重办)", "Back to the same handler with a fresh resolution deadline.")
def appeal_reopen(request, appeal_id: Id, payload: ReopenIn):
    return _act(request, appeal_id, lambda a: actions.appeal_reopen(appeal=a, by=request.auth, reason=payload.reason))


@_transition("extension", "Ask for more time (延期申请)", "The handling unit asks; the first receiver's staff decide.")
def appeal_extension(request, appeal_id: Id, payload: ExtensionIn):
    return _act(request, appeal_id, lambda a: actions.extension_request(
        appeal=a, by=request.auth, days=payload.days, reason=payload.reason))


def _pending(appeal: Appeal, kind: str) -> AppealRequest:
    request = appeal.requests.filter(kind=kind, state=AppealRequest.State.PENDING).first()
    if request is None:
        raise TransitionError(_("No request of this kind is waiting for a decision."))
    return request


@_transition("extension/decide", "Decide on more time",
             "The first receiver's staff or a supervisor (not the one who asked) approve or reject the pending "
             "extension request; approving needs the appeal still being handled.")
def appeal_extension_decide(request, appeal_id: Id, payload: DecideIn):
    return _act(request, appeal_id, lambda a: actions.extension_decide(
        request=_pending(a, AppealRequest.Kind.EXTENSION), by=request.auth, approve=payload.approve,
        note=payload.note))


@_transition("void", "Ask to void (作废申请)", "The first receiver's or handler's staff ask; a supervisor decides.")
def appeal_void(request, appeal_id: Id, payload: ReasonIn):
    return _act(request, appeal_id, lambda a: actions.void_request(appeal=a, by=request.auth, reason=payload.reason))


@_transition("void/decide", "Decide on voiding",
             "A supervisor (not the one who asked) approves or rejects the pending void request; approving needs the "
             "appeal still open.")
def appeal_void_decide(request, appeal_id: Id, payload: DecideIn):
    return _act(request, appeal_id, lambda a: actions.void_decide(
        request=_pending(a, AppealRequest.Kind.VOID), by=request.auth, approve=payload.approve, note=payload.note))


@_transition("supervise", "Supervise (督办)", "Subdistrict or county staff press the handler.")
def appeal_supervise(request, appeal_id: Id, payload: SuperviseIn):
    return _act(request, appeal_id, lambda a: actions.appeal_supervise(appeal=a, by=request.auth, note=payload.note))


@_transition("merge", "Merge a duplicate (合并)", "This appeal joins the main one; its reporters follow the main one.")
def appeal_merge(request, appeal_id: Id, payload: MergeIn):
    def run(appeal):
        into = selectors.appeal_get(request.auth, payload.into_id)
        actions.appeal_merge(appeal=appeal, into=into, by=request.auth, note=payload.note)

    return _act(request, appeal_id, run)
