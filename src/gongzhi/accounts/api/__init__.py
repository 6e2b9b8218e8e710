"""Account endpoints, one router per area: ``tokens`` (mounted at /auth)."""

from .tokens import router  # noqa: F401
