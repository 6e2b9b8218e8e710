from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "gongzhi.bench"
    label = "bench"
    verbose_name = "Benchmarks"

    def ready(self):
        from gongzhi.core import parts

        parts.bench_suite("registry", "gongzhi.bench.registry")
        parts.bench_suite("appeals", "gongzhi.bench.appeals")
        parts.bench_suite("load", "gongzhi.bench.load")
