"""Party members at work: the member reports to their community (双报到) from the phone page; the community's
party organisation confirms and assigns a micro-grid (下沉), or declines."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import pages
from gongzhi.core.scoping import get_scoped, scoped
from gongzhi.orgs.models import NodeKind, OrgNode
from gongzhi.orgs.permissions import Perm as OrgPerm

from .. import actions, selectors
from ..models import DualRegistration, DualStatus


def _errors(request, exc):
    messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))


@login_required
@require_POST
def dual_register(request):
    member = selectors.my_membership(request.user)
    if member is None:
        raise PermissionDenied(_("No party membership is registered for your account."))
    try:
        actions.dual_register(by=request.user, member=member, skills=request.POST.get("skills", ""),
                              availability=request.POST.get("availability", ""))
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("You reported to your community; its party organisation will confirm."))
    return redirect("participation:m_home")


@login_required
def dual_list(request):
    """Reports waiting in the user's area, with the grids and micro-grids each may be assigned to."""
    user = request.user
    pages.need(user, OrgPerm.PARTY_EDIT)
    qs = scoped(DualRegistration.objects.select_related("member__resident", "community", "micro_grid"), user,
                OrgPerm.PARTY_EDIT)
    pending = list(qs.filter(status=DualStatus.PENDING).order_by("requested_at", "id")[:200])
    cells = {}
    for reg in pending:
        if reg.community_id not in cells:
            cells[reg.community_id] = list(OrgNode.objects.filter(
                path__startswith=reg.community.path, kind__in=[NodeKind.GRID, NodeKind.MICRO_GRID]).order_by("path"))
        reg.cells = cells[reg.community_id]
    return render(request, "participation/dual_list.html", {
        "pending": pending,
        "recent": qs.exclude(status=DualStatus.PENDING).order_by("-decided_at", "-id")[:30],
    })


@login_required
@require_POST
def dual_decide(request, pk, decision):
    user = request.user
    registration = get_scoped(DualRegistration.objects.select_related("community"), user, OrgPerm.PARTY_EDIT, pk=pk)
    try:
        if decision == "confirm":
            node_id = request.POST.get("micro_grid", "")
            cell = OrgNode.objects.filter(pk=int(node_id)).first() if node_id.isdigit() and len(node_id) < 19 else None
            if cell is None:
                raise ValidationError(_("Choose the grid or micro-grid the member is assigned to."))
            actions.dual_confirm(by=user, registration=registration, micro_grid=cell)
            messages.success(request, _("Confirmed and assigned."))
        else:
            actions.dual_decline(by=user, registration=registration, reason=request.POST.get("reason", ""))
            messages.success(request, _("Declined."))
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    return redirect("participation:dual")
