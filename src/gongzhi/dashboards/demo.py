"""The dashboards' demo part: the roll-ups of the demo appeals, built once after they are loaded."""

from __future__ import annotations


def load_demo(*, seed: int, scale: float, say) -> None:
    from gongzhi.appeals.models import Appeal

    from .models import AppealFact
    from .rollups import rollup_rebuild

    if Appeal.objects.exists() and not AppealFact.objects.exists():
        rollup_rebuild()
