"""The notebooks are jupytext percent scripts paired with committed, clean ``.ipynb`` files.

``notebooks/NN_name.py`` and ``notebooks/NN_name.ipynb`` are the same notebook
(``notebooks/jupytext.toml``; how to edit them: ``notebooks/README.md``). Executing the
``.ipynb`` is nbmake's job (``pytest --nbmake notebooks/``, part of the test command); these
tests read the files: every pair in sync (same cells, same types, same sources), no outputs or
execution counts, the ``python3`` kernel, at least one plot cell, numerical checks
(``assert``), guarded CUDA cells. One slow smoke test runs each ``.py`` as plain Python.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))
SCRIPTS = sorted(NB_DIR.glob("[0-9][0-9]_*.py"))
EXPECTED = {
    "01_quickstart.ipynb",
    "02_theorems.ipynb",
    "03_schedules.ipynb",
    "04_test_oracle.ipynb",
    "05_gpu_scaling.ipynb",
    "06_samplers_budget.ipynb",
    "07_in_practice.ipynb",
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
def test_has_a_plot_and_checks(path: Path) -> None:
    nb = _load(path)
    code = [_source(c) for c in _code_cells(nb)]
    assert any(PLOT_CALL.search(src) and "plt.show()" in src for src in code), (
        f"{path.name}: needs at least one cell that draws and shows a plot"
    )
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


def test_every_notebook_is_a_pair() -> None:
    assert {p.stem for p in SCRIPTS} == {p.stem for p in NOTEBOOKS}
    config = (NB_DIR / "jupytext.toml").read_text(encoding="utf-8")
    assert re.search(r'^formats\s*=\s*"ipynb,py:percent"', config, re.M)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_script_and_ipynb_in_sync(path: Path) -> None:
    jupytext = pytest.importorskip("jupytext")
    script = jupytext.read(path)
    ipynb = jupytext.read(path.with_suffix(".ipynb"))
    assert script.metadata["kernelspec"] == ipynb.metadata["kernelspec"]
    cells = [(c.cell_type, c.source) for c in script.cells]
    paired = [(c.cell_type, c.source) for c in ipynb.cells]
    assert cells == paired, (
        f"{path.name} and {path.stem}.ipynb differ: run jupytext --sync notebooks/*.py"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_script_runs_as_plain_python(path: Path, tmp_path: Path) -> None:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (
        f"{path.name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    )
