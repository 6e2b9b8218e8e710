"""The floors of the house: core imports no domain app; no app imports another app's private names;
apps import each other without cycles (the demo, benchmarks and site commands sit above every app).

An AST walk over src/gongzhi: a failure names the import that runs the wrong way."""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "src" / "gongzhi"
PACKAGES = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
ABOVE = {"demo", "bench", "site"}  # packages above every app: they may import anything, nothing imports them


def _package(module: str, packages) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "gongzhi" and parts[1] in packages else None


def _imports(root=ROOT, packages=PACKAGES):
    """(importing package, imported package, names, file) for every absolute import of another package."""
    for path in root.rglob("*.py"):
        rel = path.relative_to(root)
        if "migrations" in rel.parts or rel.parts[0] not in packages:
            continue
        here = rel.parts[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found = [(node.module, [a.name for a in node.names])]
                found += [(f"{node.module}.{a.name}", []) for a in node.names]
            elif isinstance(node, ast.Import):
                found = [(a.name, []) for a in node.names]
            else:
                continue
            for module, names in found:
                there = _package(module, packages)
                if there and there != here:
                    yield here, there, names, rel


EDGES = list(_imports())


def test_core_imports_no_domain_app():
    wrong = sorted({f"{rel} imports gongzhi.{there}" for here, there, _n, rel in EDGES if here == "core"})
    assert not wrong, wrong


def test_nothing_imports_the_packages_above_the_apps():
    wrong = sorted({f"{rel} imports gongzhi.{there}" for here, there, _n, rel in EDGES
                    if there in ABOVE and here not in ABOVE})
    assert not wrong, wrong


def test_no_app_imports_another_apps_private_names():
    wrong = sorted({f"{rel} imports {n} from gongzhi.{there}" for _h, there, names, rel in EDGES
                    for n in names if n.startswith("_") and not n.startswith("__")})
    assert not wrong, wrong


def test_apps_import_each_other_without_cycles():
    graph = defaultdict(set)
    for here, there, _n, _rel in EDGES:
        graph[here].add(there)
    cycles = []

    def walk(node, path):
        for nxt in sorted(graph[node]):
            if nxt in path:
                cycles.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif len(path) < len(PACKAGES):
                walk(nxt, path + [nxt])

    for start in sorted(graph):
        walk(start, [start])
    assert not cycles, sorted(set(cycles))[:10]


@pytest.mark.parametrize("source, there, private", [
    ("from gongzhi.orgs.views import _options", "orgs", "_options"),
    ("from gongzhi.appeals.models import Appeal", "appeals", None),
    ("import gongzhi.appeals.models", "appeals", None),
])
def test_the_walk_sees_wrong_imports(tmp_path, source, there, private):
    """The walk above finds a core module importing an app, and a private name taken from another app."""
    for name in ("core", "orgs", "appeals"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / "core" / "x.py").write_text(source + "\n")
    edges = list(_imports(tmp_path, {"core", "orgs", "appeals"}))
    assert edges and all(here == "core" and to == there for here, to, _n, _rel in edges)
    assert (private in edges[0][2]) if private else not any(n.startswith("_") for e in edges for n in e[2])
