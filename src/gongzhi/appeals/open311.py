"""Open311 GeoReport v2 at /open311/v2/ in JSON and XML: discovery, services, service definitions,
requests (POST with an api_key, GET public), tokens, and the ``servicerequestupdates`` extension.

Our states map onto the two Open311 states (docs/open311.md): an appeal is ``open`` while the loop runs
(submitted, dispatched, accepted, resolved, verified) and ``closed`` once it has ended (closed, voided,
merged); ``status_notes`` says where it really stands, in the reader's language (Chinese by default).
``service_request_id`` is the appeal number residents see; ``address_id`` is the id of the org node
(grid, micro-grid, community) the request was placed in.

The GET methods are public, as the specification says: they never carry the reporter's name, phone or
e-mail, a household's address is replaced by the name of its grid, and phone or ID numbers typed into
the text are masked.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Prefetch, Q, Value
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from gongzhi.core.pii import mask_id_number, mask_phone
from gongzhi.core.scoping import under
from gongzhi.core.text import TextError, clean_block, clean_line
from gongzhi.orgs.models import Building, Compound, NodeKind, OrgNode

from . import routing
from .actions import open311 as clients
from .models import ENDED_STATUSES, Appeal, AppealEvent, Category, Status, TimeUnit

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
DEFAULT_SPAN = dt.timedelta(days=90)  # the specification's default window ...
MAX_RESULTS = 1000  # ... and its default cap, whichever is smaller
MAX_SKIPPED = 100_000  # page and page_size reach this far into a window at most: narrow the window beyond
FIRST_YEAR, LAST_YEAR = 1900, 2999  # dates outside these years are refused (the API's days: core.api)
MAX_DISTANCE_KM = 10  # a point farther than this from every grid is outside the client's area
_PLACE_KINDS = (NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.GRID, NodeKind.MICRO_GRID)

# Which timeline steps are public status updates (the servicerequestupdates extension).
UPDATE_KINDS = ("file", "dispatch", "accept", "return", "resolve", "verify", "verify_reject", "close", "reopen",
                "merge", "void_decide", "extension_decide")


def open311_status(status: str) -> str:
    """Our eight states onto Open311's two."""
    return "closed" if status in ENDED_STATUSES else "open"


# --- output: JSON or XML -------------------------------------------------------------------------------

# In XML a list is an element holding one child per item; these are the items' element names.
_ITEM_TAGS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


def _xml_into(parent: ET.Element, tag: str, value) -> None:
    element = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, item in value.items():
            _xml_into(element, key, item)
    elif isinstance(value, list):
        for item in value:
            _xml_into(element, _ITEM_TAGS[tag], item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def _xml(root_tag: str, item_tag: str | None, data) -> bytes:
    root = ET.Element(root_tag)
    if item_tag is None:
        for key, value in data.items():
            _xml_into(root, key, value)
    else:
        for item in data:
            _xml_into(root, item_tag, item)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def _respond(fmt: str, root_tag: str, item_tag: str | None, data, status: int = 200, public: bool = True):
    if fmt == "xml":
        response = HttpResponse(_xml(root_tag, item_tag, data), status=status, content_type="text/xml; charset=utf-8")
    else:
        response = HttpResponse(json.dumps(data, ensure_ascii=False), status=status,
                                content_type="application/json; charset=utf-8")
    if public:
        response["Access-Control-Allow-Origin"] = "*"  # public data, for web clients on other sites
    return response


def _errors(fmt: str, status: int, *descriptions: str):
    data = [{"code": status, "description": str(d)} for d in descriptions]
    return _respond(fmt, "errors", "error", data, status=status)


class Open311Error(Exception):
    def __init__(self, status: int, *descriptions: str):
        super().__init__(*descriptions)
        self.status, self.descriptions = status, descriptions


def _w3(moment: dt.datetime | None) -> str | None:
    """W3C datetime with the offset, as the specification asks (2025-06-01T08:15:30+08:00)."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def _moment(raw: str, name: str) -> dt.datetime:
    """A W3C date and time (or a date: its midnight here), in the years FIRST_YEAR to LAST_YEAR."""
    value = (raw or "").strip().replace(" ", "+")  # a "+08:00" sent unencoded arrives as " 08:00"
    try:
        # Both raise ValueError for a well-formed impossible value (month 13, day 45, offset +99:00).
        moment = parse_datetime(value)
        if moment is None and (day := parse_date(value)) is not None:
            moment = dt.datetime.combine(day, dt.time())
    except ValueError:
        moment = None
    if moment is None or not value.isascii():
        raise Open311Error(400, _("%(name)s must be a W3C date and time, e.g. 2025-06-01T08:00:00+08:00.")
                           % {"name": name})
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise Open311Error(400, _("%(name)s must lie in the years %(first)s to %(last)s.")
                           % {"name": name, "first": FIRST_YEAR, "last": LAST_YEAR})
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _window(request) -> tuple[dt.datetime, dt.datetime]:
    """start_date/end_date; a side left out is the other one plus or minus 90 days, both left out the last 90."""
    start = _moment(request.GET["start_date"], "start_date") if request.GET.get("start_date") else None
    end = _moment(request.GET["end_date"], "end_date") if request.GET.get("end_date") else None
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - DEFAULT_SPAN
    if end is None:
        end = start + DEFAULT_SPAN
    if end < start:
        raise Open311Error(400, _("end_date is before start_date."))
    return start, end


def _whole(raw: str | None, default: int) -> int:
    """A whole number written in ASCII digits (no sign, no spaces, no underscores), at most nine of them."""
    raw = (raw or "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", raw):
        raise Open311Error(400, _("page and page_size must be whole numbers."))
    return int(raw)


def _page(request) -> tuple[int, int]:
    """The widely implemented page/page_size extension; by default the first 1000."""
    page, size = _whole(request.GET.get("page"), 1), _whole(request.GET.get("page_size"), MAX_RESULTS)
    if page < 1 or not 1 <= size <= MAX_RESULTS:
        raise Open311Error(400, _("page starts at 1; page_size is 1 to %(max)s.") % {"max": MAX_RESULTS})
    if (page - 1) * size > MAX_SKIPPED:
        raise Open311Error(400, _("Pages reach at most %(max)s requests into a window: choose a shorter "
                                  "window with start_date and end_date.") % {"max": f"{MAX_SKIPPED:,}"})
    return (page - 1) * size, size


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _refuse_nul(values) -> None:
    """Text with a NUL character cannot be stored (PostgreSQL) nor matched: 400 instead of a failing query."""
    if _has_nul(values):
        raise Open311Error(400, _("Parameters must not contain NUL characters."))


def _refuse_nul_arguments(request) -> None:
    """A query argument with a NUL character: 400 naming the argument."""
    for key in request.GET:
        if _has_nul(request.GET.getlist(key)):
            raise Open311Error(400, f"{key}: " + _("Parameters must not contain NUL characters."))


def _codes(raw: str, name: str) -> list[str]:
    """A comma-separated argument (at most MAX_RESULTS values are looked at); a control character in it is
    a 400 (core.text), not a database error."""
    try:
        return [clean_line(c) for c in (raw or "").split(",") if c.strip()][:MAX_RESULTS]
    except TextError as exc:
        raise Open311Error(400, exc.message(name)) from None


def _open311_view(methods):
    """Turn Open311Error into the specification's error list, in the requested format."""

    def wrap(view):
        def inner(request, *args, fmt, **kwargs):
            try:
                _refuse_nul_arguments(request)
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as exc:
                return _errors(fmt, exc.status, *exc.descriptions)

        inner.__name__ = view.__name__
        inner.__doc__ = view.__doc__
        return require_http_methods(methods)(inner)

    return wrap


# --- public text: no personal data ------------------------------------------------------------------------

_MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID_RE = re.compile(r"(?<![\dXx])\d{17}[\dXx](?![\dXx])")


def redact(text: str) -> str:
    """Mask phone and ID numbers a reporter or handler typed into free text."""
    text = _ID_RE.sub(lambda m: mask_id_number(m.group(0)), text or "")
    return _MOBILE_RE.sub(lambda m: mask_phone(m.group(0)), text)


class Places:
    """Readable names of org nodes ("富林镇城东社区第一网格"), from one query for a whole list."""

    def __init__(self, nodes):
        paths = {node.path for node in nodes if node is not None}
        wanted = {p[:i] for p in paths for i in range(OrgNode.steplen * 2, len(p) + 1, OrgNode.steplen)}
        self.names = dict(OrgNode.objects.filter(path__in=wanted).values_list("path", "name")) if wanted else {}

    def label(self, node: OrgNode | None) -> str:
        if node is None:
            return ""
        step = OrgNode.steplen
        # The county (the top of the tree) is the jurisdiction itself and left out.
        parts = [self.names.get(node.path[:i], "") for i in range(step * 2, len(node.path) + 1, step)]
        return "".join(parts) or node.name


def _duration(amount: int, unit: str) -> str:
    return f"{amount} {TimeUnit(unit).label}"


class Notices:
    """service_notice per category: the deadlines its policy promises."""

    def __init__(self):
        self.cache: dict[int, str] = {}

    def __call__(self, category: Category) -> str:
        if category.pk not in self.cache:
            policy = routing.policy_for(category)
            self.cache[category.pk] = _(
                "Answered within %(response)s and resolved within %(resolve)s; working days follow the official "
                "calendar."
            ) % {"response": _duration(policy.response_amount, policy.response_unit),
                 "resolve": _duration(policy.resolve_amount, policy.resolve_unit)}
        return self.cache[category.pk]


def _agency(appeal: Appeal, places: Places) -> str:
    if appeal.handler_unit_id:
        return appeal.handler_unit.name
    return places.label(appeal.handler_node or appeal.owner_node)


def status_notes(appeal: Appeal, places: Places) -> str:
    """Where the appeal stands, in a sentence; the result once resolved."""
    handler = _agency(appeal, places)
    result = redact(appeal.result)
    notes = {
        Status.SUBMITTED: _("Received; waiting to be dispatched."),
        Status.DISPATCHED: _("Dispatched to %(handler)s; waiting to be accepted."),
        Status.ACCEPTED: _("Accepted by %(handler)s and being handled."),
        Status.RESOLVED: _("Resolved by %(handler)s, waiting to be checked: %(result)s"),
        Status.VERIFIED: _("Resolved and checked: %(result)s"),
        Status.CLOSED: _("Closed: %(result)s"),
        Status.VOIDED: _("Voided: not taken up (a duplicate, a prank or filed by mistake)."),
        Status.MERGED: _("Merged into request %(into)s and handled there."),
    }
    into = appeal.merged_into.number if appeal.merged_into_id else ""
    return notes[appeal.status] % {"handler": handler, "result": result, "into": into}


def _public_address(appeal: Appeal, places: Places) -> str:
    # A household's address would tell the world where the reporter lives: name the grid instead.
    if appeal.household_id or not appeal.address:
        return places.label(appeal.node)
    return redact(appeal.address)


def request_data(appeal: Appeal, places: Places, notices: Notices) -> dict:
    """One service request as the specification lists its fields; nothing personal."""
    lat = appeal.lat if appeal.lat is not None else appeal.node.lat
    lng = appeal.lng if appeal.lng is not None else appeal.node.lng
    file_event = appeal.file_events[0] if getattr(appeal, "file_events", None) else None
    return {
        "service_request_id": appeal.number,
        "status": open311_status(appeal.status),
        "status_notes": status_notes(appeal, places),
        "service_name": appeal.category.name,
        "service_code": appeal.category.code,
        "description": redact(appeal.description),
        "agency_responsible": _agency(appeal, places),
        "service_notice": notices(appeal.category),
        "requested_datetime": _w3(appeal.submitted_at),
        "updated_datetime": _w3(appeal.updated_at),
        "expected_datetime": _w3(appeal.resolve_due),
        "address": _public_address(appeal, places),
        "address_id": str(appeal.node_id),
        "zipcode": None,
        "lat": lat,
        "long": lng,
        "media_url": (file_event.data.get("media_url") if file_event else None) or None,
    }


def _public_requests():
    """Public Open311 reads are unscoped by design (the specification's GET methods need no key) and
    give out only the fields of ``request_data``."""
    file_events = Prefetch("events", queryset=AppealEvent.objects.filter(kind="file"), to_attr="file_events")
    return Appeal.objects.select_related(
        "category", "node", "owner_node", "handler_node", "handler_unit", "merged_into"
    ).prefetch_related(file_events)


def _render_requests(fmt: str, appeals: list[Appeal], status: int = 200):
    places = Places([n for a in appeals for n in (a.node, a.owner_node, a.handler_node)])
    notices = Notices()
    return _respond(fmt, "service_requests", "request", [request_data(a, places, notices) for a in appeals],
                    status=status)


# --- discovery and services ----------------------------------------------------------------------------------


@_open311_view(["GET"])
def discovery(request, fmt):
    """Service discovery: where the endpoint is and which formats it speaks."""
    url = request.build_absolute_uri(reverse("open311:root"))
    data = {
        "changeset": _w3(timezone.now().replace(microsecond=0)),
        "contact": _("Ask the county administrator for an api_key."),
        "key_service": _("api_keys are issued by the county administrator on the Open311 keys page."),
        "endpoints": [{
            "specification": SPEC_URL, "url": url.rstrip("/"), "changeset": None, "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    }
    return _respond(fmt, "discovery", None, data)


def _service(category: Category) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": bool(category.form_fields),
        "type": "realtime",
        "keywords": category.keywords,
        "group": category.parent.name if category.parent_id else "",
    }


def _active_categories():
    return Category.objects.filter(is_active=True).select_related("parent", "policy")


@_open311_view(["GET"])
def services(request, fmt):
    """GET services: every active category."""
    return _respond(fmt, "services", "service", [_service(c) for c in _active_categories()])


def attributes(category: Category) -> list[dict]:
    """The category's form fields as Open311 attributes, in their order."""
    out = []
    for n, field in enumerate(category.form_fields or [], start=1):
        out.append({
            "variable": True,
            "code": field.get("code", ""),
            "datatype": field.get("datatype", "string"),
            "required": bool(field.get("required")),
            "datatype_description": field.get("datatype_description", ""),
            "order": field.get("order", n),
            "description": field.get("description", ""),
            "values": [{"key": str(v.get("key", "")), "name": v.get("name", "")} for v in field.get("values", [])],
        })
    return sorted(out, key=lambda a: a["order"])


def _category(code: str) -> Category:
    category = _active_categories().filter(code=code).first()
    if category is None:
        raise Open311Error(404, _("There is no service with the code %(code)s.") % {"code": code})
    return category


@_open311_view(["GET"])
def service_definition(request, code, fmt):
    """GET service definition: the attributes a request of this service carries."""
    category = _category(code)
    return _respond(fmt, "service_definition", None,
                    {"service_code": category.code, "attributes": attributes(category)})


# --- POST requests ----------------------------------------------------------------------------------------


class _Form:
    """The request's fields, form-encoded as the specification says, or JSON."""

    def __init__(self, request):
        self.files = request.FILES
        if request.content_type == "application/json":
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                raise Open311Error(400, _("The body is not valid JSON.")) from None
            if not isinstance(body, dict):
                raise Open311Error(400, _("The body must be a JSON object."))
            self.data = body
            self.lists = {}
        else:
            self.data = {k: request.POST.get(k) for k in request.POST}
            self.lists = {k: request.POST.getlist(k) for k in request.POST}
        for key in ("api_key", "jurisdiction_id"):
            if not self.data.get(key) and request.GET.get(key):
                self.data[key] = request.GET[key]
        _refuse_nul([self.data, self.lists])

    def get(self, key: str, *, lines: bool = False) -> str:
        """A field as text by the platform's rule (core.text): one line, or several for ``lines``; a control
        character is a 400 naming the field."""
        value = self.data.get(key)
        try:
            return "" if value is None else (clean_block if lines else clean_line)(str(value))
        except TextError as exc:
            raise Open311Error(400, exc.message(key)) from None

    def attributes(self) -> dict:
        """attribute[code]=value, attribute[code][]=a&attribute[code][]=b, or JSON {"attribute": {...}}."""
        out = {}
        nested = self.data.get("attribute")
        if isinstance(nested, dict):
            out.update(nested)
        for key, value in self.data.items():
            match = re.fullmatch(r"attribute\[([^\]]+)\](\[\])?", key)
            if match:
                many = match.group(2) or isinstance(value, list)
                values = self.lists.get(key) or (value if isinstance(value, list) else [value])
                out[match.group(1)] = list(values) if many else values[-1]
        return out


def _float(form: _Form, key: str, low: float, high: float) -> float | None:
    raw = form.get(key)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not low <= value <= high:
        raise Open311Error(400, _("%(name)s must be a number from %(low)s to %(high)s.")
                           % {"name": key, "low": low, "high": high})
    return value


def _km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def _jurisdiction(client) -> Q:
    return under(client.node.path, "path") & Q(is_active=True)


def place_from_point(client, lat: float, lng: float) -> OrgNode:
    """The nearest grid or micro-grid centre; it must lie inside the client's area. (The nearest of the
    whole tree, not of the area: a point by another town's grid belongs to that town.)"""
    box = MAX_DISTANCE_KM / 111.0
    wide = box / max(math.cos(math.radians(lat)), 0.1)
    candidates = OrgNode.objects.filter(
        is_active=True, kind__in=(NodeKind.GRID, NodeKind.MICRO_GRID),
        lat__range=(lat - box, lat + box), lng__range=(lng - wide, lng + wide),
    ).only("id", "path", "kind", "lat", "lng", "name")
    best = min(candidates, key=lambda n: _km(lat, lng, n.lat, n.lng), default=None)
    too_far = best is None or _km(lat, lng, best.lat, best.lng) > MAX_DISTANCE_KM
    if too_far or not best.path.startswith(client.node.path):
        raise Open311Error(400, _("This location lies outside the area this service covers."))
    return best


def _longest_in(text: str, qs, field: str = "name"):
    """The row whose ``field`` occurs in ``text``, the longest such (one query, both databases)."""
    rows = qs.annotate(_text=Value(text)).filter(_text__contains=F(field))
    return max(rows, key=lambda r: len(getattr(r, field)), default=None)


def place_from_address(client, text: str) -> OrgNode:
    """A typed address placed by the compound (and building) or the community / grid names it mentions."""
    area = client.node.path
    compound = _longest_in(text, Compound.objects.filter(under(area)).prefetch_related("grids"))
    if compound is not None:
        rest = text.split(compound.name, 1)[1]
        buildings = Building.objects.filter(compound=compound).select_related("grid")
        building = _longest_in(rest, buildings) if rest else None
        if building is not None:
            return building.grid
        grids = list(compound.grids.all())
        return grids[0] if len(grids) == 1 else compound.community
    community = _longest_in(text, OrgNode.objects.filter(_jurisdiction(client), kind=NodeKind.COMMUNITY))
    if community is not None:
        # Grid names ("第一网格") repeat between communities: only the named community's count.
        grids = OrgNode.objects.filter(under(community.path, "path"), is_active=True,
                                       kind__in=(NodeKind.GRID, NodeKind.MICRO_GRID))
        return _longest_in(text, grids) or community
    subdistrict = _longest_in(text, OrgNode.objects.filter(_jurisdiction(client), kind=NodeKind.SUBDISTRICT))
    if subdistrict is not None:
        return subdistrict
    raise Open311Error(400, _("This address could not be found in the area this service covers; send lat and long."))


def place_from_id(client, raw: str) -> OrgNode:
    # ASCII digits only (str.isdigit() takes "²", which int() refuses), and an id a row can have.
    pk = int(raw) if re.fullmatch(r"[0-9]{1,18}", raw) else 0
    node = OrgNode.objects.filter(_jurisdiction(client), pk=pk, kind__in=_PLACE_KINDS).first()
    if node is None:
        raise Open311Error(400, _("address_id is not a place in the area this service covers."))
    return node


def _description(category: Category, text: str, answers: dict) -> str:
    """The description is optional in Open311; without one, the service and the answers describe it."""
    if text:
        return text
    labels = {f.get("code"): f for f in category.form_fields or []}
    parts = []
    for code, value in answers.items():
        field = labels.get(code, {})
        names = {str(v.get("key")): v.get("name") for v in field.get("values", [])}
        values = value if isinstance(value, list) else [value]
        parts.append(f"{field.get('description') or code}：{'、'.join(names.get(str(v), str(v)) for v in values)}")
    return "；".join([category.name, *parts])


def _person(first: str, last: str) -> str:
    if re.search(r"[\u3400-\u9fff]", first + last):
        return f"{last}{first}"  # Chinese names: family name first, no space
    return f"{first} {last}".strip()


@dataclass
class _Filed:
    appeal: Appeal
    account_id: str


def _create(request, fmt) -> _Filed:
    form = _Form(request)
    client = clients.client_for_key(form.get("api_key"))
    if client is None:
        raise Open311Error(403, _("The api_key is missing, unknown or revoked."))
    code = form.get("service_code")
    if not code:
        raise Open311Error(400, _("service_code is required."))
    category = _category(code)
    lat = _float(form, "lat", -90, 90)
    lng = _float(form, "long", -180, 180)
    address = form.get("address_string")
    if (lat is None) != (lng is None):
        raise Open311Error(400, _("Send lat and long together."))
    if lat is not None:
        place = place_from_point(client, lat, lng)
    elif form.get("address_id"):
        place = place_from_id(client, form.get("address_id"))
    elif address:
        place = place_from_address(client, address)
    else:
        raise Open311Error(400, _("Say where: lat and long, address_string or address_id."))
    answers = form.attributes()
    try:
        appeal = clients.open311_request_file(
            client=client, category=category, node=place, attributes=answers, address=address, lat=lat, lng=lng,
            description=_description(category, form.get("description", lines=True), answers),
            reporter_name=_person(form.get("first_name"), form.get("last_name")), reporter_phone=form.get("phone"),
            email=form.get("email"), account_id=form.get("account_id"), device_id=form.get("device_id"),
            media_url=form.get("media_url"), photos=form.files.getlist("media"),
        )
    except PermissionDenied as exc:
        raise Open311Error(403, str(exc)) from None
    except ValidationError as exc:
        raise Open311Error(400, *exc.messages) from None
    return _Filed(appeal, form.get("account_id"))


@csrf_exempt
@_open311_view(["GET", "POST"])
def requests_(request, fmt):
    """POST a service request (with an api_key), or GET requests with the specification's filters."""
    if request.method == "POST":
        filed = _create(request, fmt)
        notice = Notices()(filed.appeal.category)
        data = [{"service_request_id": filed.appeal.number, "service_notice": notice,
                 "account_id": filed.account_id or None}]
        return _respond(fmt, "service_requests", "request", data, status=201, public=False)
    qs = _public_requests()
    ids = _codes(request.GET.get("service_request_id", ""), "service_request_id")
    if ids:
        # The specification: service_request_id overrides every other argument.
        return _render_requests(fmt, list(qs.filter(number__in=ids[:MAX_RESULTS]).order_by("-submitted_at", "-id")))
    start, end = _window(request)
    qs = qs.filter(submitted_at__gte=start, submitted_at__lte=end)
    if codes := _codes(request.GET.get("service_code", ""), "service_code"):
        qs = qs.filter(category__code__in=codes)
    if states := _codes(request.GET.get("status", "").lower(), "status"):
        if not set(states) <= {"open", "closed"}:
            raise Open311Error(400, _("status is open, closed or both (comma-separated)."))
        if states == ["open"]:
            qs = qs.exclude(status__in=ENDED_STATUSES)
        elif states == ["closed"]:
            qs = qs.filter(status__in=ENDED_STATUSES)
    offset, size = _page(request)
    return _render_requests(fmt, list(qs.order_by("-submitted_at", "-id")[offset:offset + size]))


@_open311_view(["GET"])
def request_detail(request, request_id, fmt):
    """GET one service request (a list of one, as the specification shows)."""
    appeal = _public_requests().filter(number=request_id).first()
    if appeal is None:
        raise Open311Error(404, _("There is no service request %(id)s.") % {"id": request_id})
    return _render_requests(fmt, [appeal])


@_open311_view(["GET"])
def token(request, token, fmt):
    """GET a request id from a token. Requests are created in real time, so the token we would have given
    out is the service_request_id itself."""
    appeal = Appeal.objects.filter(number=token).only("number").first()
    if appeal is None:
        raise Open311Error(404, _("There is no service request for the token %(token)s.") % {"token": token})
    return _respond(fmt, "service_requests", "request", [{"service_request_id": appeal.number, "token": token}])


# --- the servicerequestupdates extension --------------------------------------------------------------------


def update_text(event: AppealEvent) -> str:
    """The public line for one step of the timeline (notes other than the result stay inside)."""
    data = event.data or {}
    texts = {
        "file": _("Request received."),
        "dispatch": _("Dispatched to %(to)s.") % {"to": data.get("to", "")},
        "accept": _("Accepted; being handled."),
        "return": _("Sent back to be dispatched again."),
        "resolve": _("Resolved: %(result)s") % {"result": redact(event.note)},
        "verify": _("Checked: the work is done."),
        "verify_reject": _("Checked: more work is needed; back to the handler."),
        "close": _("Closed."),
        "reopen": _("Reopened: to be handled again."),
        "merge": _("Merged into request %(into)s and handled there.") % {"into": data.get("into", "")},
        "void_decide": _("Voided: not taken up."),
        "extension_decide": _("More time granted: %(days)s more working days.") % {"days": data.get("days", "")},
    }
    return texts[event.kind]


def _public_updates():
    # Rejected extension or void requests change nothing a member of the public would see.
    refused = Q(kind__in=("void_decide", "extension_decide"), data__approved=False)
    return (AppealEvent.objects.filter(kind__in=UPDATE_KINDS, public=True).exclude(refused)
            .select_related("appeal"))


@_open311_view(["GET"])
def updates(request, fmt):
    """GET servicerequestupdates (the FixMyStreet extension): public steps in time order, newest last."""
    qs = _public_updates()
    if ids := _codes(request.GET.get("service_request_id", ""), "service_request_id"):
        qs = qs.filter(appeal__number__in=ids[:MAX_RESULTS])
    start, end = _window(request)
    qs = qs.filter(at__gte=start, at__lte=end)
    offset, size = _page(request)
    data = [
        {
            "update_id": str(e.pk),
            "service_request_id": e.appeal.number,
            "status": open311_status(e.to_status),
            "updated_datetime": _w3(e.at),
            "description": update_text(e),
            "media_url": None,
        }
        for e in qs.order_by("at", "id")[offset:offset + size]
    ]
    return _respond(fmt, "service_requests_updates", "request_update", data)
