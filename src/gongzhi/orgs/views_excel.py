"""Excel pages: import template, upload (queued for the task worker), job progress and error report, registry
export. Thin: the work is in ``orgs.imports`` and ``orgs.exports``."""

from __future__ import annotations

import os

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from gongzhi.orgs.permissions import Perm
from gongzhi.core.excel import XLSX_CONTENT_TYPE
from gongzhi.core.models import ImportJob
from gongzhi.core.scoping import get_scoped, scoped
from gongzhi.core.text import LineField

from . import exports, imports
from .models import NodeKind, OrgNode

_LEVELS = [NodeKind.COUNTY, NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.GRID]


def _node_choices(user, perm: str) -> list[tuple[int, str]]:
    """Nodes (county down to grid) where the user holds ``perm``, indented by depth for a select."""
    nodes = scoped(OrgNode.objects.filter(kind__in=_LEVELS), user, perm, field="path").order_by("path")
    nodes = list(nodes.values("id", "name", "kind", "depth"))
    top = min((n["depth"] for n in nodes), default=1)
    return [(n["id"], "\u3000" * (n["depth"] - top) + f"{n['name']} · {NodeKind(n['kind']).label}") for n in nodes]


class UploadForm(forms.Form):
    node = forms.IntegerField(label=gettext_lazy("Import into"), widget=forms.Select)
    file = forms.FileField(label=gettext_lazy("Excel file (.xlsx)"), widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}))
    mode = forms.ChoiceField(label=gettext_lazy("Mode"), choices=ImportJob.Mode.choices, initial=ImportJob.Mode.ALL_OR_NOTHING,
                             widget=forms.RadioSelect)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].widget.choices = _node_choices(user, Perm.REGISTRY_EDIT)


class ExportForm(forms.Form):
    node = forms.IntegerField(label=gettext_lazy("Area"), widget=forms.Select)
    reveal = forms.BooleanField(label=gettext_lazy("Include full ID numbers and phones"), required=False)
    reason = LineField(label=gettext_lazy("Reason"), required=False, max_length=200,
                             help_text=gettext_lazy("Required for full ID numbers and phones; it is recorded."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].widget.choices = _node_choices(user, Perm.REGISTRY_EXPORT)


def _page(request, upload_form=None, export_form=None, status=200):
    user = request.user
    can_import, can_export = user.can(Perm.REGISTRY_EDIT), user.can(Perm.REGISTRY_EXPORT)
    if not (can_import or can_export):
        raise PermissionDenied
    return render(request, "orgs/excel/index.html", {
        "can_import": can_import,
        "can_export": can_export,
        "upload_form": upload_form or (UploadForm(user=user) if can_import else None),
        "export_form": export_form or (ExportForm(user=user) if can_export else None),
        "jobs": imports.jobs(user).filter(created_by=user)[:10],
        "limits": imports.upload_limits(),
        "max_mb": f"{settings.IMPORT_MAX_BYTES / 2**20:g}",
    }, status=status)


@login_required
@require_GET
def index(request):
    return _page(request)


@login_required
@require_GET
def template(request):
    if not request.user.can(Perm.REGISTRY_EDIT):
        raise PermissionDenied
    response = HttpResponse(imports.template_bytes(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, "居民导入模板.xlsx")
    return response


@login_required
@require_POST
def upload(request):
    if not request.user.can(Perm.REGISTRY_EDIT):
        raise PermissionDenied
    form = UploadForm(request.POST, request.FILES, user=request.user)
    if not form.is_valid():
        return _page(request, upload_form=form, status=400)
    node = get_scoped(OrgNode.objects.all(), request.user, Perm.REGISTRY_EDIT, field="path", pk=form.cleaned_data["node"])
    try:
        job = imports.import_start(by=request.user, node=node, upload=form.cleaned_data["file"],
                                   mode=form.cleaned_data["mode"], language=get_language())
    except ValidationError as exc:  # over a limit, or not a workbook: said on the form, nothing stored
        form.add_error("file", exc)
        return _page(request, upload_form=form, status=400)
    return redirect("excel:job", pk=job.pk)


@login_required
@require_GET
def job(request, pk: int):
    return render(request, "orgs/excel/job.html", {"job": imports.job_get(request.user, pk)})


@login_required
@require_GET
def job_progress(request, pk: int):
    return render(request, "orgs/excel/_job_progress.html", {"job": imports.job_get(request.user, pk)})


@login_required
@require_GET
def job_errors(request, pk: int):
    job = imports.job_get(request.user, pk)
    if not job.error_report:
        raise Http404("not found")
    return FileResponse(job.error_report.open("rb"), as_attachment=True, content_type=XLSX_CONTENT_TYPE,
                        filename=f"导入错误-{job.pk}.xlsx")


@login_required
@require_POST
def export(request):
    if not request.user.can(Perm.REGISTRY_EXPORT):
        raise PermissionDenied
    form = ExportForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, export_form=form, status=400)
    node = get_scoped(OrgNode.objects.all(), request.user, Perm.REGISTRY_EXPORT, field="path", pk=form.cleaned_data["node"])
    try:
        path, _count, filename = exports.registry_export(
            by=request.user, node=node, reveal=form.cleaned_data["reveal"], reason=form.cleaned_data["reason"]
        )
    except (PermissionDenied, ValidationError) as exc:
        form.add_error("reveal" if isinstance(exc, PermissionDenied) else "reason",
                       exc.messages[0] if isinstance(exc, ValidationError) else str(exc))
        return _page(request, export_form=form, status=400)
    handle = open(path, "rb")
    os.unlink(path)  # the open handle keeps the data until the response is sent
    response = FileResponse(handle, as_attachment=True, content_type=XLSX_CONTENT_TYPE, filename=filename)
    response["Cache-Control"] = "no-store"
    return response
