"""The leaders' appeal dashboard: the page (node and period pickers), its JSON payload, the ledger xlsx."""

from __future__ import annotations

import datetime as dt
import os

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy

from gongzhi.appeals.permissions import Perm
from gongzhi.core.excel import XLSX_CONTENT_TYPE
from gongzhi.core.forms import parse_date
from gongzhi.orgs.selectors import node_ancestors

from . import ledger, metrics, selectors

PERIODS = [
    ("7", gettext_lazy("Last 7 days")),
    ("30", gettext_lazy("Last 30 days")),
    ("90", gettext_lazy("Last 90 days")),
    ("custom", gettext_lazy("Custom")),
]
# What the page's script writes on the page, translated here (the script itself holds no text).
UI_TEXT = {
    "kpis": gettext_lazy("Key figures"),
    "trend": gettext_lazy("Trend by filing day"),
    "categories": gettext_lazy("By category"),
    "children": gettext_lazy("Ranking of the areas below"),
    "handlers": gettext_lazy("Ranking of handling units"),
    "heat": gettext_lazy("Appeals by area"),
    "overdue": gettext_lazy("Overdue now"),
    "name": gettext_lazy("Name"),
    "number": gettext_lazy("Number"),
    "title": gettext_lazy("Title"),
    "category": gettext_lazy("Category"),
    "place": gettext_lazy("Place"),
    "handler": gettext_lazy("Handled by"),
    "status": gettext_lazy("Status"),
    "due": gettext_lazy("Due"),
    "overdue_by": gettext_lazy("Overdue by"),
    "days": gettext_lazy("days"),
    "none": gettext_lazy("No appeals were filed here in this period."),
    "no_overdue": gettext_lazy("Nothing is overdue here."),
    "more_overdue": gettext_lazy("%(shown)s of %(count)s shown, most overdue first."),
    "count_overdue": gettext_lazy("%(count)s appeals are past their resolution deadline and not resolved yet, whenever filed."),
    "failed": gettext_lazy("The figures could not be loaded. Reload the page to try again."),
    "generated": gettext_lazy("Figures as of %(time)s; appeals counted by the day they were filed."),
    "hours": gettext_lazy("hours"),
    "working_hours": gettext_lazy("working hours"),
    "of": gettext_lazy("of"),
    "waiting": gettext_lazy("Changes not counted yet"),
    "waiting_none": gettext_lazy("Figures up to date"),
    "waiting_some": gettext_lazy("Being counted; reload in a moment"),
    "waiting_help": gettext_lazy(
        "Appeal changes (filings, handling steps, ratings) made before this page was loaded that the figures "
        "above do not include yet: the task worker is still counting them. Usually 0."),
}


def _need(user):
    if not selectors.can_view(user):
        raise PermissionDenied


def _date(value: str | None) -> dt.date | None:
    return parse_date(value)  # ISO from the date inputs, or typed as 2026/01/01, 2026.1.1, 2026年1月1日


def _period(request) -> tuple[str, dt.date, dt.date, str]:
    """(period key, from, to, error) from the query: last 7/30/90 days up to today, or from/to."""
    today = timezone.localdate()
    key = request.GET.get("period") or ("custom" if request.GET.get("from") else "30")
    if key in ("7", "30", "90"):
        return key, today - dt.timedelta(days=int(key) - 1), today, ""
    date_from, date_to = _date(request.GET.get("from")), _date(request.GET.get("to"))
    try:
        date_from, date_to = metrics.check_period(date_from, date_to)
    except ValidationError as exc:
        return "30", today - dt.timedelta(days=29), today, exc.messages[0]
    return "custom", date_from, date_to, ""


def _node(request):
    raw = request.GET.get("node")
    if raw:
        return selectors.metric_node(request.user, raw if raw.isdigit() else -1)
    return selectors.default_node(request.user)


@login_required
def appeals_dashboard(request):
    """The page: pickers and empty chart boxes; ``appeals.js`` fetches the payload and draws."""
    _need(request.user)
    node = _node(request)
    key, date_from, date_to, error = _period(request)
    query = urlencode({"node": node.pk, "from": date_from.isoformat(), "to": date_to.isoformat()})
    chain = node_ancestors(node) + [node]
    crumbs = [{"node": n, "link": request.user.can(Perm.APPEALS_VIEW, n.path)} for n in chain]
    picker = selectors.picker_nodes(request.user, node)
    top = min((n.depth for n in picker), default=node.depth)
    for n in picker:
        n.indent = "\u3000" * (n.depth - top)  # ideographic spaces: the tree in a plain <select>
    return render(request, "dashboards/appeals.html", {
        "node": node, "crumbs": crumbs, "picker": picker,
        "periods": PERIODS, "period": key, "date_from": date_from, "date_to": date_to, "error": error,
        "data_url": f"{reverse('dashboards:appeals_data')}?{query}",
        "ledger_url": f"{reverse('dashboards:ledger')}?{query}",
        "page_url": reverse("dashboards:appeals"),
        "labels": {**{k: str(v) for k, v in metrics.LABELS.items()}, **{k: str(v) for k, v in UI_TEXT.items()},
                   "periods": {k: str(v) for k, v in PERIODS}},
    })


@login_required
def appeals_data(request):
    """The dashboard payload as JSON (``metrics.dashboard_payload``): one request draws the page."""
    _need(request.user)
    node = _node(request)
    try:
        payload = metrics.dashboard_payload(user=request.user, node=node, date_from=_date(request.GET.get("from")),
                                            date_to=_date(request.GET.get("to")))
    except ValidationError as exc:
        return JsonResponse({"detail": exc.messages}, status=400)
    response = JsonResponse(payload, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def ledger_xlsx(request):
    """问题台账 of a node and period as xlsx; audited as an export."""
    _need(request.user)
    node = _node(request)
    try:
        path, _count, filename = ledger.ledger_export(
            by=request.user, node=node, date_from=_date(request.GET.get("from")), date_to=_date(request.GET.get("to"))
        )
    except ValidationError as exc:
        return JsonResponse({"detail": exc.messages}, status=400)
    handle = open(path, "rb")
    os.unlink(path)  # the open handle keeps the data until the response is sent
    response = FileResponse(handle, as_attachment=True, content_type=XLSX_CONTENT_TYPE, filename=filename)
    response["Cache-Control"] = "no-store"
    return response

