"""Token endpoints: obtain a bearer token with a password, list your tokens, revoke one."""

from django.contrib.auth import authenticate
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from gongzhi.core.api import Id, Page, errors

from .. import actions, selectors
from ..schemas import LockedOutError, TokenCreatedOut, TokenObtainIn, TokenOut

router = Router(tags=["auth"])


@router.post(
    "/token", auth=None, response={201: TokenCreatedOut, **errors(400, 401, 403, 422), 429: LockedOutError},
    summary="Obtain a bearer token", operation_id="gongzhi_accounts_api_token_obtain",
)
def token_obtain(request, payload: TokenObtainIn, response: HttpResponse):
    """Exchange a username and password for a token that works for `expires_in_days`.

    Failed logins are throttled per network address: too many wrong passwords for one account lock that
    account from that address only, and too many failures from one address (any user names) lock the address.
    A locked attempt answers 429 with `Retry-After` and is not checked at all. An account whose password was
    set by someone else (a new account, a reset) answers 403 until its owner changes it on the web."""
    chosen = actions.DEFAULT_DAYS if payload.expires_in_days is None else (payload.expires_in_days or None)  # 0: never
    if chosen is not actions.DEFAULT_DAYS:
        actions.token_expiry(chosen)  # a lifetime not offered answers 422 before any password is tried
    user = authenticate(request, username=payload.username, password=payload.password)
    lock = getattr(request, "gongzhi_lock", None)
    if lock is not None:
        response["Retry-After"] = str(lock.seconds_left)
        return Status(429, {"detail": lock.message(), "locked_until": timezone.localtime(lock.until)})
    if user is None:
        return Status(401, {"detail": _("Wrong username or password.")})
    if user.must_change_password:  # a password someone else set: its owner chooses their own on the web first
        return Status(403, {"detail": _("This account must choose a new password first: log in on the web and "
                                        "change it.")})
    token, raw = actions.token_create(user=user, name=payload.name or "API", days=chosen)
    return Status(201, {"token": raw, "id": token.pk, "name": token.name, "prefix": token.prefix,
                        "expires_at": token.expires_at})


@router.get("/tokens", response={200: list[TokenOut], **errors(401, 422)}, summary="List your tokens",
            operation_id="gongzhi_accounts_api_token_list")
@paginate(Page)
def token_list(request):
    """Your own tokens, newest first, active, expired and revoked; never the secret."""
    return selectors.own_tokens(request.auth)


@router.delete("/tokens/{token_id}", response={204: None, **errors(401, 403, 404, 422)}, summary="Revoke a token",
               operation_id="gongzhi_accounts_api_token_revoke")
def token_revoke(request, token_id: Id):
    """Revoke one of your tokens; it answers 401 from then on. Someone else's token id answers 404."""
    token = selectors.own_tokens(request.auth).filter(pk=token_id).first()
    if token is None:
        raise Http404
    actions.token_revoke(token=token, by=request.auth)
    return Status(204, None)
