"""What each app contributes to the demo, the benchmarks, a county's set-up checklist and the list of a person's
open work, registered from its ``AppConfig.ready``.

The ``demo`` and ``bench`` packages sit above every app and run what is registered here, so a new app
adds its demo data or its benchmark without editing a central file (as ``appeals.events.listen`` lets an
app hear the appeals loop). Parts are named by dotted paths and imported only when run.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class DemoPart:
    """``load(seed=, scale=, say=)`` fills the demo database with this app's part, once: it checks itself
    whether its data is there already (a restarted demo runs every part again)."""

    name: str
    load: str  # dotted path
    order: int

    def run(self, **kwargs):
        return import_string(self.load)(**kwargs)


@dataclass(frozen=True)
class BenchSuite:
    """A module with ``add_arguments(parser)`` (optional) and ``main(options, log)``: ``gongzhi bench NAME``."""

    name: str
    module: str  # dotted path

    def load(self):
        from importlib import import_module

        return import_module(self.module)


_DEMO: dict[str, DemoPart] = {}
_BENCH: dict[str, BenchSuite] = {}


def demo_part(name: str, load: str, *, order: int) -> None:
    """Register a demo part; ``order`` places it after the parts it builds on (the county is 10)."""
    _DEMO[name] = DemoPart(name, load, order)


def demo_parts() -> list[DemoPart]:
    return sorted(_DEMO.values(), key=lambda p: (p.order, p.name))


def bench_suite(name: str, module: str) -> None:
    _BENCH[name] = BenchSuite(name, module)


def bench_suites() -> dict[str, BenchSuite]:
    return dict(sorted(_BENCH.items()))


# --- the set-up checklist -----------------------------------------------------------------------------
#
# What a county has set up, shown to whoever manages its set-up (``orgs.setup``): each app registers the
# steps it owns from its ``AppConfig.ready`` (the tree, places and residents by orgs, staff accounts by
# accounts, categories and routing and the calendar by appeals, group robots by notify), so the checklist
# knows no app and no app imports another to be listed.


@dataclass(frozen=True)
class StepState:
    """Where one step stands for a county: ``count`` of what is there (None: nothing to count), the page that
    does it, and whether it is done."""

    count: int | None
    url: str
    done: bool


@dataclass(frozen=True)
class SetupStep:
    """``check(user, node)`` returns ``(count, url, done)`` for the county ``node``, as ``user`` sees it."""

    key: str
    label: object  # a lazy translation
    check: str  # dotted path
    order: int
    help: object = ""  # what the step is about, a lazy translation

    def state(self, user, node) -> StepState:
        count, url, done = import_string(self.check)(user, node)
        return StepState(count, url, bool(done))


_STEPS: dict[str, SetupStep] = {}


def setup_step(key: str, label, check: str, *, order: int, help="") -> None:
    """Register a step of a county's set-up; ``order`` places it (the tree is 10, places 20, staff 30,
    residents 40, categories and routing 50, the calendar 60, group robots 70)."""
    _STEPS[key] = SetupStep(key, label, check, order, help)


def setup_steps() -> list[SetupStep]:
    return sorted(_STEPS.values(), key=lambda s: (s.order, s.key))


def first_url(*names: str, query: str = "") -> str:
    """The first of the named URLs that exists ('' when none does), for a step whose page may not be there
    yet in every deployment."""
    from django.urls import NoReverseMatch, reverse

    for name in names:
        try:
            return reverse(name) + query
        except NoReverseMatch:
            continue
    return ""


# --- open work ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OpenWork:
    """What a person still has in hand in one app: ``label`` (words), ``count``, and ``url`` of a page listing
    it (or "")."""

    label: str
    count: int
    url: str = ""


_OPEN_WORK: dict[str, str] = {}


def open_work(name: str, provider: str) -> None:
    """Register an app's provider of open work: a dotted path to ``callable(user) -> list[OpenWork | tuple]``
    (label, count, url). Accounts lists it when someone's account is disabled, for reassignment, without
    importing the apps above it."""
    _OPEN_WORK[name] = provider


def open_work_of(user) -> list[OpenWork]:
    """Everything every app says ``user`` still has open, with a count above zero, in registration order."""
    found = []
    for provider in _OPEN_WORK.values():
        for item in import_string(provider)(user) or ():
            item = item if isinstance(item, OpenWork) else OpenWork(*item)
            if item.count:
                found.append(item)
    return found
