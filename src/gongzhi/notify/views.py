"""Notice pages (my notices, open, mark read) and the group-robot admin pages (list, add, edit, test)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.appeals.permissions import Perm

from . import actions, selectors
from . import messages as messages_text
from .forms import WebhookForm
from .models import Delivery

PAGE_SIZE = 30
RECENT_DELIVERIES = 20


@login_required
def notice_list(request):
    qs = selectors.notices(request.user).order_by(F("read_at").asc(nulls_first=True), "-created_at", "-id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for notice in page:
        notice.shown = messages_text.notice_shown(notice)  # in the reader's language
    return render(request, "notify/notices.html", {
        "page": page, "unread": selectors.unread_count(request.user),
        "can_robots": request.user.can(Perm.APPEALS_ADMIN),
    })


def badge(request):
    """The nav's unread count, fetched by htmx after the page loads (and every minute), so pages keep
    their own query counts and a new notice shows without a reload."""
    count = selectors.unread_count(request.user)
    html = format_html('<span class="badge" title="{}">{}</span>', _("Unread notices"), count) if count else ""
    response = HttpResponse(html)
    response["Cache-Control"] = "no-store"
    return response


@login_required
def notice_open(request, pk):
    """Follow a notice's link; opening it marks it read."""
    notice = selectors.notice_get(request.user, pk)
    actions.notice_read(user=request.user, notice=notice)
    if notice.url and url_has_allowed_host_and_scheme(notice.url, allowed_hosts={request.get_host()}):
        return redirect(notice.url)
    return redirect("notify:list")


@login_required
@require_POST
def notice_read(request, pk):
    actions.notice_read(user=request.user, notice=selectors.notice_get(request.user, pk))
    return redirect("notify:list")


@login_required
@require_POST
def notice_read_all(request):
    actions.notices_read_all(user=request.user)
    return redirect("notify:list")


# --- group robots -------------------------------------------------------------------------------


def _need_admin(user):
    if not user.can(Perm.APPEALS_ADMIN):
        raise PermissionDenied


@login_required
def webhook_list(request):
    _need_admin(request.user)
    return render(request, "notify/webhooks.html", {"endpoints": selectors.endpoints(request.user)})


def _save(request, form, endpoint=None):
    data = form.cleaned_data
    try:
        return actions.endpoint_save(
            by=request.user, endpoint=endpoint, name=data["name"], kind=data["kind"], url=data["url"],
            secret=data["secret"], clear_secret=data.get("clear_secret", False), node=data["node"],
            unit=data["unit"], on_dispatch=data["on_dispatch"], on_due_soon=data["on_due_soon"],
            on_overdue=data["on_overdue"], on_supervise=data["on_supervise"], is_active=data["is_active"],
        )
    except (ValidationError, PermissionDenied) as exc:
        form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc) or _("Not allowed."))
        return None


@login_required
def webhook_new(request):
    _need_admin(request.user)
    form = WebhookForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        endpoint = _save(request, form)
        if endpoint is not None:
            messages.success(request, _("Robot “%(name)s” added. Send a test message to check it.") % {"name": endpoint.name})
            return redirect("notify:webhook", pk=endpoint.pk)
    return render(request, "notify/webhook_form.html", {"form": form, "endpoint": None})


@login_required
def webhook_edit(request, pk):
    _need_admin(request.user)
    endpoint = selectors.endpoint_get(request.user, pk)
    form = WebhookForm(request.POST or None, user=request.user, endpoint=endpoint)
    if request.method == "POST" and form.is_valid():
        if _save(request, form, endpoint) is not None:
            messages.success(request, _("Saved."))
            return redirect("notify:webhook", pk=endpoint.pk)
    deliveries = Delivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-id")[:RECENT_DELIVERIES]
    return render(request, "notify/webhook_form.html", {"form": form, "endpoint": endpoint, "deliveries": deliveries})


@login_required
@require_POST
def webhook_test(request, pk):
    _need_admin(request.user)
    endpoint = selectors.endpoint_get(request.user, pk)
    delivery = actions.endpoint_test(endpoint=endpoint, by=request.user)
    if delivery.status == Delivery.Status.SENT:
        messages.success(request, _("Test message sent: the robot accepted it."))
    else:
        messages.error(request, _("The test message failed: %(error)s") % {"error": delivery.last_error})
    return redirect("notify:webhook", pk=endpoint.pk)
