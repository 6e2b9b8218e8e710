"""The benchmarks (``gongzhi bench SUITE``), above every app: each suite is registered with
``core.parts.bench_suite`` (the registry and appeals suites by this package's app config; a new app
registers its own from its ``AppConfig.ready``)."""
