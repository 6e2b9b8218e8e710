"""The demo county generator (汉源县, modelled on the seed reports) and the demo accounts."""

from .accounts import DEMO_OPEN311_KEY, DEMO_PASSWORD, DemoAccount, ensure_demo_accounts
from .load import DemoError, generate
from .plan import FULL, plan_county, targets

__all__ = [
    "DEMO_OPEN311_KEY", "DEMO_PASSWORD", "FULL", "DemoAccount", "DemoError", "ensure_demo_accounts", "generate",
    "plan_county", "targets",
]
