"""What each app contributes to the demo and the benchmarks, registered from its ``AppConfig.ready``.

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
