"""Login, logout, the account page (roles, password, API tokens), and the staff pages for login locks and
users' tokens."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import actions, policies, selectors
from ..forms import LockLiftForm, LoginForm, ThrottledPasswordChangeForm, TokenCreateForm
from gongzhi.orgs.permissions import Perm

TOKENS_PER_PAGE = 50


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if getattr(self.request, "gongzhi_lock", None) is not None:
            response.status_code = 429
        return response


@login_required
def me(request):
    """The user's own page: name, roles and where, password, API tokens (made here, shown once)."""
    user = request.user
    form = TokenCreateForm(request.POST or None)
    new_token = new_raw = None
    if request.method == "POST" and form.is_valid():
        new_token, new_raw = actions.token_create(user=user, name=form.cleaned_data["name"], days=form.days())
        form = TokenCreateForm()
    return render(request, "accounts/me.html", {
        "roles": selectors.role_places(user),
        "tokens": selectors.own_tokens(user),
        "form": form,
        "new_token": new_token,
        "new_raw": new_raw,
        "tokens_open": request.method == "POST" or user.can(Perm.WORKBENCH),
    })


@login_required
def password_change(request):
    """Everyone changes their own password here; an account whose password someone else set (a new account,
    a reset) is sent here by ``middleware`` until it does, and then goes on to its home page."""
    forced = request.user.must_change_password
    form = ThrottledPasswordChangeForm(request.user, request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        actions.password_change(user=request.user, new_password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your password was changed."))
        return redirect("home" if forced else "accounts:me")
    status = 429 if getattr(request, "gongzhi_lock", None) is not None else 200
    return render(request, "accounts/password_change.html", {"form": form, "forced": forced}, status=status)


@login_required
def tokens(request):
    """The tokens used to have a page of their own; they are on the account page now."""
    return redirect(reverse("accounts:me") + "#tokens")


@login_required
@require_POST
def token_revoke(request, pk: int):
    """Revoke one of your tokens, or one of a user you manage; any other id answers 404."""
    token = selectors.revocable_token(request.user, pk)
    if token is None:
        raise Http404("not found")
    actions.token_revoke(token=token, by=request.user)
    messages.success(request, _("Token revoked."))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("accounts:me") + "#tokens"
    return redirect(back)


def _need_manager(user):
    if not policies.can_manage_users(user):
        raise PermissionDenied


def _locks_page(request, lift_form=None, status=200):
    return render(request, "accounts/locks.html", {
        "account_locks": selectors.account_locks(request.user),
        "address_locks": selectors.address_locks(request.user),
        "sees_addresses": policies.can_lift_address_lock(request.user),
        "limits": selectors.throttle_limits(),
        "lift_form": lift_form,
    }, status=status)


@login_required
def locks(request):
    """Accounts locked from some address, of the users the viewer manages; whole addresses for those who
    manage a whole tree."""
    _need_manager(request.user)
    return _locks_page(request)


@login_required
@require_POST
def lock_lift(request):
    _need_manager(request.user)
    form = LockLiftForm(request.POST)
    if not form.is_valid():
        return _locks_page(request, lift_form=form, status=400)
    address, username = form.cleaned_data["address"], form.cleaned_data["username"]
    if username:
        lock = selectors.account_lock(request.user, username=username, address=address)
        if lock is None:
            raise Http404("not found")
        actions.login_lock_lift(by=request.user, user=lock["user"], address=address)
        messages.success(request, _("Lifted the lock of %(user)s from %(address)s.") % {"user": lock["user"], "address": address})
    else:
        if selectors.address_lock(request.user, address=address) is None:
            raise Http404("not found")
        actions.login_address_unlock(by=request.user, address=address)
        messages.success(request, _("Lifted the lock of the address %(address)s.") % {"address": address})
    return redirect("accounts:locks")


@login_required
def token_admin(request):
    """API tokens of the users the viewer manages, to revoke one (a lost phone, someone who left)."""
    _need_manager(request.user)
    show_all = request.GET.get("all") == "1"
    qs = selectors.managed_tokens(request.user)
    if not show_all:
        qs = selectors.working_tokens(qs)
    page = Paginator(qs, TOKENS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "accounts/token_admin.html", {"page": page, "show_all": show_all})
