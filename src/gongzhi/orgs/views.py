"""Registry pages: tree, nodes, places, households, residents, search, edits, party, units, the mobile page."""

from __future__ import annotations

from html import escape

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import EmptyResultSet, PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.db.models.functions import Substr
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gongzhi.core.access import Role
from gongzhi.orgs.permissions import Perm
from gongzhi.core import pages
from gongzhi.core.counting import capped_count
from gongzhi.core.scoping import scoped, under

from . import actions, policies, selectors
from .setup import policies as setup_policies
from .forms import (
    GridSplitForm,
    HouseholdMoveForm,
    ResidentEditForm,
    ResidentFilterForm,
    ResidentMoveForm,
    RevealForm,
)
from .models import (
    NODE_DEPTH_ORDER,
    CareGroup,
    CareTag,
    Gender,
    Household,
    NodeKind,
    OrgNode,
    Relocation,
    Resident,
    ResidencyType,
    UnitService,
)

PAGE_SIZE = 25
# The resident list counts at most this many rows: an exact total over a county of a million
# residents costs a full index scan, "more than 1,000" is all a reader needs to narrow the filters.
COUNT_CAP = 1000
CARE_LIST_CAP = 200  # the mobile page: a grid's whole visiting list
NODE_CARE_CAP = 50  # the node page: a preview; the resident list filters by care group

_FIGURES = [
    ("subdistricts", gettext_lazy("Subdistricts"), NodeKind.SUBDISTRICT),
    ("communities", gettext_lazy("Communities"), NodeKind.COMMUNITY),
    ("grids", gettext_lazy("Grids"), NodeKind.GRID),
    ("micro_grids", gettext_lazy("Micro-grids"), NodeKind.MICRO_GRID),
    ("compounds", gettext_lazy("Compounds"), None),
    ("buildings", gettext_lazy("Buildings"), None),
    ("households", gettext_lazy("Households"), None),
    ("residents", gettext_lazy("Residents"), None),
    ("party_members", gettext_lazy("Party members"), None),
]


# --- helpers ----------------------------------------------------------------------------------


def _crumbs(user, node: OrgNode, include_self: bool = True) -> list[dict]:
    """Breadcrumbs from the tree's top; nodes above the user's scope are shown without a link."""
    chain = selectors.node_ancestors(node) + ([node] if include_self else [])
    return [{"node": n, "link": user.can(Perm.PLACES_VIEW, n.path)} for n in chain]


def _figures(user, node: OrgNode) -> dict:
    """Node figures as display rows: only the levels below the node, then the places and people."""
    raw = selectors.node_figures(user, node)
    depth = NODE_DEPTH_ORDER.index(node.kind)
    below = set(NODE_DEPTH_ORDER[depth + 1:])
    rows = [
        {"key": key, "label": label, "value": raw[key]}
        for key, label, kind in _FIGURES
        if key in raw and (kind is None or kind in below)
    ]
    care = [{"group": g, "label": label, "value": raw["care_groups"].get(g, 0)} for g, label in CareGroup.choices]
    return {"rows": rows, "care": care}


def _child_resident_counts(node: OrgNode) -> dict[str, int]:
    """Residents per child of ``node`` in one grouped query (the child's path is a prefix of org_path)."""
    width = len(node.path) + OrgNode.steplen
    rows = (
        Resident.objects.filter(under(node.path)).exclude(org_path=node.path)
        .annotate(child=Substr("org_path", 1, width)).order_by()
        .values("child").annotate(n=Count("id")).values_list("child", "n")
    )
    return dict(rows)


def _household_node(household: Household) -> OrgNode:
    """The node a household sits in: its micro-grid when it has one, else its grid."""
    return household.micro_grid if household.micro_grid_id else household.grid


def _relocations(**where) -> list[Relocation]:
    q = Q()
    for key, value in where.items():
        q |= Q(**{key: value})
    return list(
        Relocation.objects.filter(q).select_related("by", "from_node", "to_node", "from_household", "to_household")[:50]
    )


@login_required
def home(request):
    """Grid workers to their mobile page, other staff to their top node, residents to their household."""
    user = request.user
    if selectors.rounds_home(user):
        return redirect("orgs:mobile")
    if user.can(Perm.PLACES_VIEW):
        roots = selectors.node_roots(user)
        if len(roots) == 1:
            return redirect("orgs:node", pk=roots[0].pk)
        return redirect("orgs:tree")
    if user.has_role(Role.RESIDENT):
        return redirect("orgs:mine")
    if setup_policies.may_start_county(user):  # a new administrator on day one: start the county
        return redirect("setup:index")
    return render(request, "core/home.html")


# --- tree and nodes ---------------------------------------------------------------------------


@login_required
def tree(request):
    pages.need(request.user, Perm.PLACES_VIEW)
    return render(request, "orgs/tree.html", {"children": selectors.node_roots(request.user)})


@login_required
def tree_children(request, pk):
    node = selectors.node_get(request.user, pk)
    return render(request, "orgs/tree.html#children", {"children": selectors.node_children(request.user, node)})


@login_required
def node_detail(request, pk):
    user = request.user
    node = selectors.node_get(user, pk)
    children = list(selectors.node_children(user, node))
    if children:
        counts = _child_resident_counts(node)
        for child in children:
            child.resident_count = counts.get(child.path, 0)
    context = {
        "node": node,
        "crumbs": _crumbs(user, node, include_self=False),
        "figures": _figures(user, node),
        "children": children,
        "can_registry": user.can(Perm.REGISTRY_VIEW, node.path),
        "can_split": node.kind == NodeKind.GRID and user.can(Perm.TREE_EDIT, node.path),
        "is_grid": node.kind in (NodeKind.GRID, NodeKind.MICRO_GRID),
        "setup_checklist": setup_policies.may_set_up_county(user, node),
    }
    if context["is_grid"]:
        in_node = under(node.path)
        has_household_here = Household.objects.filter(building=OuterRef("pk")).filter(in_node)
        context["buildings"] = list(
            selectors.buildings(user).filter(in_node | Q(Exists(has_household_here)))
            .annotate(n_households=Count("households", filter=under(node.path, "households__org_path")))
            .order_by("compound__name", "name")
        )
        context["households"] = pages.offset_page(
            request,
            selectors.households(user).filter(in_node).annotate(n_members=Count("members")).order_by("address", "id"),
            50, "hp",
        )
        context["care_residents"] = list(selectors.care_residents(user, node)[:NODE_CARE_CAP])
        context["care_cap"] = NODE_CARE_CAP
    return render(request, "orgs/node.html", context)


@login_required
def compound_detail(request, pk):
    user = request.user
    compound = selectors.compound_get(user, pk)
    buildings = (
        selectors.buildings(user).filter(compound=compound)
        .annotate(n_households=Count("households")).order_by("name")
    )
    return render(request, "orgs/compound.html", {
        "compound": compound,
        "crumbs": _crumbs(user, compound.community),
        "buildings": buildings,
        "grids": [{"node": g, "link": user.can(Perm.PLACES_VIEW, g.path)} for g in compound.grids.order_by("path")],
    })


@login_required
def building_detail(request, pk):
    user = request.user
    building = selectors.building_get(user, pk)
    households = (
        selectors.households(user).filter(building=building)
        .annotate(n_members=Count("members")).order_by("entrance__name", "room", "address")
    )
    return render(request, "orgs/building.html", {
        "building": building,
        "crumbs": _crumbs(user, building.grid),
        "entrances": building.entrances.all(),
        "households": households,
        "compound_link": selectors.compounds(user).filter(pk=building.compound_id).exists(),
    })


# --- households and residents -----------------------------------------------------------------


@login_required
def household_detail(request, pk):
    user = request.user
    household = selectors.household_get(user, pk)
    members = sorted(
        selectors.residents(user).filter(household=household),
        key=lambda r: (r.pk != household.head_id, r.birth_date, r.pk),
    )
    return render(request, "orgs/household.html", {
        "household": household,
        "crumbs": _crumbs(user, _household_node(household)),
        "members": members,
        "relocations": _relocations(household=household, from_household=household, to_household=household),
        "grid_link": user.can(Perm.PLACES_VIEW, household.grid.path),
        "micro_link": household.micro_grid_id and user.can(Perm.PLACES_VIEW, household.org_path),
        "can_edit": user.can(Perm.REGISTRY_EDIT, household.org_path),
        "can_reveal": user.can(Perm.PII_REVEAL, household.org_path),
    })


@login_required
def resident_detail(request, pk):
    user = request.user
    resident = selectors.resident_get(user, pk)
    party_member = None
    if resident.is_party_member and user.can(Perm.PARTY_VIEW, resident.org_path):
        party_member = selectors.party_members(user).filter(resident=resident).first()
    return render(request, "orgs/resident.html", {
        "resident": resident,
        "crumbs": _crumbs(user, _household_node(resident.household)),
        "relocations": _relocations(resident=resident),
        "party_member": party_member,
        "can_edit": user.can(Perm.REGISTRY_EDIT, resident.org_path),
        "can_reveal": user.can(Perm.PII_REVEAL, resident.org_path),
        "sees_birth_date": policies.sees_birth_date(user, resident),
    })


@login_required
@require_POST
def resident_reveal(request, pk):
    """Swap a masked ID number or phone for the full value (htmx); every reveal is audited by the action."""
    user = request.user
    resident = selectors.resident_get(user, pk)
    if not user.can(Perm.PII_REVEAL, resident.org_path):
        raise PermissionDenied
    form = RevealForm(request.POST)
    field = request.POST.get("field")
    if field not in ("id_number", "phone"):
        return HttpResponseBadRequest()
    masked = resident.phone_masked if field == "phone" else resident.id_number_masked
    context = {"r": resident, "field": field, "masked": masked, "can_reveal": True, "form": form}
    if form.is_valid():
        try:
            context["value"] = actions.resident_reveal(
                resident=resident, by=user, field=field, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            pages.form_errors(form, exc)
    return render(request, "orgs/_pii.html", context)


@login_required
def resident_edit(request, pk):
    user = request.user
    resident = selectors.resident_get(user, pk)
    if not user.can(Perm.REGISTRY_EDIT, resident.org_path):
        raise PermissionDenied
    initial = {
        "relation": resident.relation, "residency": resident.residency, "ethnicity": resident.ethnicity,
        "care_groups": [t.group for t in resident.care_tags.all()],
    }
    form = ResidentEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.resident_update(
                resident=resident, by=user, phone=data["phone"].strip() or None,
                relation=data["relation"], residency=data["residency"], ethnicity=data["ethnicity"].strip(),
                care_groups=data["care_groups"],
            )
        except (ValidationError, PermissionDenied) as exc:
            pages.form_errors(form, exc)
            resident = selectors.resident_get(user, pk)  # the action changed the instance before failing
        else:
            messages.success(request, _("Saved."))
            return redirect("orgs:resident", pk=resident.pk)
    return render(request, "orgs/resident_edit.html", {
        "resident": resident, "form": form, "crumbs": _crumbs(user, _household_node(resident.household)),
    })


@login_required
def household_move(request, pk):
    user = request.user
    household = selectors.household_get(user, pk)
    if not user.can(Perm.REGISTRY_EDIT, household.org_path):
        raise PermissionDenied
    form = HouseholdMoveForm(request.POST or None, user=user, household=household)
    if request.method == "POST" and form.is_valid():
        try:
            actions.household_move(
                household=household, to_node=form.cleaned_data["to_node"], by=user, reason=form.cleaned_data["reason"]
            )
        except (ValidationError, PermissionDenied) as exc:
            pages.form_errors(form, exc)
            household = selectors.household_get(user, pk)
        else:
            messages.success(request, _("The household was moved."))
            return redirect("orgs:household", pk=household.pk)
    return render(request, "orgs/household_move.html", {
        "household": household, "form": form, "crumbs": _crumbs(user, _household_node(household)),
    })


def _household_matches(user, resident: Resident, q: str):
    q = (q or "").strip()
    if len(q) < 2:
        return []
    return list(
        scoped(Household.objects.all(), user, Perm.REGISTRY_EDIT)
        .filter(address__contains=q).exclude(pk=resident.household_id).order_by("address")[:20]
    )


@login_required
def resident_move(request, pk):
    user = request.user
    resident = selectors.resident_get(user, pk)
    if not user.can(Perm.REGISTRY_EDIT, resident.org_path):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    form = ResidentMoveForm(data, user=user, initial={"q": request.GET.get("q", "")})
    q = request.POST.get("q") if data else request.GET.get("q", "")
    if data is not None and form.is_valid():
        try:
            actions.resident_move(
                resident=resident, to_household=form.cleaned_data["to_household"], by=user,
                relation=form.cleaned_data["relation"], reason=form.cleaned_data["reason"],
            )
        except (ValidationError, PermissionDenied) as exc:
            pages.form_errors(form, exc)
            resident = selectors.resident_get(user, pk)
        else:
            messages.success(request, _("The resident was moved."))
            return redirect("orgs:resident", pk=resident.pk)
    chosen = request.POST.get("to_household") if data else None
    context = {
        "resident": resident, "form": form, "q": q, "matches": _household_matches(user, resident, q),
        "chosen": chosen, "crumbs": _crumbs(user, _household_node(resident.household)),
    }
    return pages.partial_or_page(request, "orgs/resident_move.html", "matches", context)


@login_required
def grid_split(request, pk):
    user = request.user
    grid = selectors.node_get(user, pk)
    if grid.kind != NodeKind.GRID or not user.can(Perm.TREE_EDIT, grid.path):
        raise PermissionDenied
    households = selectors.households(user).filter(under(grid.path)).order_by("address")
    form = GridSplitForm(request.POST or None, households=households)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            new_grid = actions.grid_split(
                grid=grid, new_name=data["new_name"].strip(), households=data["households"], by=user,
                reason=data["reason"],
            )
        except (ValidationError, PermissionDenied) as exc:
            pages.form_errors(form, exc)
        else:
            messages.success(request, _("The grid was split."))
            return redirect("orgs:node", pk=new_grid.pk)
    return render(request, "orgs/grid_split.html", {"grid": grid, "form": form, "crumbs": _crumbs(user, grid)})


# --- lists and search -------------------------------------------------------------------------


def _keyset_page(qs, *, count, after=None, before=None, size=PAGE_SIZE):
    """A page in (org_path, id) order, the order of the resident_path_id index, so any page costs
    the same as the first: no OFFSET. ``org_path >= p`` gives the index its start; the OR breaks ties.

    ``count``: a queryset whose rows, up to ``COUNT_CAP + 1``, are counted in the page's own query (an
    uncorrelated subquery, run once) and given to every row as ``total_found``."""
    try:
        qs = qs.annotate(total_found=capped_count(count.order_by().values("id")[: COUNT_CAP + 1]))
    except EmptyResultSet:  # a filter that matches nobody (a care group no one in the area has)
        return [], False, False
    if before:
        path, pk = before
        rows = list(
            qs.filter(org_path__lte=path).filter(Q(org_path__lt=path) | Q(id__lt=pk)).order_by("-org_path", "-id")[: size + 1]
        )
        has_prev, rows = len(rows) > size, rows[:size][::-1]
        has_next = True
    else:
        if after:
            path, pk = after
            qs = qs.filter(org_path__gte=path).filter(Q(org_path__gt=path) | Q(id__gt=pk))
        rows = list(qs.order_by("org_path", "id")[: size + 1])
        has_next, rows = len(rows) > size, rows[:size]
        has_prev = after is not None
    return rows, has_prev, has_next


# What a row of the resident list shows (and its cursor): nothing else is read, so 25 rows stay light.
LIST_FIELDS = (
    "id", "org_path", "name", "gender", "birth_date", "id_number_masked", "phone_masked", "residency",
    "household_id", "grid_id", "household__address", "grid__name",
)


def _label_rows(rows: list[Resident]) -> None:
    """Choice labels, care groups and links for a page of rows, looked up once per page: a care-tag query
    of plain tuples, labels from dicts (Model.get_FOO_display rebuilds its choices dict on every call),
    links from one reversed pattern."""
    genders, residencies, care = (
        {key: str(label) for key, label in choices}
        for choices in (Gender.choices, ResidencyType.choices, CareGroup.choices)
    )
    tags: dict[int, list[str]] = {}
    if rows:
        for resident_id, group in (CareTag.objects.filter(resident_id__in=[r.pk for r in rows])
                                   .order_by("id").values_list("resident_id", "group")):
            tags.setdefault(resident_id, []).append(care.get(group, group))
    resident_url, household_url = reverse("orgs:resident", args=[0])[:-2], reverse("orgs:household", args=[0])[:-2]
    for r in rows:
        r.gender_label = genders.get(r.gender, r.gender)
        r.residency_label = residencies.get(r.residency, r.residency)
        r.care_labels = tags.get(r.pk, [])
        r.url, r.household_url = f"{resident_url}{r.pk}/", f"{household_url}{r.household_id}/"


def _resident_rows_html(rows) -> str:
    """The rows of the resident list (labelled by ``_label_rows``) as one string built here, every value
    escaped: 25 rows of nine template cells cost more than the page's query."""
    labels = [escape(str(label)) for label in (
        pgettext("person", "Name"), _("Gender"), _("Age"), _("ID number"), _("Phone"), _("Residency type"),
        _("Address"), _("Grid"), _("Care groups"))]
    name, gender, age, id_number, phone, residency, address, grid, care = labels
    out = []
    for r in rows:
        tags = "".join(f'<span class="tag">{escape(label)}</span>' for label in r.care_labels)
        out.append(
            f'<tr>\n'
            f'      <td data-label="{name}" class="nowrap"><a href="{escape(r.url)}">{escape(r.name)}</a></td>\n'
            f'      <td data-label="{gender}" class="nowrap">{escape(r.gender_label)}</td>\n'
            f'      <td data-label="{age}" class="nowrap">{r.age}</td>\n'
            f'      <td data-label="{id_number}" class="mono nowrap">{escape(r.id_number_masked)}</td>\n'
            f'      <td data-label="{phone}" class="mono nowrap">{escape(r.phone_masked or "—")}</td>\n'
            f'      <td data-label="{residency}">{escape(r.residency_label)}</td>\n'
            f'      <td data-label="{address}"><a href="{escape(r.household_url)}">{escape(r.household.address)}</a></td>\n'
            f'      <td data-label="{grid}" class="nowrap">{escape(r.grid.name)}</td>\n'
            f'      <td data-label="{care}">{tags}</td>\n'
            f'    </tr>'
        )
    return mark_safe("".join(out))


@login_required
def resident_list(request):
    user = request.user
    pages.need(user, Perm.REGISTRY_VIEW)
    form = ResidentFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    full_page = not request.htmx or request.htmx.history_restore_request
    picked_pk = data.get("node")
    area_options, picked = selectors.area_nodes(user, {picked_pk} if picked_pk else set(), options=full_page,
                                       selected=picked_pk)
    node = None
    if picked_pk:
        node = picked.get(picked_pk)
        if node is None:  # missing or out of scope: the same answer
            raise Http404("not found")
    filters = {k: data[k] for k in ("care_group", "gender", "residency", "age_min", "age_max", "q") if k in data}
    qs = selectors.resident_filter(selectors.residents(user), node=node, scope=user.paths_with(Perm.REGISTRY_VIEW),
                                   **filters)
    page_no = request.GET.get("page", "1")
    page_no = int(page_no) if page_no.isdigit() and int(page_no) > 0 else 1
    after, before = pages.path_cursor(request.GET.get("after")), pages.path_cursor(request.GET.get("before"))
    rows, has_prev, has_next = _keyset_page(qs.prefetch_related(None).only(*LIST_FIELDS), after=after, before=before,
                                            count=qs)
    if not has_prev:
        page_no = 1
    _label_rows(rows)
    if rows:
        total = rows[0].total_found
    elif after or before:  # a stale cursor past the end: the rows are gone, the count is not
        total = qs.order_by().values("id")[: COUNT_CAP + 1].count()
    else:
        total = 0
    context = {
        "form": form, "node": node, "rows": rows, "rows_html": _resident_rows_html(rows), "page_no": page_no,
        "has_prev": has_prev, "has_next": has_next,
        "first_cursor": f"{rows[0].org_path}-{rows[0].pk}" if rows else "",
        "last_cursor": f"{rows[-1].org_path}-{rows[-1].pk}" if rows else "",
        "total": min(total, COUNT_CAP), "more": total > COUNT_CAP,
    }
    if full_page:
        context["node_options"] = pages.options_html(area_options, str(node.pk) if node else "")
        # Plain loops in the template: the form's widget templates cost more than the query.
        context["choice_filters"] = [
            {"name": name, "label": form[name].label, "choices": form.fields[name].choices[1:], "value": request.GET.get(name, "")}
            for name in ("care_group", "gender", "residency")
        ]
    return pages.partial_or_page(request, "orgs/resident_list.html", "table", context)


@login_required
def search(request):
    user = request.user
    pages.need(user, Perm.REGISTRY_VIEW)
    q = request.GET.get("q", "").strip()[:60]
    context = {"q": q}
    if q:
        context["residents"] = list(selectors.residents(user).filter(selectors.search_q(q)).order_by("org_path", "id")[:50])
        # Addresses are Chinese text: an ID number, phone or initials never needs the (unindexed) address scan.
        context["households"] = [] if q.isascii() else list(
            selectors.households(user).filter(address__contains=q).order_by("address")[:20]
        )
    return pages.partial_or_page(request, "orgs/search.html", "results", context)


@login_required
def mobile(request):
    """The grid worker's page on their rounds: their grid(s), the care-group residents to visit, a search box."""
    user = request.user
    pages.need(user, Perm.REGISTRY_VIEW)
    grids = []
    for node in selectors.node_roots(user)[:5]:
        care = list(selectors.care_residents(user, node)[:CARE_LIST_CAP])
        groups = {g: [] for g, _label in CareGroup.choices}
        for r in care:
            for tag in r.care_tags.all():
                groups[tag.group].append(r)
        grids.append({
            "node": node,
            "figures": _figures(user, node),
            "buildings": list(
                selectors.buildings(user).filter(under(node.path)).annotate(n_households=Count("households"))
                .order_by("compound__name", "name")[:60]
            ),
            "care_groups": [
                {"group": g, "label": label, "residents": groups[g]} for g, label in CareGroup.choices if groups[g]
            ],
            "care_capped": len(care) >= CARE_LIST_CAP,
        })
    q = request.GET.get("q", "").strip()[:60]
    results = list(selectors.residents(user).filter(selectors.search_q(q)).order_by("org_path", "id")[:20]) if q else None
    return render(request, "orgs/mobile.html", {
        "grids": grids, "q": q, "results": results, "can_reveal": user.can(Perm.PII_REVEAL),
    })


@login_required
def mine(request):
    """A resident's own household and its members, masked."""
    user = request.user
    me = selectors.residents(user).filter(user=user).first()
    context = {"me": me}
    if me is not None:
        context["household"] = selectors.household_get(user, me.household_id)
        context["members"] = list(selectors.residents(user).filter(household_id=me.household_id).order_by("birth_date"))
    return render(request, "orgs/mine.html", context)


@login_required
def mine_party(request):
    """我的党组织: a resident party member's own organisation, its secretary and place, and their join date
    (until the participation pages come)."""
    member = selectors.my_party_membership(request.user)
    context = {"member": member}
    if member is not None:
        org = member.organization
        context["org_place"] = " › ".join(
            [n.name for n in selectors.node_ancestors(org.node)[1:]] + [org.node.name]
            + [p.name for p in (org.compound, org.building) if p is not None]
        )
    return render(request, "orgs/mine_party.html", context)


# --- party and units --------------------------------------------------------------------------


@login_required
def party_list(request):
    user = request.user
    pages.need(user, Perm.PARTY_VIEW)
    orgs = list(selectors.party_orgs(user).annotate(n_members=Count("members")).order_by("org_path", "kind", "name"))
    top = min((o.node.depth for o in orgs), default=1)
    for o in orgs:
        o.indent = o.node.depth - top
    return render(request, "orgs/party_list.html", {"orgs": orgs})


@login_required
def party_org_detail(request, pk):
    user = request.user
    org = selectors.party_org_get(user, pk)
    members = pages.offset_page(
        request, selectors.party_members(user).filter(organization=org).order_by("resident__name", "id"), 50
    )
    return render(request, "orgs/party_org.html", {
        "org": org,
        "crumbs": _crumbs(user, org.node),
        "parent_link": org.parent_id and selectors.party_orgs(user).filter(pk=org.parent_id).exists(),
        "children": selectors.party_orgs(user).filter(parent=org).annotate(n_members=Count("members")),
        "members": members,
    })


def _with_services(qs):
    return qs.prefetch_related(Prefetch("services", UnitService.objects.select_related("node").order_by("node__path")))


@login_required
def unit_list(request):
    user = request.user
    pages.need(user, Perm.UNITS_VIEW)
    units = list(_with_services(selectors.units(user)).order_by("kind", "name"))
    return render(request, "orgs/unit_list.html", {"units": units})


@login_required
def unit_detail(request, pk):
    user = request.user
    unit = selectors.unit_get(user, pk)
    services = [
        {"service": s, "link": user.can(Perm.PLACES_VIEW, s.node.path)}
        for s in unit.services.select_related("node").order_by("node__path")
    ]
    return render(request, "orgs/unit.html", {
        "unit": unit, "services": services, "home_link": user.can(Perm.PLACES_VIEW, unit.home.path),
    })

