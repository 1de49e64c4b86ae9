"""Measure the false-alarm rate and the power of exactmd's sampler oracle.

Run from the repository root (takes a few minutes on 2 cores):

    .venv/bin/python docs/oracle_calibration.py [--runs 10000] [--power-runs 200]
    .venv/bin/python docs/oracle_calibration.py --needed-only [--check-runs 200]

It prints markdown tables; the numbers in docs/oracle.md come from this script. The
``--needed-only`` table (a few seconds) is :func:`exactmd.testing.samples_needed` for typical
bugs, with a Monte Carlo check of the power the assert actually has at that M.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import exactmd
from exactmd.denoisers.exact import exact_denoiser, perturbed_denoiser
from exactmd.sampler.p_alg import output_distribution
from exactmd.testing import assert_samples_match, samples_needed
from exactmd.testing.examples import BUGS, factorized_sample
from exactmd.testing.goodness import goodness_of_fit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from helpers import random_law

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


def typical_bugs() -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """(model, bug, exact p_alg, p_alg of the buggy sampler) for a few typical bugs."""
    out = []
    small = random_law((2, 3, 2), seed=0, zeros=0.2)
    quad = exactmd.models.random_joint((2, 2, 2, 2), alpha=0.5, seed=0).numpy()
    for model, p, sizes, wrong in (
        ("(2,3,2) sizes (2,1)", small, [2, 1], [1, 2]),
        ("(2,2,2,2) sizes (2,2)", quad, [2, 2], [1, 3]),
    ):
        exact = np.asarray(output_distribution(p, sizes))
        bugs = {
            "denoiser tempered, T = 1.05": dict(temperature=1.05),
            "denoiser tempered, T = 1.3": dict(temperature=1.3),
            "denoiser noise 0.01": dict(noise=0.01, seed=1),
            "denoiser noise 0.1": dict(noise=0.1, seed=1),
        }
        for bug, kw in bugs.items():
            alt = np.asarray(output_distribution(p, sizes, perturbed_denoiser(p, **kw)))
            out.append((model, bug, exact, alt))
        alt = np.asarray(output_distribution(p, wrong))
        out.append((model, f"wrong schedule {tuple(wrong)}", exact, alt))
    return out


def needed(check_runs: int) -> None:
    print(
        f"\n### Samples needed at alpha = 1e-3 for power 0.9 (samples_needed), and the power "
        f"measured at that M and at M/4 ({check_runs} runs of assert_samples_match)\n"
    )
    print(
        "| model | bug | chi-square divergence | mass on impossible outcomes | M needed "
        "| power at M | at M/4 |"
    )
    print("|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for model, bug, exact, alt in typical_bugs():
        pos = exact > 0
        div = float(np.sum((alt[pos] - exact[pos]) ** 2 / exact[pos]))
        leak = float(alt[~pos].sum())
        m = samples_needed(exact, alt, alpha=1e-3, power=0.9)
        rates = []
        for size_ in (m, max(1, m // 4)):
            caught = 0
            for _ in range(check_runs):
                flat = rng.choice(alt.size, size=size_, p=alt.reshape(-1))
                x = np.stack(np.unravel_index(flat, alt.shape), axis=1)
                try:
                    assert_samples_match(x, exact)
                except AssertionError:
                    caught += 1
            rates.append(caught / check_runs)
        print(
            f"| {model} | {bug} | {div:.2e} | {leak:.2g} | {m:,} | {rates[0]:.2f} "
            f"| {rates[1]:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--power-runs", type=int, default=200)
    parser.add_argument("--check-runs", type=int, default=200)
    parser.add_argument("--needed-only", action="store_true")
    args = parser.parse_args()
    needed(args.check_runs)
    if args.needed_only:
        return
    size(args.runs)
    power(args.power_runs)
    power_pairs(args.power_runs // 2)


if __name__ == "__main__":
    main()
