"""Reads of import jobs: those a user may see, and those the clean-up looks after."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.http import Http404

from gongzhi.core.access import Role
from gongzhi.core.models import ImportJob
from gongzhi.core.scoping import under

UNFINISHED = (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)


def jobs(user):
    """Import jobs the user may see: their own, and under their county-administrator nodes."""
    if user is None or not user.is_authenticated:
        return ImportJob.objects.none()
    q = Q(created_by=user)
    for a in user.active_assignments:
        if a.role == Role.COUNTY_ADMIN:
            q |= under(a.org_path)
    return ImportJob.objects.filter(q).select_related("created_by", "node")


def job_get(user, pk) -> ImportJob:
    """One job the user may see; Http404 for a missing one and for one they may not see alike."""
    try:
        return jobs(user).get(pk=pk)
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise Http404("not found") from None


def stale_jobs(before: dt.datetime):
    """Jobs uploaded before ``before`` that never finished: their worker stopped, or none ran them."""
    return ImportJob.objects.filter(status__in=UNFINISHED, created_at__lt=before)


def finished_with_upload():
    """Finished jobs whose uploaded file is still stored."""
    return ImportJob.objects.exclude(status__in=UNFINISHED).exclude(file="")


def cleanup_due(now: dt.datetime) -> bool:
    """Is there a job unfinished for ``IMPORT_STALE_HOURS``, or a finished one still holding its upload?
    (The periodic scheduler's test for the clean-up.)"""
    before = now - dt.timedelta(hours=settings.IMPORT_STALE_HOURS)
    return stale_jobs(before).exists() or finished_with_upload().exists()


def upload_names() -> set[str]:
    """Stored names of every upload a job still holds."""
    return set(ImportJob.objects.exclude(file="").values_list("file", flat=True))
