"""The demo county (汉源县, modelled on the seed reports): its tree, places, people, units and party
organisations; registered as the first demo part (``load_demo``)."""

from __future__ import annotations

import time

from django.utils.translation import gettext as _

from .load import DemoError, generate
from .plan import FULL, plan_county, targets

__all__ = ["FULL", "DemoError", "generate", "load_demo", "plan_county", "targets"]


def load_demo(*, seed: int, scale: float, say) -> None:
    """The demo part: the county, into a database without an organisation tree."""
    from gongzhi.orgs.models import OrgNode

    if OrgNode.objects.exists():
        say(_("The database already holds an organisation tree: reusing it."))
        return
    say(_("Loading the demo county (scale %(scale)s)…") % {"scale": scale})
    started = time.monotonic()
    counts = generate(seed=seed, scale=scale)
    say(
        _("Demo county loaded in %(seconds).1f s: %(grids)s grids, %(compounds)s compounds, %(buildings)s "
          "buildings, %(households)s households, %(residents)s residents, %(party_members)s party members, "
          "%(units)s units.")
        % {"seconds": time.monotonic() - started, "units": counts["partner_units"] + counts["departments"], **counts}
    )
