"""Setting up a county on day one: the county and its townships from the national division codes
(``divisions``, ``actions.county_setup``), its places from the places workbook (``template``, ``parse``,
``write``, ``jobs``: communities and villages, grids, micro-grids, compounds, buildings, entrances, in the
task worker, all or nothing), and the checklist of what is set up (``checklist``; the steps are registered
by each app through ``core.parts.setup_step``). Who may do what: ``policies``."""
