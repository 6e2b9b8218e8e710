"""Service-order pages: the staff list, an order's page with dispatching, the service list; on the phone,
ordering a service, and the orders one takes or ordered."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.accounts.models import User
from gongzhi.core import pages
from gongzhi.orgs import selectors as org_selectors
from gongzhi.orgs.models import NodeKind, Resident

from .. import actions, policies, selectors
from ..forms import OrderForm, OrderStepForm, ServiceItemForm
from ..models import OrderStatus, ServiceItem
from ..permissions import Perm

PAGE_SIZE = 30


@login_required
def order_list(request):
    user = request.user
    pages.need(user, Perm.ORDERS_VIEW)
    status = request.GET.get("status", "")
    qs = selectors.area_orders(user).order_by("-ordered_at", "-id")
    if status in OrderStatus.values:
        qs = qs.filter(status=status)
    return render(request, "participation/order_list.html", {
        "page": pages.offset_page(request, qs, PAGE_SIZE), "statuses": OrderStatus.choices, "status": status,
    })


@login_required
def order_detail(request, pk):
    user = request.user
    order = selectors.order_get(user, pk)
    steps = policies.order_steps(user, order)
    template = "participation/order.html" if user.can(Perm.ORDERS_VIEW) else "participation/m/order.html"
    return render(request, template, {
        "order": order, "whole": policies.order_sees_whole(user, order), "steps": steps,
        "takers": selectors.takers(order.community) if "dispatch" in steps else [],
        "events": order.events.all() if policies.order_sees_whole(user, order) else [],
    })


def _run(step, order, by, data):
    if step == "dispatch":
        to = User.objects.filter(pk=data["to"], is_active=True).first() if data["to"] else None
        return actions.order_dispatch(order=order, by=by, to=to)
    if step == "open":
        return actions.order_open(order=order, by=by)
    if step == "take":
        return actions.order_take(order=order, by=by)
    if step == "complete":
        if data["hours"] is None:
            raise ValidationError(_("Give the hours spent."))
        return actions.order_complete(order=order, by=by, evidence=data["evidence"], hours=data["hours"])
    if step == "rate":
        if data["satisfied"] is None:
            raise ValidationError(_("Say whether you are satisfied."))
        return actions.order_rate(order=order, by=by, satisfied=data["satisfied"], comment=data["comment"])
    if step == "cancel":
        return actions.order_cancel(order=order, by=by, reason=data["comment"])
    raise Http404("not found")


DONE = {
    "dispatch": _("Dispatched."), "open": _("Open for the community's party members to take."),
    "take": _("You took this order. Thank you!"), "complete": _("Done: the resident is asked to rate it."),
    "rate": _("Thank you for your rating."), "cancel": _("Cancelled."),
}


@login_required
@require_POST
def order_step(request, pk, step):
    user = request.user
    order = selectors.order_get(user, pk)
    form = OrderStepForm(request.POST)
    if form.is_valid():
        try:
            _run(step, order, user, form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, str(DONE[step]))
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    if request.POST.get("back") == "m":
        return redirect("participation:m_home")
    return redirect("participation:order", pk)


@login_required
def service_list(request):
    """The service lists of the communities in the user's area; staff who edit them add items here."""
    user = request.user
    pages.need(user, Perm.SERVICES_EDIT)
    communities = [n for n in org_selectors.nodes(user).filter(kind=NodeKind.COMMUNITY).order_by("path")[:200]]
    picked = request.GET.get("community") or request.POST.get("community")
    community = next((c for c in communities if str(c.pk) == picked), communities[0] if communities else None)
    form = ServiceItemForm(request.POST or None)
    if request.method == "POST" and community is not None and form.is_valid():
        try:
            actions.service_item_save(by=user, community=community, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            pages.form_errors(form, exc)
        else:
            messages.success(request, _("Added to the service list."))
            return redirect(f"{request.path}?community={community.pk}")
    items = ServiceItem.objects.filter(community=community).order_by("sort_order", "id") if community else []
    return render(request, "participation/services.html", {
        "communities": communities, "community": community, "items": items, "form": form,
    })


@login_required
def m_order_new(request):
    """A resident orders a service on the phone (群众点单)."""
    user = request.user
    resident = Resident.objects.filter(user=user).select_related("household").first()
    if resident is None:
        raise PermissionDenied(_("Your account is not linked to a resident: ask your grid worker."))
    community = policies.community_of_path(resident.org_path)
    items = list(selectors.service_list(community)) if community else []
    form = OrderForm(request.POST or None, items=items)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        item = next(i for i in items if i.pk == data["item"])
        try:
            actions.order_place(by=user, resident=resident, item=item, window_start=data["window_start"],
                                window_end=data["window_end"], note=data["note"])
        except (ValidationError, PermissionDenied) as exc:
            pages.form_errors(form, exc)
        else:
            messages.success(request, _("Your order was sent; the party branch will dispatch it."))
            return redirect("participation:m_home")
    return render(request, "participation/m/order_new.html", {"form": form, "items": items})
