"""Party members at work: dual registration (双报到) by the member, confirmed by the community's party organisation
with an assignment to a micro-grid (下沉), or declined with the reason. Atomic and audited."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import audit
from gongzhi.core.access import SYSTEM
from gongzhi.orgs.models import NodeKind, OrgNode, PartyMember
from gongzhi.orgs.permissions import Perm as OrgPerm

from .. import policies
from ..models import DualRegistration, DualStatus
from ..policies import StepRefused
from .common import text, who


@transaction.atomic
def dual_register(*, by, member: PartyMember, skills: str = "", availability: str = "",
                  community: OrgNode | None = None) -> DualRegistration:
    """The member reports to the community where they live (or another they name), saying what they can do."""
    if by is not SYSTEM and member.resident.user_id != getattr(by, "pk", None):
        raise PermissionDenied(_("Party members report for themselves."))
    community = community or policies.community_of_path(member.resident.org_path)
    if community is None or community.kind != NodeKind.COMMUNITY:
        raise ValidationError({"community": _("Report to a community.")})
    if DualRegistration.objects.filter(member=member, status__in=[DualStatus.PENDING, DualStatus.CONFIRMED]).exists():
        raise StepRefused(_("You have reported to a community already."))
    try:
        with transaction.atomic():
            registration = DualRegistration.objects.create(
                member=member, community=community, org_path=community.path, requested_at=timezone.now(),
                skills=text(skills, "skills", most=200), availability=text(availability, "availability", most=100),
            )
    except IntegrityError:  # the same member twice at once
        raise StepRefused(_("You have reported to a community already.")) from None
    audit.record(actor=who(by), action="dual.register", obj=registration,
                 changes={"community": community.name, "skills": registration.skills})
    return registration


def _decide(registration: DualRegistration, by) -> DualRegistration:
    registration = DualRegistration.objects.select_for_update().select_related("member", "community").get(
        pk=registration.pk)
    if not (by is SYSTEM or getattr(by, "is_authenticated", False) and by.can(OrgPerm.PARTY_EDIT, registration.org_path)):
        raise PermissionDenied(_("The community's party organisation decides on reports to it."))
    if registration.status != DualStatus.PENDING:
        raise StepRefused(_("This report was decided already."))
    return registration


@transaction.atomic
def dual_confirm(*, by, registration: DualRegistration, micro_grid: OrgNode) -> DualRegistration:
    """Confirm and assign to a micro-grid (or grid) of the community (下沉)."""
    registration = _decide(registration, by)
    if not micro_grid.path.startswith(registration.community.path) or micro_grid.kind not in (
            NodeKind.GRID, NodeKind.MICRO_GRID):
        raise ValidationError({"micro_grid": _("Assign a grid or micro-grid of the community.")})
    now = timezone.now()
    registration.status, registration.decided_at, registration.decided_by = DualStatus.CONFIRMED, now, who(by)
    registration.micro_grid = micro_grid
    registration.save(update_fields=["status", "decided_at", "decided_by", "micro_grid"])
    PartyMember.objects.filter(pk=registration.member_id).update(
        dual_registered=True, dual_registered_on=timezone.localdate(now), assigned_node=micro_grid,
        org_path=micro_grid.path)
    audit.record(actor=who(by), action="dual.confirm", obj=registration, changes={"micro_grid": micro_grid.name})
    return registration


@transaction.atomic
def dual_decline(*, by, registration: DualRegistration, reason: str) -> DualRegistration:
    reason = text(reason, "reason", required=True, most=200)
    registration = _decide(registration, by)
    registration.status, registration.decided_at, registration.decided_by = DualStatus.DECLINED, timezone.now(), who(by)
    registration.decline_reason = reason
    registration.save(update_fields=["status", "decided_at", "decided_by", "decline_reason"])
    audit.record(actor=who(by), action="dual.decline", obj=registration, reason=reason)
    return registration
