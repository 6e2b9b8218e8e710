"""Background jobs of accounts: the staff roster import runs on the task worker."""

from django_tasks import task


@task()
def import_roster(job_id: int) -> str:
    """Run a roster import job; safe to run twice (a job taken or finished is left as it is)."""
    from .roster import run_import

    return run_import(job_id).status
