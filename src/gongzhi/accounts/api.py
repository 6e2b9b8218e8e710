"""Token endpoints: obtain a bearer token with a password, list your tokens, revoke one."""

import math

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from gongzhi.core.api import Id, Page, errors

from . import actions
from .backends import LockedOut, check_password_with_lockout
from .models import ApiToken
from .schemas import LockedOutError, TokenCreatedOut, TokenObtainIn, TokenOut

router = Router(tags=["auth"])


@router.post(
    "/token", auth=None, response={201: TokenCreatedOut, **errors(400, 401, 422), 429: LockedOutError},
    summary="Obtain a bearer token",
)
def token_obtain(request, payload: TokenObtainIn, response: HttpResponse):
    """Exchange a username and password for a token. Repeated wrong passwords lock the account for a while (429)."""
    try:
        user = check_password_with_lockout(payload.username, payload.password)
    except LockedOut as exc:
        wait = max(1, math.ceil((exc.until - timezone.now()).total_seconds()))
        response["Retry-After"] = str(wait)
        until = timezone.localtime(exc.until)
        return Status(429, {
            "detail": _("Too many failed logins: this account is locked until %(time)s.")
            % {"time": until.strftime("%Y-%m-%d %H:%M")},
            "locked_until": until,
        })
    if user is None:
        return Status(401, {"detail": _("Wrong username or password.")})
    token, raw = actions.token_create(user=user, name=payload.name or "API")
    return Status(201, {"token": raw, "id": token.pk, "name": token.name, "prefix": token.prefix})


@router.get("/tokens", response={200: list[TokenOut], **errors(401, 422)}, summary="List your tokens")
@paginate(Page)
def token_list(request):
    """Your own tokens, newest first, active and revoked; never the secret."""
    return ApiToken.objects.filter(user=request.auth).order_by("-created_at", "-id")


@router.delete("/tokens/{token_id}", response={204: None, **errors(401, 403, 404, 422)}, summary="Revoke a token")
def token_revoke(request, token_id: Id):
    """Revoke one of your tokens; it answers 401 from then on. Someone else's token id answers 404."""
    token = ApiToken.objects.filter(user=request.auth, pk=token_id).first()
    if token is None:
        raise Http404
    actions.token_revoke(token=token, by=request.auth)
    return Status(204, None)
