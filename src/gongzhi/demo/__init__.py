"""The demo (``gongzhi demo``), above every app: it runs the demo parts the apps register
(``core.parts.demo_part``) in their order: the county (orgs), the accounts, six months of appeals, the
dashboard roll-ups, ..."""
