"""Account endpoints, one router per area: ``tokens`` (mounted at /auth), ``users`` (mounted at /users)."""

from .tokens import router  # noqa: F401
from .users import router as users_router  # noqa: F401
