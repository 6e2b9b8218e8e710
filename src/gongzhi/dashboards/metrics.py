"""The appeal figures (docs/metrics.md): the three rates and the rest, per node and period, grouped by
child node, handling unit, category or grid worker; and the leaders' dashboard payload. All read
from the roll-ups, so a county's month is a few hundred rows whatever the size of the appeals table.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.accounts.models import User
from gongzhi.appeals.models import Category
from gongzhi.core.scoping import under
from gongzhi.orgs.models import OrgNode, Unit

from . import rollups, selectors
from .models import COUNTERS, AppealRollup

MAX_DAYS = 731  # two years: longer periods are reports, not a dashboard
GROUPS = ("child", "unit", "category", "worker")

# rate -> (numerator counters, denominator); docs/metrics.md says why each is what it is.
RATES = {
    "response_rate": (("responded_on_time",), "dispatched"),
    "resolution_rate": (("rated_resolved",), "rated"),
    "satisfaction_rate": (("satisfied", "basic"), "rated"),
    "on_time_rate": (("resolved_on_time",), "resolved"),
    "closure_rate": (("closed",), "valid"),
    "rework_rate": (("reworked",), "dispatched"),
}

LABELS = {
    "filed": gettext_lazy("Filed"),
    "valid": gettext_lazy("Valid appeals"),
    "voided": gettext_lazy("Voided"),
    "merged": gettext_lazy("Merged into another"),
    "open": gettext_lazy("Not closed yet"),
    "dispatched": gettext_lazy("Dispatched"),
    "responded": gettext_lazy("Accepted"),
    "responded_on_time": gettext_lazy("Accepted on time"),
    "resolved": gettext_lazy("Resolved"),
    "resolved_on_time": gettext_lazy("Resolved on time"),
    "closed": gettext_lazy("Closed"),
    "rated": gettext_lazy("Rated"),
    "rated_resolved": gettext_lazy("Rated as resolved"),
    "satisfied": gettext_lazy("Satisfied"),
    "basic": gettext_lazy("Basically satisfied"),
    "unsatisfied": gettext_lazy("Unsatisfied"),
    "callback": gettext_lazy("Rated in a callback"),
    "returned": gettext_lazy("Returned at least once"),
    "reopened": gettext_lazy("Reopened at least once"),
    "reworked": gettext_lazy("Returned or reopened"),
    "returns": gettext_lazy("Returns"),
    "reopens": gettext_lazy("Reopens"),
    "extended": gettext_lazy("Given more time"),
    "supervised": gettext_lazy("Supervised"),
    "response_rate": gettext_lazy("Response rate"),
    "resolution_rate": gettext_lazy("Resolution rate"),
    "satisfaction_rate": gettext_lazy("Satisfaction rate"),
    "on_time_rate": gettext_lazy("On-time resolution rate"),
    "closure_rate": gettext_lazy("Closure rate"),
    "rework_rate": gettext_lazy("Rework rate"),
    "avg_handling_hours": gettext_lazy("Average handling time (hours)"),
    "avg_handling_work_hours": gettext_lazy("Average handling time (working hours)"),
}
# The Chinese terms of the 12345 practice, for the ledger's summary sheet (a data format, like its headers).
CN_NAMES = {
    "filed": "受理诉求", "valid": "有效诉求", "voided": "作废", "merged": "合并", "open": "未结案",
    "dispatched": "已派单", "responded": "已签收", "responded_on_time": "按时签收", "resolved": "已办结",
    "resolved_on_time": "按期办结", "closed": "已结案", "rated": "已评价", "rated_resolved": "评价已解决",
    "satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意", "callback": "电话回访评价",
    "returned": "退过单", "reopened": "重办过", "reworked": "退单或重办", "returns": "退单次数",
    "reopens": "重办次数", "extended": "延期过", "supervised": "督办过",
    "response_rate": "响应率", "resolution_rate": "解决率", "satisfaction_rate": "满意率",
    "on_time_rate": "按期办结率", "closure_rate": "结案率", "rework_rate": "返工率",
    "avg_handling_hours": "平均办理时长（小时）", "avg_handling_work_hours": "平均办理时长（工作小时）",
}
COUNT_KEYS = ("filed", "valid", *(c for c in COUNTERS if not c.startswith("handling") and c != "filed"))
RATE_KEYS = tuple(RATES)
HOUR_KEYS = ("avg_handling_hours", "avg_handling_work_hours")
# What the ranking tables and charts need of each child node or handler.
_BRIEF = ("filed", "valid", "open", "resolved", "rated", "response_rate", "resolution_rate", "satisfaction_rate",
          "on_time_rate", "closure_rate", "rework_rate")


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def figures(counts: dict) -> dict:
    """Every figure from summed counters: the counts, ``valid``, the rates (0..1, None when nothing
    to divide by) and the average handling times in hours."""
    c = {name: int(counts.get(name) or 0) for name in COUNTERS}
    c["valid"] = c["filed"] - c["voided"] - c["merged"]
    out = {key: c[key] for key in COUNT_KEYS}
    for name, (numerators, denominator) in RATES.items():
        out[name] = _rate(sum(c[n] for n in numerators), c[denominator])
    out["avg_handling_hours"] = round(c["handling_seconds"] / c["resolved"] / 3600, 2) if c["resolved"] else None
    out["avg_handling_work_hours"] = (
        round(c["handling_work_seconds"] / c["resolved"] / 3600, 2) if c["resolved"] else None
    )
    return out


def _denominator(counts: dict, name: str) -> int:
    if name == "valid":
        return int(counts.get("filed", 0)) - int(counts.get("voided", 0)) - int(counts.get("merged", 0))
    return int(counts.get(name, 0))


def brief(counts: dict) -> dict:
    full = figures(counts)
    return {key: full[key] for key in _BRIEF}


def check_period(date_from: dt.date | None, date_to: dt.date | None) -> tuple[dt.date, dt.date]:
    """The period as given, or the last 30 days up to today (local); refused when backwards or too long."""
    date_to = date_to or timezone.localdate()
    date_from = date_from or date_to - dt.timedelta(days=29)
    if date_from > date_to:
        raise ValidationError(_("The period starts after it ends."))
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise ValidationError(_("Choose a period of at most %(days)s days.") % {"days": MAX_DAYS})
    return date_from, date_to


def node_ref(node: OrgNode) -> dict:
    return {"id": node.pk, "name": node.name, "kind": node.kind, "kind_label": str(node.get_kind_display())}


# --- groups ------------------------------------------------------------------------------------


def _by_child(node, date_from, date_to, shape=figures) -> list[dict]:
    sums = selectors.rollup_by_node(node, 1, date_from, date_to)
    return [
        {"key": str(c.pk), "id": c.pk, "name": c.name, "kind": c.kind, "figures": shape(sums.get(c.path, {}))}
        for c in selectors.children(node)
    ]


def handler_names(keys) -> dict[str, tuple[str, str, int | None]]:
    """Handler keys ("u12", "n0001000A", "") -> (name, kind, id)."""
    names = {"": (_("Waiting for dispatch"), "none", None)}
    units = [int(k[1:]) for k in keys if k.startswith("u")]
    paths = [k[1:] for k in keys if k.startswith("n")]
    for unit in Unit.objects.filter(pk__in=units):
        names[f"u{unit.pk}"] = (unit.name, "unit", unit.pk)
    for n in OrgNode.objects.filter(path__in=paths):
        names[f"n{n.path}"] = (n.name, n.kind, n.pk)
    return names


def _by_handler(node, date_from, date_to, shape=figures) -> list[dict]:
    sums = selectors.rollup_by_key(node, AppealRollup.Dim.HANDLER, date_from, date_to)
    names = handler_names(sums)
    rows = []
    for key, counts in sums.items():
        name, kind, pk = names.get(key, (key, "unknown", None))
        rows.append({"key": key, "id": pk, "name": name, "kind": kind, "figures": shape(counts)})
    return sorted(rows, key=lambda r: (-r["figures"]["filed"], r["name"]))


def _by_category(node, date_from, date_to, shape=figures) -> list[dict]:
    sums = selectors.rollup_by_key(node, AppealRollup.Dim.CATEGORY, date_from, date_to)
    cats = {str(c.pk): c for c in Category.objects.filter(pk__in=[int(k) for k in sums]).select_related("parent")}
    rows = []
    for key, counts in sums.items():
        cat = cats.get(key)
        name = (f"{cat.parent.name} / {cat.name}" if cat.parent_id else cat.name) if cat else key
        rows.append({"key": key, "id": int(key), "name": name, "kind": "category", "figures": shape(counts)})
    return sorted(rows, key=lambda r: (-r["figures"]["filed"], r["name"]))


def _by_worker(node, date_from, date_to, shape=figures) -> list[dict]:
    sums = selectors.rollup_by_worker(node, date_from, date_to)
    users = {str(u.pk): str(u) for u in User.objects.filter(pk__in=[int(k) for k in sums])}
    rows = [
        {"key": key, "id": int(key), "name": users.get(key, key), "kind": "worker", "figures": shape(counts)}
        for key, counts in sums.items()
    ]
    return sorted(rows, key=lambda r: (-r["figures"]["filed"], r["name"]))


_GROUPERS = {"child": _by_child, "unit": _by_handler, "category": _by_category, "worker": _by_worker}


# A figures read applies the changes still queued for the roll-ups only when there are this few (a few
# milliseconds each): a backlog is the worker's work (it catches up every tick), never a reader's.
READ_CATCH_UP = 50


def _catch_up() -> int:
    """Apply the few appeal changes still queued for the roll-ups, so the figures include every committed
    action; usually none, since the worker catches up every few seconds. With more queued (a burst of
    filings the worker is still counting) the read answers at once; returns how many changes the figures
    do not include yet (counted up to ``READ_CATCH_UP + 1``), for the page to say so."""
    if not rollups.pending():  # one indexed look when nothing is queued, which is most of the time
        return 0
    if rollups.waiting(READ_CATCH_UP + 1) > READ_CATCH_UP:
        return rollups.waiting(READ_CATCH_UP + 1)
    rollups.catch_up(limit=READ_CATCH_UP, wait=False)
    return rollups.waiting(READ_CATCH_UP + 1)


def metrics(*, user, node, date_from: dt.date | None, date_to: dt.date | None, group: str | None = None) -> dict:
    """The figures of the appeals filed under ``node`` (an OrgNode or its id) in the period (local
    days, both inclusive), optionally grouped by ``child`` node, handling ``unit``, ``category`` or
    grid ``worker``. A node outside the user's area raises Http404; a bad period ValidationError."""
    if group is not None and group not in GROUPS:
        raise ValidationError(_("Group by one of: %(groups)s.") % {"groups": ", ".join(GROUPS)})
    node = selectors.metric_node(user, node)
    date_from, date_to = check_period(date_from, date_to)
    waiting = _catch_up()
    out = {
        "node": node_ref(node),
        "waiting": waiting,
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
        "figures": figures(selectors.rollup_total(node, date_from, date_to)),
        "group": group,
        "groups": [],
    }
    if group:
        out["groups"] = _GROUPERS[group](node, date_from, date_to)
    return out


# --- the dashboard -----------------------------------------------------------------------------


def _appeal_url(pk: int) -> str:
    try:
        return reverse("appeals:detail", args=[pk])
    except NoReverseMatch:  # the staff pages are not mounted (a trimmed deployment)
        return ""


def _trend(by_day: dict, date_from, date_to) -> dict:
    days, series = [], {k: [] for k in ("filed", "resolved", "closed", "response_rate", "satisfaction_rate",
                                        "on_time_rate")}
    day = date_from
    while day <= date_to:
        f = figures(by_day.get(day, {}))
        days.append(day.isoformat())
        for key, values in series.items():
            values.append(f[key])
        day += dt.timedelta(days=1)
    return {"days": days, **series}


def _top_categories(node, date_from, date_to) -> list[dict]:
    """Figures per top-level category (a parent sums its children), most appeals first."""
    sums = selectors.rollup_by_key(node, AppealRollup.Dim.CATEGORY, date_from, date_to)
    cats = Category.objects.values_list("pk", "parent_id", "name")
    parents = {pk: parent for pk, parent, _name in cats}
    names = {pk: name for pk, _parent, name in cats}
    tops: dict[int, dict] = {}
    for key, counts in sums.items():
        pk, seen = int(key), set()
        while parents.get(pk) and pk not in seen:  # up to the top of the category tree
            seen.add(pk)
            pk = parents[pk]
        total = tops.setdefault(pk, dict.fromkeys(COUNTERS, 0))
        for name in COUNTERS:
            total[name] += counts.get(name, 0)
    rows = [{"id": pk, "name": names.get(pk, str(pk)), **brief(c)} for pk, c in tops.items()]
    return sorted(rows, key=lambda r: (-r["filed"], r["name"]))


def _places(node, date_from, date_to) -> tuple[list[dict], list[dict]]:
    """The children ranking and the heat view (children with their own children), from one query."""
    sums = selectors.rollup_by_node(node, 2, date_from, date_to)
    below = list(
        OrgNode.objects.filter(under(node.path, "path"), depth__in=(node.depth + 1, node.depth + 2))
        .order_by("path").values("id", "path", "name", "kind", "depth")
    )
    ranking, heat, by_path = [], [], {}
    for n in below:
        counts = sums.get(n["path"], {})
        if n["depth"] == node.depth + 1:
            ranking.append({"id": n["id"], "name": n["name"], "kind": n["kind"], **brief(counts)})
            item = {"id": n["id"], "name": n["name"], "value": int(counts.get("filed", 0)),
                    "open": int(counts.get("open", 0)), "children": []}
            heat.append(item)
            by_path[n["path"]] = item
        else:
            parent = by_path.get(n["path"][: -OrgNode.steplen])
            if parent is not None:
                parent["children"].append({"id": n["id"], "name": n["name"], "value": int(counts.get("filed", 0)),
                                           "open": int(counts.get("open", 0))})
    for item in heat:
        if not item["children"]:
            del item["children"]
    return ranking, heat


def dashboard_payload(*, user, node, date_from: dt.date | None, date_to: dt.date | None) -> dict:
    """Everything the leaders' dashboard draws, in one dict: the figures, the daily trend, categories,
    the ranking of child nodes and of handlers, the grid heat view and the appeals overdue now."""
    node = selectors.metric_node(user, node)
    date_from, date_to = check_period(date_from, date_to)
    waiting = _catch_up()
    now = timezone.now()
    by_day = selectors.rollup_by_day(node, date_from, date_to)
    total: dict = {}
    for counts in by_day.values():
        selectors.add_counts(total, counts)
    ranking, heat = _places(node, date_from, date_to)
    count, late = selectors.overdue(node, now=now)
    handlers = [
        {"key": r["key"], "id": r["id"], "name": r["name"], "kind": r["kind"], **r["figures"]}
        for r in _by_handler(node, date_from, date_to, shape=brief)
    ]
    return {
        "node": node_ref(node),
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
        "generated_at": timezone.localtime(now).isoformat(timespec="seconds"),
        "waiting": waiting,
        "waiting_cap": READ_CATCH_UP,  # ``waiting`` above this means "more than this many"
        "figures": figures(total),
        # numerator and denominator of each rate, for "12 / 15" under the percentage
        "rate_parts": {
            name: [sum(int(total.get(n, 0)) for n in numerators), _denominator(total, denominator)]
            for name, (numerators, denominator) in RATES.items()
        },
        "trend": _trend(by_day, date_from, date_to),
        "categories": _top_categories(node, date_from, date_to),
        "children": ranking,
        "handlers": handlers,
        "heat": heat,
        "overdue": {
            "count": count,
            "items": [
                {
                    "id": a.pk, "number": a.number, "title": a.title, "category": a.category.name,
                    "place": a.node.name, "handler": str(a.handler_unit or a.handler_node or _("Waiting for dispatch")),
                    "status": str(a.get_status_display()),
                    "resolve_due": timezone.localtime(a.resolve_due).strftime("%Y-%m-%d %H:%M"),
                    "hours_over": int((now - a.resolve_due).total_seconds() // 3600),
                    "url": _appeal_url(a.pk),
                }
                for a in late
            ],
        },
    }
