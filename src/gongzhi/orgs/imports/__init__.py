"""Registry import from the Excel template, in the task worker: check, read, validate every row, match,
and apply in one transaction.

- ``columns``: the spreadsheet's columns and values, and the import template;
- ``parse``: each row checked on its own (fields, grid and places in the importer's scope), then across rows;
- ``match``: the registered resident each row updates (by 记录编号, else by the ID number's blind index)
  and the household at its address, read in batches;
- ``write``: bulk inserts and updates, one audit row per created or changed record;
- ``actions``: the job's writes (start: checked against the limits and queued; progress; finish with a
  masked error report; the upload removed; the clean-up);
- ``jobs``: the run on the task worker; ``selectors``: the job reads.

Other modules use the names below.
"""

from .actions import check_file, import_cleanup, import_start, masked_cells, upload_limits
from .columns import (
    AGE_HEADER,
    BIRTH_HEADER,
    CARE_LABELS,
    COLUMNS,
    EXPORT_EXTRA,
    GENDER_HEADER,
    GENDER_LABELS,
    HEADERS,
    NO,
    RELATION_LABELS,
    RESIDENCY_LABELS,
    SHEET,
    YES,
    Column,
    template_bytes,
)
from .jobs import run_import
from .selectors import cleanup_due, job_get, jobs

__all__ = [
    "AGE_HEADER", "BIRTH_HEADER", "CARE_LABELS", "COLUMNS", "EXPORT_EXTRA", "GENDER_HEADER", "GENDER_LABELS",
    "HEADERS", "NO", "RELATION_LABELS", "RESIDENCY_LABELS", "SHEET", "YES", "Column", "check_file", "cleanup_due",
    "import_cleanup", "import_start", "job_get", "jobs", "masked_cells", "run_import", "template_bytes",
    "upload_limits",
]
