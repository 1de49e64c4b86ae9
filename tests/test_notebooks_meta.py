"""The notebooks are committed clean, in sync with their generator, and show something.

Executing them is nbmake's job (``pytest --nbmake notebooks/``); these tests only read the
JSON: no outputs or execution counts, the ``python3`` kernel, at least one plot cell, prose,
numerical checks (``assert``), guarded CUDA cells, and byte-identical regeneration by
``notebooks/make_notebooks.py``.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))
EXPECTED = {
    "01_quickstart.ipynb",
    "02_theorems.ipynb",
    "03_schedules.ipynb",
    "04_test_oracle.ipynb",
    "05_gpu_scaling.ipynb",
}
PLOT_CALL = re.compile(r"\b(plt\.(show|subplots|figure)|\w+\.(plot|scatter|hist|bar|errorbar)\()")


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _code_cells(nb: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_all_notebooks_present() -> None:
    assert EXPECTED <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path: Path) -> None:
    nb = _load(path)
    assert nb["nbformat"] == 4
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name}: cell {i} has outputs"
            assert cell.get("execution_count") is None, f"{path.name}: cell {i} has a count"
        assert "attachments" not in cell or not cell["attachments"], f"{path.name}: cell {i}"
    assert "widgets" not in nb.get("metadata", {}), f"{path.name}: widget state committed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_kernel_is_python3(path: Path) -> None:
    spec = _load(path)["metadata"]["kernelspec"]
    assert spec["name"] == "python3" and spec["language"] == "python"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_has_plot_prose_and_checks(path: Path) -> None:
    nb = _load(path)
    code = [_source(c) for c in _code_cells(nb)]
    prose = [_source(c) for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert any(PLOT_CALL.search(src) and "plt.show()" in src for src in code), (
        f"{path.name}: needs at least one cell that draws and shows a plot"
    )
    assert sum(len(p.split()) for p in prose) >= 150, f"{path.name}: too little explanation"
    assert any(re.search(r"^\s*assert\b", src, re.M) for src in code), (
        f"{path.name}: the numbers must be checked with assert"
    )
    first = code[0]
    assert "%matplotlib inline" in first or 'matplotlib.use("Agg")' in first, (
        f"{path.name}: the first code cell must choose a non-interactive backend"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cuda_only_behind_a_guard(path: Path) -> None:
    code = "\n".join(_source(c) for c in _code_cells(_load(path)))
    if "cuda" in code:
        assert "torch.cuda.is_available()" in code, f"{path.name}: CUDA use must be guarded"


def test_generator_reproduces_the_notebooks() -> None:
    pytest.importorskip("nbformat")
    spec = importlib.util.spec_from_file_location("make_notebooks", NB_DIR / "make_notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build_all()
    assert {p.name for p in built} == EXPECTED
    for target, text in built.items():
        assert target.read_text(encoding="utf-8") == text, (
            f"{target.name} is out of date: run python notebooks/make_notebooks.py"
        )
