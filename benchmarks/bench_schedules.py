"""Benchmark of the schedule tools: the exact DP, the whole optimal curve, Markov profiles.

Rows (float64, CPU):

- ``optimal DP``: :func:`exactmd.schedules.optimum.optimal_table` at N = 1024, K = 64 on a Markov
  chain's exact profile (budget: 2 s), beside a plain-Python DP (same recursion, loops; run
  at a smaller N because it is slow) whose answer is checked against exactmd's;
- ``optimal curve``: the least E_fact for every K = 1..N at once (N = 1024);
- ``markov profile``: :func:`exactmd.measures.markov.markov_profile` at N = 1024 (and 4096);
- ``compare``: :func:`exactmd.schedules.scaling.compare_schedules` at N = 1024, K = 64 (the gains of
  the optimum over the constant, cosine and √-rule schedules, with the theory's prediction).

``rows(device, quick)`` is what ``benchmarks/run.py`` can import; ``python
benchmarks/bench_schedules.py [--quick]`` prints the rows on their own.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.timing import best_time  # noqa: E402

__all__ = ["STICKY", "naive_dp", "rows", "main"]

#: The Markov chain of the report: 4 states, stay with probability 0.9, else move uniformly.
STICKY = (np.full(4, 0.25), np.full((4, 4), 0.1 / 3) + np.eye(4) * (0.9 - 0.1 / 3))


def naive_dp(f: np.ndarray, k: int) -> float:
    """The least E_fact with k steps by the same recursion, in plain Python loops."""
    n = len(f)
    cum = [0.0]
    for v in f:
        cum.append(cum[-1] + float(v))
    inf = float("inf")
    w = [inf] * (n + 1)
    w[n] = 0.0
    for _ in range(k):
        new = [inf] * (n + 1)
        for a in range(n):
            fa = float(f[a])
            best = inf
            for b in range(a + 1, n + 1):
                c = (cum[b] - cum[a]) - (b - a) * fa + w[b]
                if c < best:
                    best = c
            new[a] = best
        w = new
    return w[0]


def rows(device: str = "cpu", quick: bool = False) -> list[dict[str, Any]]:
    """Rows for the benchmark table (``device`` is ignored: everything here is numpy)."""
    from exactmd.measures.markov import markov_profile
    from exactmd.schedules.optimum import optimal_table
    from exactmd.schedules.scaling import compare_schedules

    init, trans = STICKY
    repeat = 1 if quick else 3
    out: list[dict[str, Any]] = []
    for n in (1024,) if quick else (1024, 4096):
        t, f = best_time(lambda n=n: markov_profile(init, trans, n), repeat)
        out.append(
            {
                "task": "markov profile",
                "N": n,
                "method": "exactmd gap counting",
                "seconds": t,
                "note": "4 states, stay 0.9",
            }
        )
    f = markov_profile(init, trans, 1024)
    n_small, k_small = (96, 8) if quick else (384, 32)
    f_small = markov_profile(init, trans, n_small)
    t_nv, ref = best_time(lambda: naive_dp(f_small, k_small), 1)
    t_dp, table = best_time(lambda: optimal_table(f_small, k_small), repeat)
    out.append(
        {
            "task": "optimal DP",
            "N": n_small,
            "method": "plain Python DP",
            "seconds": t_nv,
            "max_abs_diff": 0.0,
            "note": f"K={k_small}",
        }
    )
    out.append(
        {
            "task": "optimal DP",
            "N": n_small,
            "method": "exactmd numpy DP",
            "seconds": t_dp,
            "speedup": t_nv / t_dp,
            "max_abs_diff": abs(table.error(k_small) - ref),
            "note": f"K={k_small}",
        }
    )
    t_dp, table = best_time(lambda: optimal_table(f, 64), repeat)
    out.append(
        {
            "task": "optimal DP",
            "N": 1024,
            "method": "exactmd numpy DP",
            "seconds": t_dp,
            "note": f"K=64 (budget 2 s); E_opt={table.error(64):.6g}",
        }
    )
    if not quick:
        t_curve, full = best_time(lambda: optimal_table(f), 1)
        out.append(
            {
                "task": "optimal curve",
                "N": 1024,
                "method": "exactmd numpy DP",
                "seconds": t_curve,
                "note": f"every K=1..1024; E_opt(K=64)={full.error(64):.6g}",
            }
        )
    t_cmp, cmp = best_time(lambda: compare_schedules(f, 64), 1)
    gains = ", ".join(f"{k} {v:.4f}" for k, v in cmp.gains.items() if k != "optimal")
    out.append(
        {
            "task": "compare",
            "N": 1024,
            "method": "exactmd compare_schedules",
            "seconds": t_cmp,
            "note": f"K=64 gains E_opt/E: {gains}; predicted {cmp.predicted_gain:.4f}",
        }
    )
    return out


def main() -> int:
    """Print the rows."""
    for r in rows(quick="--quick" in sys.argv):
        extra = f"  speed-up {r['speedup']:7.1f}" if "speedup" in r else ""
        diff = f"  diff {r['max_abs_diff']:.1e}" if "max_abs_diff" in r else ""
        print(
            f"{r['task']:<15} N={r['N']:>4} {r['method']:<26} {r['seconds']:9.4f} s"
            f"{extra}{diff}  {r['note']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
