"""Background jobs of the appeals loop: the deadline sweep, enqueued by the scheduler."""

from django_tasks import task


@task()
def deadline_sweep() -> dict:
    """Mark due-soon / overdue appeals and escalate overdue ones; idempotent (see ``sweep``)."""
    from .actions.sweep import sweep

    return sweep()
