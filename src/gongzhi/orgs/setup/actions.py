"""The county's set-up writes: the county and its townships from the division codes, in one action,
audited and idempotent (run again, it adds what is missing and never makes a node twice)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from gongzhi.core import audit
from gongzhi.core.models import ImportJob
from gongzhi.orgs.actions import orgnode_create
from gongzhi.orgs.models import NodeKind, OrgNode
from gongzhi.orgs.imports import check_file
from gongzhi.orgs.signals import tree_started

from . import divisions, policies, selectors

PLACES_JOB = "places"  # ImportJob.kind of a places import


@dataclass(frozen=True)
class CountySetup:
    node: OrgNode
    started: bool  # a new tree
    created: int  # townships added
    coded: int  # townships that were there by name and got their code
    unchanged: int  # townships there already with their code


@transaction.atomic
def county_setup(*, code: str, by, node: OrgNode | None = None) -> CountySetup:
    """Set a county up from the division list: the county node with its 6-digit code (a new tree when
    there is none, which only a superuser starts; or ``node``, an existing county without a code or with
    this one), then its townships and subdistricts (乡/镇/街道) as its children, each with its 9-digit code
    and ``is_rural`` for 乡 and 镇. A township already there by code is left alone; one there by name
    without a code gets the code. Audited: each node made, and the set-up with its counts."""
    code = (code or "").strip()
    division = divisions.county(code) if code.isdigit() and len(code) == 6 else None
    if division is None:
        raise ValidationError(_("There is no county with the code %(code)s in the division list.") % {"code": code})
    if by is None or not getattr(by, "is_authenticated", False):
        raise PermissionDenied(_("An action needs the user who does it."))
    started = False
    if node is None:
        node = selectors.county_by_code(code)
    if node is None:
        if not policies.may_start_county(by):
            raise PermissionDenied(_("Only a superuser may start a new county; a county administrator completes "
                                     "their own county."))
        node = orgnode_create(parent=None, name=division.name, kind=NodeKind.COUNTY, code=code, by=by)
        started = True
        tree_started.send(sender=OrgNode, node=node, by=by)
    else:
        if not policies.may_set_up_county(by, node):
            raise PermissionDenied(_("You may set up only a county you administer."))
        node = OrgNode.objects.select_for_update().get(pk=node.pk)  # two set-ups at once: one after the other
        if node.code and node.code != code:
            raise ValidationError(_("%(county)s has the code %(code)s, not %(other)s.")
                                  % {"county": node.name, "code": node.code, "other": code})
        if OrgNode.objects.filter(kind=NodeKind.COUNTY, code=code).exclude(pk=node.pk).exists():
            raise ValidationError(_("Another county already has the code %(code)s.") % {"code": code})
        if not node.code:
            node.code = code
            node.save(update_fields=["code"])
    children = list(OrgNode.objects.get_children(node))
    by_code = {c.code: c for c in children if c.code}
    by_name = {c.name: c for c in children if not c.code}
    created = coded = unchanged = 0
    for town in divisions.townships(code):
        if town.code in by_code:
            unchanged += 1
            continue
        existing = by_name.pop(town.name, None)
        if existing is not None:
            existing.code, existing.is_rural = town.code, town.is_rural
            existing.save(update_fields=["code", "is_rural"])
            audit.record(actor=by, action="orgnode.code", obj=existing, changes={"code": town.code})
            coded += 1
            continue
        orgnode_create(parent=node, name=town.name, kind=NodeKind.SUBDISTRICT, code=town.code,
                       is_rural=town.is_rural, by=by)
        created += 1
    audit.record(actor=by, action="county.setup", obj=node, changes={
        "code": code, "started": started, "created": created, "coded": coded, "unchanged": unchanged})
    return CountySetup(node, started, created, coded, unchanged)


# --- the places import: started here, run by ``jobs.run_places_import`` on the task worker ---------------


def places_import_start(*, by, node: OrgNode, upload, language: str = "") -> ImportJob:
    """Check the places workbook against the upload limits, store it as a job limited to ``node`` and queue
    it for the task worker (all or nothing). Nothing is parsed here; a file over a limit or not an xlsx
    raises ValidationError naming the problem, and nothing is stored."""
    if not policies.may_import_places_at(by, node):
        raise PermissionDenied(_("You may not change records outside your area."))
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    try:
        source = upload.temporary_file_path()
    except AttributeError:
        source = upload.file if hasattr(upload, "file") else upload
    with translation.override(language):
        inspection = check_file(source)
    if hasattr(upload, "seek"):
        upload.seek(0)
    from ..tasks import import_places

    job = ImportJob(
        kind=PLACES_JOB, created_by=by, node=node, org_path=node.path, mode=ImportJob.Mode.ALL_OR_NOTHING,
        original_name=(getattr(upload, "name", "") or "")[:200], language=language,
        rows_total=max(0, inspection.rows - 2),  # less the header and the example
    )
    try:
        with transaction.atomic():
            job.file.save("upload.xlsx", upload, save=False)
            job.save()
            transaction.on_commit(lambda: import_places.enqueue(job.pk))
    except BaseException:
        if job.file:
            job.file.storage.delete(job.file.name)  # stored, but no job row holds it
        raise
    return job
