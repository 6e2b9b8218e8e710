"""Background work of the dashboards: keeping the roll-ups caught up with the actions, and rebuilding them
after the tree changes shape."""

from __future__ import annotations

from django_tasks import task


@task()
def rollups_catch_up() -> int:
    """Apply every queued appeal change to the roll-ups (``rollups.catch_up``); the scheduler enqueues
    it whenever the queue is not empty."""
    from .rollups import catch_up

    return catch_up()


@task()
def rollups_rebuild() -> dict:
    """Recompute all facts and roll-ups: after a node moves or a grid splits, the roll-ups hold the
    old paths until this runs (enqueued by those actions)."""
    from .rollups import rollup_rebuild

    return rollup_rebuild()
