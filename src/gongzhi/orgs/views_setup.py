"""The county set-up pages: pick the county from the division codes (province, city, county as cascading
selects), the places workbook (template and upload, run on the task worker), and the checklist. Thin: the
work is in ``orgs.setup``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from gongzhi.core import pages
from gongzhi.core.excel import XLSX_CONTENT_TYPE
from gongzhi.core.scoping import get_scoped, scoped

from . import imports
from .models import NodeKind, OrgNode
from .permissions import Perm
from .setup import actions, checklist, divisions, policies, selectors
from .setup.template import SHEETS, template_bytes

_LEVELS = [NodeKind.COUNTY, NodeKind.SUBDISTRICT, NodeKind.COMMUNITY]


def _import_nodes(user) -> list[tuple[int, str]]:
    """Nodes (county down to community) under which the user may import places, indented by depth."""
    qs = OrgNode.objects.filter(kind__in=_LEVELS)
    tree = scoped(qs, user, Perm.TREE_EDIT, field="path")
    places = scoped(qs, user, Perm.PLACES_EDIT, field="path")
    nodes = list((tree | places).distinct().order_by("path").values("id", "name", "kind", "depth"))
    top = min((n["depth"] for n in nodes), default=1)
    return [(n["id"], "\u3000" * (n["depth"] - top) + f"{n['name']} · {NodeKind(n['kind']).label}") for n in nodes]


class PlacesUploadForm(forms.Form):
    node = forms.IntegerField(label=gettext_lazy("Import into"), widget=forms.Select, min_value=1, max_value=pages.MAX_INT)
    file = forms.FileField(label=gettext_lazy("Places workbook (.xlsx)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].widget.choices = _import_nodes(user)


def _code(request, param: str, digits: int) -> str:
    """A division code from the query string: ``digits`` digits, or '' when absent; anything else is a 400."""
    value = request.GET.get(param, request.POST.get(param, "")).strip()
    if value and not (value.isdigit() and len(value) == digits):
        raise ValueError(param)
    return value


def _need_setup(user) -> None:
    if not policies.manages_setup(user):
        raise PermissionDenied


def _cascade(province: str, city: str, county: str, node: OrgNode | None) -> dict:
    """The province, city and county selects (each later one only when the one before is picked, and only with
    its children) and, once a county is picked, its townships and which are there already."""
    if not divisions.province(province):
        province = ""
    if not province or not city.startswith(province) or not divisions.city(city):
        city = ""
    if not city or not county.startswith(city) or not divisions.county(county):
        county = ""
    return {
        "key": node.pk if node is not None else "new", "node": node, "code": county,
        "province_options": _options(divisions.provinces(), province, _("Province")),
        "city_options": _options(divisions.cities(province) if province else [], city, _("City")),
        "county_options": _options(divisions.counties(city) if city else [], county, _("County")),
        "label": divisions.county_label(county),
        "plan": selectors.township_plan(county, node) if county else [],
    }


def _plan_counts(plan: list[dict]) -> dict:
    return {state: sum(1 for t in plan if t["state"] == state) for state in ("new", "coded", "present")}


def _county_forms(user) -> list[dict]:
    """What the county part offers: each county the user completes (its code's province, city and county
    picked when it has one), then a blank pick for a superuser starting a county."""
    out = []
    for node in selectors.setup_counties(user):
        code = node.code if divisions.county(node.code) else ""
        out.append(_cascade(code[:2], code[:4], code, node))
    if policies.may_start_county(user):
        out.append(_cascade("", "", "", None))
    for c in out:
        c["counts"] = _plan_counts(c["plan"])
    return out


def _options(items, selected: str, blank: str) -> str:
    return pages.options_html([("", blank), *((d.code, d.name) for d in items)], selected)


@login_required
@require_GET
def index(request):
    user = request.user
    manages, may_import = policies.manages_setup(user), policies.may_import_places(user)
    if not (manages or may_import):
        raise PermissionDenied
    return _page(request)


def _page(request, upload_form=None, status=200):
    user = request.user
    manages = policies.manages_setup(user)
    counties = _county_forms(user) if manages else []
    context = {
        "manages": manages,
        "counties": counties,
        "checklists": [checklist.checklist(user, c["node"]) for c in counties if c["node"] is not None],
        "may_import": policies.may_import_places(user),
        "upload_form": upload_form or (PlacesUploadForm(user=user) if policies.may_import_places(user) else None),
        "sheets": SHEETS,
        "jobs": imports.jobs(user).filter(created_by=user, kind=actions.PLACES_JOB)[:10],
        "can_registry": user.can(Perm.REGISTRY_EDIT),
    }
    return render(request, "orgs/setup/index.html", context, status=status)


def _node_param(request) -> OrgNode | None:
    """The county node a form or preview is about (one the user completes), None for a new county; 404 for
    any other."""
    value = request.GET.get("node", request.POST.get("node", "")).strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise Http404("not found")
    node = get_scoped(OrgNode.objects.filter(kind=NodeKind.COUNTY), request.user, Perm.TREE_EDIT, field="path",
                      pk=int(value))
    return node


@login_required
@require_GET
def cascade(request):
    """The county pick again after a select changed (htmx): the next select's options, the townships."""
    _need_setup(request.user)
    try:
        province, city, county = _code(request, "province", 2), _code(request, "city", 4), _code(request, "county", 6)
    except ValueError:
        return HttpResponseBadRequest("bad division code")
    node = _node_param(request)
    c = _cascade(province, city, county, node)
    c["counts"] = _plan_counts(c["plan"])
    return render(request, "orgs/setup/_cascade.html", {"c": c})


@login_required
@require_POST
def county(request):
    user = request.user
    _need_setup(user)
    node = _node_param(request)
    try:
        code = _code(request, "county", 6)
    except ValueError:
        code = request.POST.get("county", "")[:20]
    try:
        result = actions.county_setup(code=code, node=node, by=user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, exc.messages[0] if isinstance(exc, ValidationError) else str(exc))
        return redirect("setup:index")
    messages.success(request, _(
        "%(county)s (%(code)s) is set up: %(created)s townships and subdistricts added, %(coded)s given their "
        "code, %(unchanged)s already there.") % {"county": result.node.name, "code": result.node.code,
                                                 "created": result.created, "coded": result.coded,
                                                 "unchanged": result.unchanged})
    return redirect("setup:index")


@login_required
@require_GET
def template(request):
    if not policies.may_import_places(request.user):
        raise PermissionDenied
    response = HttpResponse(template_bytes(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, "地点导入模板.xlsx")
    return response


@login_required
@require_POST
def upload(request):
    user = request.user
    if not policies.may_import_places(user):
        raise PermissionDenied
    form = PlacesUploadForm(request.POST, request.FILES, user=user)
    if not form.is_valid():
        return _page(request, upload_form=form, status=400)
    qs = OrgNode.objects.filter(kind__in=_LEVELS)
    node = (scoped(qs, user, Perm.TREE_EDIT, field="path") | scoped(qs, user, Perm.PLACES_EDIT, field="path")).filter(
        pk=form.cleaned_data["node"]).first()
    if node is None:
        raise Http404("not found")
    try:
        job = actions.places_import_start(by=user, node=node, upload=form.cleaned_data["file"], language=get_language())
    except ValidationError as exc:
        form.add_error("file", exc)
        return _page(request, upload_form=form, status=400)
    return redirect("excel:job", pk=job.pk)


@login_required
@require_GET
def checklist_part(request, pk: int):
    """The checklist of one county, for its node page (loaded by htmx)."""
    node = get_scoped(OrgNode.objects.filter(kind=NodeKind.COUNTY), request.user, Perm.TREE_EDIT, field="path", pk=pk)
    return render(request, "orgs/setup/_checklist.html", {"checklist": checklist.checklist(request.user, node)})

