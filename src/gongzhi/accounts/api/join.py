"""Joining endpoints: join codes for a household or a party member, joining (anonymous), and the join requests
waiting for the grid worker."""

from typing import Literal

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from gongzhi.core.api import LIST_ERRORS, WRITE_ERRORS, ErrorOut, Id, Page, errors
from gongzhi.orgs import selectors as orgs_selectors

from .. import selectors
from ..actions import join as actions
from ..schemas import (
    JoinApproveIn,
    JoinCodeIn,
    JoinCodeOut,
    JoinIn,
    JoinOut,
    JoinRejectIn,
    JoinRequestOut,
    PhoneCodeIn,
    PhoneCodeOut,
)

router = Router(tags=["joining"])


def _code_out(code, raw: str) -> dict:
    return {"id": code.pk, "code": actions.format_code(raw), "expires_at": code.expires_at,
            "url": settings.GONGZHI_BASE_URL + reverse("join:code", args=[raw])}


@router.post("/households/{household_id}/join-codes", response={201: JoinCodeOut, **WRITE_ERRORS},
             summary="Make a household's join code")
def household_code_create(request, household_id: Id, payload: JoinCodeIn):
    """A code (and QR link) with which the members of the household make their accounts, each once, until it
    expires. Needs `registry.edit` over the household (its grid worker, community staff)."""
    household = orgs_selectors.household_get(request.auth, household_id)
    code, raw = actions.join_code_create(by=request.auth, household=household, days=payload.days)
    return Status(201, _code_out(code, raw))


@router.post("/party-members/{member_id}/join-codes", response={201: JoinCodeOut, **WRITE_ERRORS},
             summary="Make a party member's join code")
def party_code_create(request, member_id: Id, payload: JoinCodeIn):
    """A code with which the party member makes their account, linked to their registry and party record.
    Needs `party.edit` over the member (their branch's secretary, community staff)."""
    member = orgs_selectors.party_member_get(request.auth, member_id)
    code, raw = actions.join_code_create(by=request.auth, party_member=member, days=payload.days)
    return Status(201, _code_out(code, raw))


@router.post("/join", auth=None, response={201: JoinOut, **errors(400, 422), 429: ErrorOut}, summary="Join with a code")
def join(request, payload: JoinIn, response: HttpResponse):
    """Make an account with a join code: the name and the last 4 characters of the ID number are matched to a
    member of the code's household. `active`: the account (login name: the phone) is linked and may log in.
    `pending`: a request waits for the grid worker, the same answer whatever did not match. An unknown, expired
    or used code, a weak password or a phone with an account answer 422 and nothing is written. Tries are
    limited per network address and per code: 429 with `Retry-After`."""
    try:
        joined = actions.join(request=request, code=payload.code, name=payload.name, id_last4=payload.id_last4,
                              phone=payload.phone, password=payload.password, sms_code=payload.sms_code)
    except actions.JoinRefused as refused:
        response["Retry-After"] = str(refused.lock.seconds_left)
        return Status(429, {"detail": refused.lock.message()})
    return Status(201, {"status": joined.status, "username": joined.user.username if joined.user else None})


@router.post("/join/phone-code", auth=None, response={202: PhoneCodeOut, **errors(400, 422), 429: ErrorOut},
             summary="Text a code to the phone joining")
def phone_code(request, payload: PhoneCodeIn, response: HttpResponse):
    """Where the server verifies phones, `POST /join` needs the code texted here. `delivered` is false when the
    server has no SMS provider (the message went to its log only)."""
    try:
        result = actions.phone_check_send(request=request, phone=payload.phone)
    except actions.JoinRefused as refused:
        response["Retry-After"] = str(refused.lock.seconds_left)
        return Status(429, {"detail": refused.lock.message()})
    return Status(202, {"delivered": result.delivered})


@router.get("/join-requests", response={200: list[JoinRequestOut], **LIST_ERRORS}, summary="List join requests")
@paginate(Page)
def join_request_list(request, status: Literal["pending", "approved", "rejected", "active", "all"] = "pending"):
    """Join requests in your area, newest first: `status` pending (default), approved, rejected, active (joined
    with a code that matched) or all."""
    qs = selectors.join_requests(request.auth)
    return qs if status == "all" else qs.filter(status=status)


@router.post("/join-requests/{request_id}/approve", response={200: JoinRequestOut, **WRITE_ERRORS},
             summary="Approve a join request")
def join_request_approve(request, request_id: Id, payload: JoinApproveIn):
    """Link the person asking to a registry member of your area without an account; the account is made then."""
    join_request = selectors.join_request_get(request.auth, request_id)
    resident = selectors.linkable_resident(request.auth, join_request, payload.resident_id)
    return actions.join_request_approve(join_request=join_request, resident=resident, by=request.auth)


@router.post("/join-requests/{request_id}/reject", response={200: JoinRequestOut, **WRITE_ERRORS},
             summary="Reject a join request")
def join_request_reject(request, request_id: Id, payload: JoinRejectIn):
    join_request = selectors.join_request_get(request.auth, request_id)
    return actions.join_request_reject(join_request=join_request, reason=payload.reason, by=request.auth)
