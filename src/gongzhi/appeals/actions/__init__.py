"""Every write of the appeals app, one function per business action (atomic, audited, keyword-only).

``loop``: the appeal's life from filing to rating (re-exported here: ``actions.appeal_dispatch``);
``settings``: categories, deadline policies, routing rules; ``open311``: Open311 clients and filing;
``sweep``: the deadline sweep the scheduler runs.
"""

from .loop import (  # noqa: F401
    ACTION_LABELS,
    ALLOWED_FROM,
    MAX_PHOTO_BYTES,
    MAX_PHOTOS,
    TransitionError,
    appeal_accept,
    appeal_close,
    appeal_dispatch,
    appeal_file,
    appeal_follow,
    appeal_merge,
    appeal_number,
    appeal_rate,
    appeal_reopen,
    appeal_resolve,
    appeal_return,
    appeal_supervise,
    appeal_verify,
    clean_attributes,
    extension_decide,
    extension_request,
    stale_message,
    void_decide,
    void_request,
)
