"""Benchmark of the samplers the field runs: LLaDA's exact law beside a brute force over draws.

Rows (float64, CPU, numpy):

- ``llada exact`` at N = 12: :func:`exactmd.output_distribution` of
  ``llada(steps=6, remasking="low_confidence", temperature=1.0)`` on a random binary law
  (target: at most 5 s on a 2-core CPU);
- at N = 10, ``llada(steps=5, ...)``: exactmd beside :func:`brute_llada`, a brute force over
  joint draws written here (for every reachable state it enumerates all ``2^m`` joint draws
  of the masked candidates' values, vectorised over the draws, keeps the ``k`` best
  untempered scores, and accumulates the successors in a dict); its answer is checked against
  exactmd's (column "max abs diff") and the speed-up is its time / exactmd's (target >= 20x).

``rows(device, quick)`` is what ``benchmarks/run.py`` imports; ``python
benchmarks/bench_samplers.py [--quick]`` prints the rows on their own.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.naive import random_binary_joint  # noqa: E402
from benchmarks.timing import best_time  # noqa: E402

__all__ = ["brute_llada", "rows", "main"]


def _conditionals(p: np.ndarray, tokens: tuple[int, ...], mask: int) -> np.ndarray:
    """π(x_i | revealed) for every position (binary law), shape (N, 2)."""
    n = p.ndim
    sub = p[tuple(slice(None) if t == mask else t for t in tokens)]
    masked = [i for i in range(n) if tokens[i] == mask]
    out = np.zeros((n, 2))
    total = sub.sum()
    for a, i in enumerate(masked):
        m = sub.sum(axis=tuple(b for b in range(len(masked)) if b != a))
        out[i] = m / total if total > 0 else 0.5
    return out


def brute_llada(p: np.ndarray, steps: int, temperature: float) -> np.ndarray:
    """LLaDA low_confidence (one block) on a binary law by enumerating every joint draw."""
    n, mask = p.ndim, 2
    per = [n // steps + (1 if i < n % steps else 0) for i in range(steps)]
    states: dict[tuple[int, ...], float] = {(mask,) * n: 1.0}
    for k in per:
        new: dict[tuple[int, ...], float] = {}
        for tok, w in states.items():
            cand = [i for i in range(n) if tok[i] == mask]
            rows = _conditionals(p, tok, mask)[cand]  # (m, 2)
            law = rows ** (1.0 / temperature)
            law /= law.sum(axis=1, keepdims=True)
            draws = np.array(list(itertools.product((0, 1), repeat=len(cand))))  # (D, m)
            pick = np.arange(len(cand))[None, :]
            prob = w * np.prod(law[pick, draws], axis=1)
            score = rows[pick, draws]  # untempered probability of the drawn value
            order = np.argsort(-score, axis=1, kind="stable")
            ranked = np.take_along_axis(score, order, axis=1)
            live = prob > 0
            if k < len(cand) and np.any(live & (ranked[:, k - 1] == ranked[:, k])):
                raise AssertionError("a tie: the benchmark law must have none")
            keep = np.zeros_like(draws, dtype=bool)
            np.put_along_axis(keep, order[:, :k], True, axis=1)
            succ = np.repeat(np.array(tok)[None, :], len(draws), axis=0)
            succ[:, cand] = np.where(keep, draws, mask)  # the kept values, the rest masked
            codes, inverse = np.unique(succ[live], axis=0, return_inverse=True)
            mass = np.bincount(inverse.reshape(-1), weights=prob[live], minlength=len(codes))
            for t, w_t in zip(codes.tolist(), mass.tolist(), strict=True):
                new[tuple(t)] = new.get(tuple(t), 0.0) + w_t
        states = new
    out = np.zeros(p.shape)
    for tok, w in states.items():
        out[tok] += w
    return out


def rows(device: str = "cpu", quick: bool = False) -> list[dict[str, Any]]:
    """Rows for the benchmark table (``device`` is ignored: the sampler engine is numpy)."""
    import exactmd
    from exactmd.samplers import llada

    repeat = 1 if quick else 2
    out: list[dict[str, Any]] = []
    n_big, n_small = (10, 8) if quick else (12, 10)
    p = random_binary_joint(n_big, seed=n_big)
    sched = llada(steps=n_big // 2, remasking="low_confidence", temperature=1.0)
    t, _ = best_time(lambda: exactmd.output_distribution(p, sched), repeat)
    out.append(
        {
            "task": "llada exact",
            "N": n_big,
            "method": f"exactmd {sched!r}",
            "seconds": t,
            "note": "random binary law; target <= 5 s (2-core CPU)" if not quick else "quick",
        }
    )
    p = random_binary_joint(n_small, seed=n_small)
    sched = llada(steps=n_small // 2, remasking="low_confidence", temperature=1.0)
    t_b, brute = best_time(lambda: brute_llada(p, n_small // 2, 1.0), 1)
    t_o, ours = best_time(lambda: exactmd.output_distribution(p, sched), repeat)
    err = float(np.abs(ours - brute).max())
    if err > 1e-10:
        raise AssertionError(f"the brute force disagrees with exactmd at N={n_small}: {err}")
    out.append(
        {
            "task": "llada exact",
            "N": n_small,
            "method": "brute force over joint draws",
            "seconds": t_b,
            "max_abs_diff": 0.0,
            "speedup": 1.0,
            "note": f"steps={n_small // 2}, T=1",
        }
    )
    out.append(
        {
            "task": "llada exact",
            "N": n_small,
            "method": "exactmd (loser-CDF top-k law)",
            "seconds": t_o,
            "max_abs_diff": err,
            "speedup": t_b / t_o,
            "note": "target >= 20x" if not quick else "quick",
        }
    )
    return out


def main() -> int:
    """Print the rows."""
    for r in rows(quick="--quick" in sys.argv):
        ratio = f"{r['speedup']:6.2f}" if "speedup" in r else "     -"
        print(
            f"N={r['N']:>2} {r['method']:<64} {r['seconds']:9.4f} s  "
            f"speed-up {ratio}  {r.get('note', '')}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
