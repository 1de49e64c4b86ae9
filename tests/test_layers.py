"""The package's import graph: layers and cycles, function-level imports included.

import-linter checks the layers contract of ``pyproject.toml`` in the test command; this file
checks the same graph independently (an AST scan of every ``import``, lazy ones included), so
that a lazy import cannot hide a cycle or an upward edge.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "exactmd"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _graph() -> dict[str, set[str]]:
    """Module -> the exactmd modules it imports (a package importing its children excluded)."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, path in mods.items():
        base = m if path.name == "__init__.py" else m.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    head = base.split(".")[: len(base.split(".")) - node.level + 1]
                    mod = ".".join(head + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for t in targets:
                while t and t not in mods:
                    t = t.rsplit(".", 1)[0] if "." in t else ""
                child_of_package = m.startswith(t + ".") and mods[t].name == "__init__.py"
                if t and t != m and not child_of_package:
                    graph[m].add(t)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[set[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = set()
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.add(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(comp)
    return out


def _contract() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = config["tool"]["importlinter"]["contracts"]
    return contract


def test_there_are_no_cycles() -> None:
    """No strongly connected component, lazy imports included (issue 14, phase 2a removed the
    last three, which ran through lazy imports of exactmd.symbolic from the numeric core)."""
    assert _cycles(_graph()) == []


def test_no_upward_import_and_no_ignores() -> None:
    """No module imports a layer above its own, lazily or not, and the contract ignores none."""
    contract = _contract()
    assert "ignore_imports" not in contract
    layers = [name.removeprefix("exactmd.") for name in contract["layers"]]
    upward = set()
    for m, targets in _graph().items():
        top = m.split(".")[1] if "." in m else None
        for t in targets:
            tt = t.split(".")[1] if "." in t else None
            if top in layers and tt in layers and layers.index(tt) < layers.index(top):
                upward.add((m, t))
    assert upward == set()


def test_the_numeric_core_never_names_the_symbolic_backend() -> None:
    """Outside backends/ (and the symbolic package on top), no code asks for the backend by
    name: exact work goes through the backend's operations and its ``exact`` capability."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).parts
        if rel[0] in ("backends", "symbolic"):
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ('name == "symbolic"', 'name != "symbolic"'):
            if needle in text:
                offenders.append(f"{'/'.join(rel)}: {needle}")
    assert offenders == []


def test_the_symbolic_package_is_not_loaded_by_numeric_work() -> None:
    """A numeric law's profile and optimal schedule load neither exactmd.symbolic nor sympy."""
    code = (
        "import sys, exactmd; "
        "exactmd.optimal_schedule([0.0, 1.0, 3.0], 2); "
        "exactmd.information_profile([[0.5, 0.0], [0.0, 0.5]]); "
        "print(any(m.startswith('exactmd.symbolic') for m in sys.modules), 'sympy' in sys.modules)"
    )
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.split() == ["False", "False"]


def test_a_handful_of_root_modules_and_the_pipeline_folders() -> None:
    root = sorted(p.name for p in PACKAGE.iterdir() if p.suffix == ".py")
    assert root == ["__init__.py", "_progress.py", "_validate.py", "errors.py", "typing.py"]
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == {f.removeprefix("exactmd.") for f in _contract()["layers"]}
    for folder in folders:
        init = PACKAGE / folder / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc.split()) >= 8, f"{folder}/__init__.py needs a docstring"
