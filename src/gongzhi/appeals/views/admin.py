"""Appeal settings pages: categories with their form fields, deadline policies, routing rules with a route
tester, and the working-day calendar. Writes go through ``admin_actions`` and ``core.actions``."""

from __future__ import annotations

import calendar
import datetime as dt

import chinese_calendar
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gongzhi.appeals.permissions import Perm
from gongzhi.core import pages
from gongzhi.core import actions as core_actions
from gongzhi.core import workdays
from gongzhi.core.models import CalendarDay, CalendarYear
from gongzhi.core.scoping import get_scoped, scoped
from gongzhi.orgs import selectors as org_selectors
from gongzhi.orgs.models import NodeKind, OrgNode

from .. import policies, routing
from ..actions import settings as admin_actions
from ..forms import (
    CalendarConfirmForm,
    CalendarDayForm,
    CategoryForm,
    FormFieldFormSet,
    PolicyForm,
    RouteTestForm,
    RoutingRuleForm,
    form_field_initial,
)
from ..models import Category, DeadlinePolicy, RoutingRule
from .staff import _category_tree, _node_label_map

# chinesecalendar names its holidays in English; these are the labels people read.
HOLIDAY_NAMES = {
    "New Year's Day": gettext_lazy("New Year's Day"),
    "Spring Festival": gettext_lazy("Spring Festival"),
    "Tomb-sweeping Day": gettext_lazy("Tomb-sweeping Day"),
    "Labour Day": gettext_lazy("Labour Day"),
    "Dragon Boat Festival": gettext_lazy("Dragon Boat Festival"),
    "National Day": gettext_lazy("National Day"),
    "Mid-autumn Festival": gettext_lazy("Mid-autumn Festival"),
    "Anti-Fascist 70th Day": gettext_lazy("Victory Day (70th anniversary)"),
}
RULE_NODE_KINDS = (NodeKind.COUNTY, NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.GRID)
TARGET_NODE_KINDS = (NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.GRID, NodeKind.MICRO_GRID)


def _need_admin(user):
    if not policies.can_admin(user):
        raise PermissionDenied


def _need_routing(user):
    if not user.can(Perm.APPEALS_ADMIN):
        raise PermissionDenied


def _unconfirmed_years(today: dt.date | None = None) -> list[int]:
    """This year and next whose official holidays nobody has confirmed (read fresh, not from the cache)."""
    today = today or timezone.localdate()
    years = [today.year, today.year + 1]
    confirmed = set(CalendarYear.objects.filter(year__in=years, confirmed=True).values_list("year", flat=True))
    return [y for y in years if y not in confirmed and y not in workdays.library_years()]


@login_required
def index(request):
    user = request.user
    _need_routing(user)
    context = {"is_admin": policies.can_admin(user), "unconfirmed": _unconfirmed_years()}
    if context["is_admin"]:
        context["n_categories"] = Category.objects.count()
        context["n_policies"] = DeadlinePolicy.objects.count()
    context["n_rules"] = _rules_in_scope(user).count()
    return render(request, "appeals/admin/index.html", context)


# --- categories ---------------------------------------------------------------------------------


@login_required
def categories(request):
    _need_admin(request.user)
    rows = _category_tree(list(Category.objects.select_related("policy").order_by("sort_order", "code")))
    for row in rows:
        row["policy"] = routing.policy_for(row["category"]) if row["category"].policy_id is None else None
    return render(request, "appeals/admin/categories.html", {"rows": rows})


def _category_choices(exclude: Category | None = None) -> list[tuple[int, str]]:
    rows = _category_tree(list(Category.objects.order_by("sort_order", "code")))
    if exclude is None:
        return [(r["category"].pk, r["label"]) for r in rows]
    # A category cannot go under itself or its subcategories: leave the whole branch out.
    out, skip_depth = [], None
    for r in rows:
        if skip_depth is not None and r["depth"] > skip_depth:
            continue
        skip_depth = None
        if r["category"].pk == exclude.pk:
            skip_depth = r["depth"]
            continue
        out.append((r["category"].pk, r["label"]))
    return out


@login_required
def category_edit(request, pk=None):
    user = request.user
    _need_admin(user)
    category = get_object_or_404(Category, pk=pk) if pk is not None else None
    choices = {
        "parents": _category_choices(exclude=category),
        "policies": list(DeadlinePolicy.objects.values_list("pk", "name")),
    }
    initial = {}
    if category is not None:
        initial = {"code": category.code, "name": category.name, "description": category.description,
                   "parent": category.parent_id, "policy": category.policy_id, "keywords": category.keywords,
                   "sort_order": category.sort_order, "is_active": category.is_active}
    data = request.POST if request.method == "POST" else None
    form = CategoryForm(data, initial=initial, **choices)
    fields = FormFieldFormSet(data, prefix="ff", initial=form_field_initial(category.form_fields if category else []))
    if data is not None and form.is_valid() and fields.is_valid():
        d = form.cleaned_data
        rows = [f.cleaned_data for f in fields.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        try:
            saved = admin_actions.category_save(
                by=user, category=category, code=d["code"], name=d["name"], description=d["description"],
                parent=Category.objects.filter(pk=d["parent"]).first() if d["parent"] else None,
                policy=DeadlinePolicy.objects.filter(pk=d["policy"]).first() if d["policy"] else None,
                form_fields=rows, keywords=d["keywords"], is_active=d["is_active"], sort_order=d["sort_order"],
            )
        except (ValidationError, PermissionDenied) as exc:
            pages.form_errors(form, exc)
        else:
            messages.success(request, _("Category “%(name)s” saved.") % {"name": saved.name})
            return redirect("appeals:admin_categories")
    return render(request, "appeals/admin/category_edit.html", {
        "category": category, "form": form, "fields": fields,
        "policy": routing.policy_for(category) if category else None,
    })


# --- deadline policies --------------------------------------------------------------------------


@login_required
def policies_list(request):
    _need_admin(request.user)
    rows = list(DeadlinePolicy.objects.annotate(n_categories=Count("category")).order_by("name"))
    return render(request, "appeals/admin/policies.html", {"rows": rows})


@login_required
def policy_edit(request, pk=None):
    user = request.user
    _need_admin(user)
    policy = get_object_or_404(DeadlinePolicy, pk=pk) if pk is not None else None
    # A copy for the form: a ModelForm writes the cleaned values onto its instance, the action saves.
    form = PolicyForm(request.POST or None, instance=DeadlinePolicy.objects.get(pk=pk) if policy else None)
    if request.method == "POST" and form.is_valid():
        values = {f: form.cleaned_data[f] for f in admin_actions.POLICY_FIELDS}
        try:
            saved = admin_actions.policy_save(by=user, policy=policy, **values)
        except (ValidationError, PermissionDenied) as exc:
            pages.form_errors(form, exc)
        else:
            messages.success(request, _("Deadline policy “%(name)s” saved.") % {"name": saved.name})
            return redirect("appeals:admin_policies")
    return render(request, "appeals/admin/policy_edit.html", {"policy": policy, "form": form})


# --- routing rules ------------------------------------------------------------------------------


def _rules_in_scope(user):
    return scoped(RoutingRule.objects.all(), user, Perm.APPEALS_ADMIN)


def _node_choices(user, kinds, perm=Perm.APPEALS_ADMIN, extra=()) -> list[tuple[int, str]]:
    nodes = list(scoped(OrgNode.objects.filter(kind__in=kinds), user, perm, field="path").order_by("path"))
    known = {n.pk for n in nodes}
    nodes += [n for n in extra if n is not None and n.pk not in known]
    labels = _node_label_map(nodes)
    return [(n.pk, labels[n.path]) for n in sorted(nodes, key=lambda n: n.path)]


def _rule_form(request, user, rule: RoutingRule | None):
    extra = (rule.node, rule.target_node) if rule else ()
    units = list(org_selectors.units(user).order_by("kind", "name").values_list("pk", "name"))
    if rule is not None and rule.target_unit_id and all(pk != rule.target_unit_id for pk, _n in units):
        units.append((rule.target_unit_id, rule.target_unit.name))
    initial = {}
    if rule is not None:
        initial = {"node": rule.node_id, "category": rule.category_id, "target": rule.target,
                   "target_node": rule.target_node_id, "target_unit": rule.target_unit_id,
                   "auto_dispatch": rule.auto_dispatch}
    return RoutingRuleForm(
        request.POST if request.method == "POST" else None, initial=initial,
        nodes=_node_choices(user, RULE_NODE_KINDS, extra=extra),
        categories=_category_choices(), units=units,
    ), _node_choices(user, TARGET_NODE_KINDS, perm=Perm.PLACES_VIEW, extra=extra)


def _describe(route: routing.Route) -> dict:
    return {"label": route.label, "rule": route.rule, "auto": route.auto_dispatch,
            "kind": "unit" if route.unit else "node"}


@login_required
def routing_rules(request):
    user = request.user
    _need_routing(user)
    rules = list(_rules_in_scope(user).select_related("node", "category", "target_node", "target_unit")
                 .order_by("org_path", "category__code"))
    # Rules above the user's area apply inside it too unless a deeper rule wins: shown, read-only.
    roots = user.paths_with(Perm.APPEALS_ADMIN)
    above = {p[:i] for p in roots for i in range(OrgNode.steplen, len(p), OrgNode.steplen)}
    inherited = list(RoutingRule.objects.filter(org_path__in=above)
                     .select_related("node", "category", "target_node", "target_unit").order_by("org_path"))
    tester = RouteTestForm(
        request.GET if "node" in request.GET else None,
        nodes=_node_choices(user, RULE_NODE_KINDS + (NodeKind.MICRO_GRID,), perm=Perm.PLACES_VIEW),
        categories=_category_choices(),
    )
    result = None
    if tester.is_bound and tester.is_valid():
        node = org_selectors.node_get(user, tester.cleaned_data["node"])
        category = Category.objects.filter(pk=tester.cleaned_data["category"]).first()
        if category is not None:
            result = _describe(routing.route(node, category))
            result["place"], result["category"] = node, category
    context = {"rules": rules, "inherited": inherited, "tester": tester, "result": result,
               "labels": dict(RoutingRule.Target.choices)}
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "appeals/admin/routing.html#route-result", context)
    return render(request, "appeals/admin/routing.html", context)


@login_required
def routing_rule_edit(request, pk=None):
    user = request.user
    _need_routing(user)
    rule = None
    if pk is not None:
        rule = get_scoped(RoutingRule.objects.select_related("node", "target_unit"), user, Perm.APPEALS_ADMIN, pk=pk)
    form, target_nodes = _rule_form(request, user, rule)
    form.fields["target_node"].choices = [("", "—")] + target_nodes
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            admin_actions.routing_rule_save(
                by=user, rule=rule, node=OrgNode.objects.get(pk=d["node"]),
                category=Category.objects.filter(pk=d["category"]).first() if d["category"] else None,
                target=d["target"], target_node=OrgNode.objects.filter(pk=d["target_node"]).first(),
                target_unit=org_selectors.units(user).filter(pk=d["target_unit"]).first()
                if d["target_unit"] else None,
                auto_dispatch=d["auto_dispatch"],
            )
        except (ValidationError, PermissionDenied) as exc:
            pages.form_errors(form, exc)
        else:
            messages.success(request, _("Routing rule saved."))
            return redirect("appeals:admin_routing")
    return render(request, "appeals/admin/rule_edit.html", {"rule": rule, "form": form})


@login_required
@require_POST
def routing_rule_delete(request, pk):
    user = request.user
    _need_routing(user)
    rule = get_scoped(RoutingRule.objects.select_related("node", "category"), user, Perm.APPEALS_ADMIN, pk=pk)
    try:
        admin_actions.routing_rule_delete(by=user, rule=rule)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Routing rule deleted."))
    return redirect("appeals:admin_routing")


# --- the working-day calendar -------------------------------------------------------------------


def _official(year: int) -> tuple[list[dict], list[dict]]:
    """The library's holidays for ``year`` grouped into runs, and its make-up working days."""
    holidays = sorted((d, n) for d, n in chinese_calendar.holidays.items() if d.year == year)
    runs: list[dict] = []
    for day, name in holidays:
        if runs and runs[-1]["name"] == name and runs[-1]["end"] + dt.timedelta(days=1) == day:
            runs[-1]["end"] = day
            runs[-1]["days"] += 1
        else:
            runs.append({"start": day, "end": day, "days": 1, "name": name,
                         "label": HOLIDAY_NAMES.get(name, name)})
    makeup = [{"date": d, "name": n, "label": HOLIDAY_NAMES.get(n, n)}
              for d, n in sorted(chinese_calendar.workdays.items()) if d.year == year]
    return runs, makeup


def _months(year: int) -> list[dict]:
    """Twelve small month grids: each day a working day or not (the admin table, the library, Mon-Fri)."""
    cal = calendar.Calendar(firstweekday=0)
    out = []
    for month in range(1, 13):
        weeks = []
        for week in cal.monthdatescalendar(year, month):
            weeks.append([
                {"date": d, "in_month": d.month == month, "work": workdays.is_workday(d),
                 "weekend": d.weekday() >= 5}
                for d in week
            ])
        out.append({"month": month, "weeks": weeks})
    return out


@login_required
def calendar_year(request, year=None):
    user = request.user
    _need_admin(user)
    today = timezone.localdate()
    year = year or today.year
    if not 2000 <= year <= 2100:
        raise Http404("no such year")
    if request.method == "POST":
        return _calendar_post(request, year)
    workdays.overrides.clear()  # show what the table holds now, not the minute-old cache
    runs, makeup = _official(year)
    library = year in workdays.library_years()
    row = CalendarYear.objects.filter(year=year).first()
    context = {
        "year": year, "library": library, "confirmed": library or bool(row and row.confirmed), "year_row": row,
        "runs": runs, "makeup": makeup,
        "overrides": list(CalendarDay.objects.filter(date__year=year).select_related("updated_by")),
        "months": _months(year),
        "years": sorted({*range(today.year - 1, today.year + 3), year}),
        "day_form": CalendarDayForm(initial={"date": dt.date(year, 1, 1)}),
        "weekdays": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
        "unconfirmed": _unconfirmed_years(today),
    }
    return render(request, "appeals/admin/calendar.html", context)


def _calendar_post(request, year: int):
    user = request.user
    op = request.POST.get("op")
    try:
        if op == "set":
            form = CalendarDayForm(request.POST)
            if not form.is_valid():
                raise ValidationError([f"{form[k].label}: {e}" for k, errs in form.errors.items() for e in errs])
            d = form.cleaned_data
            core_actions.calendar_day_set(date=d["date"], is_workday=d["is_workday"], name=d["name"].strip(), by=user)
            messages.success(request, _("%(date)s saved.") % {"date": d["date"].isoformat()})
            year = d["date"].year
        elif op == "clear":
            day = dt.date.fromisoformat(request.POST.get("date", ""))
            core_actions.calendar_day_clear(date=day, by=user)
            messages.success(request, _("%(date)s removed from the table.") % {"date": day.isoformat()})
        elif op == "confirm":
            form = CalendarConfirmForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Say whether the year is confirmed."))
            core_actions.calendar_year_confirm(year=year, confirmed=form.cleaned_data["confirmed"],
                                               note=form.cleaned_data["note"], by=user)
            if form.cleaned_data["confirmed"]:
                messages.success(request, _("The %(year)s schedule is confirmed.") % {"year": year})
            else:
                messages.success(request, _("%(year)s is marked unconfirmed again.") % {"year": year})
        else:
            raise ValidationError(_("Unknown request."))
    except ValueError:
        messages.error(request, _("Not a date."))
    except (ValidationError, PermissionDenied) as exc:
        for message in getattr(exc, "messages", [str(exc)]):
            messages.error(request, message)
    return redirect("appeals:admin_calendar_year", year=year)

