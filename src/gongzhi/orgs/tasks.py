"""Background jobs of the registry: every spreadsheet import runs on the task worker, and an hourly
clean-up removes the uploads of jobs a stopped worker left behind."""

from django_tasks import task


@task()
def import_registry(job_id: int) -> str:
    """Run an import job; safe to run twice (a job taken or finished is left as it is)."""
    from .imports import run_import

    return run_import(job_id).status


@task()
def import_cleanup() -> dict:
    """Fail stale import jobs and remove uploads no running job needs (enqueued by the scheduler)."""
    from .imports import import_cleanup as cleanup

    return cleanup()


@task()
def import_places(job_id: int) -> str:
    """Run a places import job (the set-up's workbook); safe to run twice."""
    from .setup.jobs import run_places_import

    return run_places_import(job_id).status
