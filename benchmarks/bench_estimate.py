"""Benchmark of the estimated profile at scale: f̂ at N = 1024 with an exact chain denoiser.

Row (float64, CPU): ``estimate f`` — :func:`exactmd.estimate_profile` on 1,000 exact draws of a
4-state Markov chain at N = 1024 (:class:`exactmd.models.MarkovChainLaw`, no q^N table), with
its exact denoiser (:class:`exactmd.denoisers.chains.MarkovChainDenoiser`), one order per
sample, on a 64-point grid of ranks: 64,000 denoiser rows of 1024 tokens (target: 30 s on the
2-core CPU). The note gives the largest |f̂ − f| / stderr against the exact f of
:func:`exactmd.markov_profile` and the share of the 64 95% intervals that cover it.

``rows(device, quick)`` is what ``benchmarks/run.py`` imports; ``python
benchmarks/bench_estimate.py [--quick]`` prints the row on its own.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

__all__ = ["CHAIN", "rows", "main"]

#: The chain of the row: 4 states, uneven stays, one zero transition.
CHAIN = (
    np.full(4, 0.25),
    np.array(
        [
            [0.85, 0.05, 0.05, 0.05],
            [0.10, 0.70, 0.10, 0.10],
            [0.05, 0.05, 0.60, 0.30],
            [0.20, 0.00, 0.20, 0.60],
        ]
    ),
)


def rows(device: str = "cpu", quick: bool = False) -> list[dict[str, Any]]:
    """The row for the benchmark table (``device`` is ignored: the estimate runs on numpy)."""
    import exactmd
    from exactmd.models import markov_chain

    n, m, grid = 1024, (100 if quick else 1000), 64
    law = markov_chain(*CHAIN, n, table=False)
    x = law.sample(m, seed=0)
    den = exactmd.exact_denoiser(law)
    start = time.perf_counter()
    est = exactmd.estimate_profile(x, den, seed=0, grid=grid)
    seconds = time.perf_counter() - start
    f = exactmd.markov_profile(law)[est.ranks]
    low, high = est.interval(0.95)
    z = float(np.max(np.abs(est.profile - f) / est.stderr))
    cover = float(np.mean((low <= f) & (f <= high)))
    return [
        {
            "task": "estimate f",
            "N": n,
            "method": f"exactmd chain denoiser, {m} samples, {grid}-point grid",
            "seconds": seconds,
            "note": f"max |f̂-f|/se {z:.2f}, 95% cover {cover:.2f}; budget 30 s",
        }
    ]


def main(argv: list[str] | None = None) -> int:
    quick = "--quick" in (sys.argv[1:] if argv is None else argv)
    for r in rows(quick=quick):
        print(f"{r['task']:12} N={r['N']:5} {r['method']:48} {r['seconds']:8.3f} s  {r['note']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
