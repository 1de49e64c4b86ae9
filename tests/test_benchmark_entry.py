"""The benchmark entry point keeps working (a smoke run; performance itself is never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_benchmark_writes_its_table_and_every_answer_agrees(tmp_path: Path) -> None:
    cmd = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "8", "10", "--quick",
           "--no-peers", "--out-dir", str(tmp_path)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    (md,) = tmp_path.glob("*-quick.md")
    (js,) = tmp_path.glob("*-quick.json")
    assert "| task | N | method |" in md.read_text(encoding="utf-8")
    rows = json.loads(js.read_text(encoding="utf-8"))["rows"]
    tasks = {r["task"] for r in rows}
    assert {"profile", "p_alg"} <= tasks
    # every timed answer was checked against exactmd's before timing
    diffs = [r["max_abs_diff"] for r in rows if r.get("max_abs_diff") is not None]
    assert diffs and max(diffs) < 1e-10
