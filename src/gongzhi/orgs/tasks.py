"""Background jobs of the registry: big spreadsheet imports run on the task worker."""

from django_tasks import task


@task()
def import_registry(job_id: int) -> str:
    """Run an import job; safe to run twice (a finished job is left as it is)."""
    from .imports import run_import

    return run_import(job_id).status
