"""Property-based fuzzing of the JSON API: Schemathesis generates requests from the committed OpenAPI (valid and
invalid values, boundary values, unexpected methods) for every operation, sends each in-process through the WSGI
application as the county admin and as a resident, and checks that no answer is a server error and that every
answer is one the OpenAPI documents: its status code, content type and body schema.

It writes (it files, dispatches, moves households, revokes tokens): only ever against the test database.
Bounded for the test suite (about a minute of CPU): Schemathesis' boundary and invalid cases for every
parameter, plus ``GONGZHI_FUZZ_EXAMPLES`` generated cases per operation (default 8), derandomized so that a run
repeats; no per-example deadline, as a busy machine would make one flaky. Raise the examples, or set
``GONGZHI_FUZZ_SEED`` for another walk, to search further. Each value found to break the API has its own
regression test in a normal test file (test_api_bounds.py, test_open311_bounds.py)"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from schemathesis import checks
from schemathesis.config import SchemathesisConfig

from gongzhi.accounts.actions import token_create
from gongzhi.core.access import Role
from gongzhi.api import OPENAPI_FILE
from gongzhi.appeals import actions
from gongzhi.appeals.models import Appeal, Channel
from gongzhi.orgs.models import Building, Compound, Household, OrgNode, PartyMember, PartyOrganization, Resident, Unit

from .appeals_factories import make_categories
from .factories import build_tree

EXAMPLES = int(os.environ.get("GONGZHI_FUZZ_EXAMPLES", "8"))
SEED = os.environ.get("GONGZHI_FUZZ_SEED")

CONFIG = SchemathesisConfig.from_dict({
    "suppress-health-check": ["all"],  # the database makes every example slow: that is expected here
    "cache": {"enabled": False},  # nothing written beside the tests
    **({"seed": int(SEED)} if SEED else {}),
    "generation": {
        "max-examples": EXAMPLES,
        "deterministic": not SEED,
        "database": "none",  # no .hypothesis/ directory either
        "with-security-parameters": False,  # the bearer token is ours, not generated
    },
    "phases": {"stateful": {"enabled": False}},
})
schema = schemathesis.openapi.from_path(OPENAPI_FILE, config=CONFIG)

CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.unsupported_method]


@pytest.fixture
def app(settings):
    """The WSGI application, as a server runs it; the test's transaction survives its requests (the test
    client does the same: Django would otherwise close the connection after each request)."""
    settings.ALLOWED_HOSTS = ["*"]
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


class World:
    """The test tree with appeals in most states, a token per caller, and the ids of what exists, so that
    generated ids can be aimed at real rows."""

    def __init__(self, tree):
        cats = make_categories()
        staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
        self.tokens = {role: token_create(user=tree.users[role], name="fuzz")[1]
                       for role in (Role.COUNTY_ADMIN, Role.RESIDENT)}

        def appeal(**kw):
            return actions.appeal_file(by=tree.users[Role.RESIDENT], category=cats["garbage"], title="垃圾没人清",
                                       description="3栋门口垃圾堆了三天", channel=Channel.ONLINE,
                                       reporter=tree.resident_a, **kw)

        appeal()  # submitted
        dispatched = appeal()
        actions.appeal_dispatch(appeal=dispatched, by=staff, to_node=tree.grid_a1)
        accepted = appeal()
        actions.appeal_dispatch(appeal=accepted, by=staff, to_node=tree.grid_a1)
        actions.appeal_accept(appeal=accepted, by=worker)
        resolved = appeal()
        actions.appeal_dispatch(appeal=resolved, by=staff, to_node=tree.grid_a1)
        actions.appeal_accept(appeal=resolved, by=worker)
        actions.appeal_resolve(appeal=resolved, by=worker, result="已清运")
        self.ids = {
            "node": list(OrgNode.objects.values_list("pk", flat=True)),
            "appeal": list(Appeal.objects.values_list("pk", flat=True)),
            "resident": list(Resident.objects.values_list("pk", flat=True)),
            "household": list(Household.objects.values_list("pk", flat=True)),
            "compound": list(Compound.objects.values_list("pk", flat=True)),
            "building": list(Building.objects.values_list("pk", flat=True)),
            "unit": list(Unit.objects.values_list("pk", flat=True)),
            "org": list(PartyOrganization.objects.values_list("pk", flat=True)),
            "member": list(PartyMember.objects.values_list("pk", flat=True)) or [1],
        }
        self.categories = sorted(c.code for c in cats.values() if hasattr(c, "code"))

    # Which table an id names, by the parameter or field name.
    KIND = {
        "node_id": "node", "parent": "node", "node": "node", "community": "node", "grid": "node",
        "handler_node": "node", "to_node_id": "node", "appeal_id": "appeal", "into_id": "appeal",
        "resident_id": "resident", "reporter_id": "resident", "household_id": "household", "household": "household",
        "compound_id": "compound", "compound": "compound", "building_id": "building", "building": "building",
        "unit_id": "unit", "handler_unit": "unit", "to_unit_id": "unit", "org_id": "org", "organization": "org",
        "member_id": "member",
    }

    def aim(self, values: dict | None) -> None:
        """Small generated ids (1 to 64) become ids of existing rows of the right table; larger ones stay, to
        ask for rows that are missing. A generated category code becomes a real one now and then."""
        if not isinstance(values, dict):
            return
        for name, value in list(values.items()):
            kind = self.KIND.get(name)
            number = int(value) if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 4 else value
            if kind and type(number) is int and 1 <= number <= 64:
                found = self.ids[kind]
                values[name] = type(value)(found[number % len(found)])
            elif name == "category" and isinstance(value, str) and len(value) % 3 == 0:
                values[name] = self.categories[len(value) % len(self.categories)]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for every operation (each one a test of its own, with its own transaction inside this one),
    and rolled back after the last."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield World(build_tree())
        transaction.set_rollback(True)


@schema.parametrize()
def test_the_api_answers_every_generated_request_as_documented(db, case, app, world):
    world.aim(case.path_parameters)
    world.aim(case.query)
    world.aim(case.body)
    # Schemathesis' boundary and invalid values (its coverage phase, most of the cases) as the admin; the
    # generated requests as both callers.
    coverage = case._meta is not None and case._meta.phase.name.value == "coverage"
    callers = (Role.COUNTY_ADMIN,) if coverage else (Role.COUNTY_ADMIN, Role.RESIDENT)
    for role in callers:
        response = case.call(app=app, headers={"Authorization": f"Bearer {world.tokens[role]}"})
        case.validate_response(response, checks=CHECKS)
