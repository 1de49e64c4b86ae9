"""Measure the false-alarm rate and the power of exactmd's sampler oracle.

Run from the repository root (takes a few minutes on 2 cores):

    .venv/bin/python docs/oracle_calibration.py [--runs 10000] [--power-runs 200]

It prints markdown tables; the numbers in docs/oracle.md come from this script.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from exactmd.denoisers import exact_denoiser
from exactmd.sampler import output_distribution
from exactmd.testing.examples import BUGS, factorized_sample
from exactmd.testing.goodness import goodness_of_fit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from conftest import random_law

ALPHAS = (1e-3, 1e-2, 5e-2)


def scenarios() -> list[tuple[str, np.ndarray, object, int]]:
    small = random_law((2, 3, 2), seed=0, zeros=0.2)
    big = random_law((2,) * 7, seed=3, zeros=0.0, alpha=0.3)
    return [
        ("N=3 (2,3,2), sizes (2,1), M=4000, joint", small, [2, 1], 4000),
        ("N=3 (2,3,2), sizes (2,1), M=200, joint + pooling", small, [2, 1], 200),
        ("N=3 (2,3,2), partition [[2],[0,1]], M=4000", small, [[2], [0, 1]], 4000),
        (
            "N=7 binary, partition [[0,1,2],[3,4],[5,6]], M=600, pairs",
            big,
            [[0, 1, 2], [3, 4], [5, 6]],
            600,
        ),
    ]


def size(runs: int) -> None:
    print(f"\n### False-alarm rate of a correct sampler ({runs} seeds each)\n")
    print("| scenario | level | " + " | ".join(f"alpha={a:g}" for a in ALPHAS) + " |")
    print("|---|---|" + "---|" * len(ALPHAS))
    for name, p, sched, m in scenarios():
        law = np.asarray(output_distribution(p, sched))
        den = exact_denoiser(p)
        pvals, level = np.empty(runs), ""
        t0 = time.perf_counter()
        for s in range(runs):
            res = goodness_of_fit(factorized_sample(den, p.shape, sched, m, seed=s), law)
            pvals[s], level = (0.0 if res.impossible else res.pvalue), res.level
        cells = []
        for a in ALPHAS:
            k = int(np.sum(pvals <= a))
            half = 1.96 * np.sqrt(max(k, 1) * (1 - k / runs)) / runs
            cells.append(f"{k / runs:.4f} ± {half:.4f} ({k})")
        print(
            f"| {name} | {level} | "
            + " | ".join(cells)
            + f" |  <!-- {time.perf_counter() - t0:.0f}s -->"
        )


def power(runs: int) -> None:
    sizes = (250, 500, 1000, 2000, 4000)
    print(f"\n### Power at alpha = 1e-3 ({runs} seeds per cell): fraction of runs caught\n")
    print("| scenario | bug | " + " | ".join(f"M={m}" for m in sizes) + " |")
    print("|---|---|" + "---|" * len(sizes))
    for name, p, sched, _ in scenarios()[::2]:
        law = np.asarray(output_distribution(p, sched))
        den = exact_denoiser(p)
        for bug in BUGS:
            row = []
            for m in sizes:
                caught = sum(
                    goodness_of_fit(
                        factorized_sample(den, p.shape, sched, m, seed=10_000 + s, bug=bug), law
                    ).rejects(1e-3)
                    for s in range(runs)
                )
                row.append(f"{caught / runs:.2f}")
            print(f"| {name.split(', M=')[0]} | {bug} | " + " | ".join(row) + " |")


def power_pairs(runs: int) -> None:
    name, p, sched, _ = scenarios()[3]
    sizes = (300, 600, 1200)  # 1200 >= 5 * 128: the joint is used there
    print(f"\n### Power at alpha = 1e-3, {name.split(', M=')[0]} ({runs} seeds per cell)\n")
    print("| bug | " + " | ".join(f"M={m}" for m in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    law = np.asarray(output_distribution(p, sched))
    den = exact_denoiser(p)
    for bug in BUGS:
        row = [
            np.mean(
                [
                    goodness_of_fit(
                        factorized_sample(den, p.shape, sched, m, seed=10_000 + s, bug=bug), law
                    ).rejects(1e-3)
                    for s in range(runs)
                ]
            )
            for m in sizes
        ]
        print(f"| {bug} | " + " | ".join(f"{r:.2f}" for r in row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--power-runs", type=int, default=200)
    args = parser.parse_args()
    size(args.runs)
    power(args.power_runs)
    power_pairs(args.power_runs // 2)


if __name__ == "__main__":
    main()
