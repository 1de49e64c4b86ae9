"""Benchmark of the exact sampler law p_alg: exactmd beside a naive torch loop.

The naive baseline is the straightforward recursion on the full masked layout of shape
``(q+1)^N``: for every step and every reveal set z of the step's size (a loop over the
``C(N, s)`` subsets), slice the states where z is masked, multiply by the exact conditionals
``M[y, y_i := v] / M[y]`` of the positions of z, and add the result where z is revealed.

``rows(device, quick)`` is what ``benchmarks/run.py`` imports; ``python
benchmarks/bench_sampler.py`` prints the rows on their own.
"""

from __future__ import annotations

import itertools
import sys
from math import comb
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.timing import best_time  # noqa: E402

__all__ = ["naive_output_distribution", "constant_sizes", "planning_rows", "rows", "main"]


def constant_sizes(n: int, k: int) -> list[int]:
    """``k`` sizes summing to ``n``, as equal as possible, larger first."""
    base, extra = divmod(n, k)
    return [base + (1 if i < extra else 0) for i in range(k)]


def naive_output_distribution(p: np.ndarray, sizes: list[int], device: str = "cpu") -> np.ndarray:
    """p_alg of an exchangeable schedule with the exact denoiser, by the naive torch loop."""
    import torch

    t = torch.as_tensor(np.asarray(p, dtype=np.float64), device=device)
    shape = tuple(t.shape)
    n = len(shape)
    m = t
    for axis in range(n):  # the masked-marginal tensor: append the sum along every axis
        m = torch.cat([m, m.sum(dim=axis, keepdim=True)], dim=axis)
    state = torch.zeros_like(m)
    state[tuple(shape)] = 1.0
    revealed = 0
    for s in sizes:
        new = torch.zeros_like(m)
        weight = 1.0 / comb(n - revealed, s)
        for z in itertools.combinations(range(n), s):
            rest = [i for i in range(n) if i not in z]
            order = rest + list(z)
            corner = (Ellipsis, *(shape[i] for i in z))  # the positions of z masked
            sm = state.permute(order)[corner]
            mm = m.permute(order)[corner]
            term = sm * weight
            safe = torch.where(mm > 0, mm, torch.ones_like(mm))
            for j, i in enumerate(z):
                index: list[Any] = [shape[k] for k in z]
                index[j] = slice(0, shape[i])
                where = (Ellipsis, *index)
                num = m.permute(order)[where]  # other positions of z still masked
                cond = torch.where(
                    (mm > 0)[..., None], num / safe[..., None], torch.full_like(num, 1 / shape[i])
                )
                term = _outer(term, cond, len(rest), j)
            revealed_z = (Ellipsis, *(slice(0, shape[i]) for i in z))
            target = new.permute(order)[revealed_z]
            target += term
        state = new
        revealed += s
    return state[tuple(slice(0, q) for q in shape)].cpu().numpy()


def _outer(term: Any, cond: Any, nrest: int, j: int) -> Any:
    """Multiply ``term`` (rest axes, then j new axes) by ``cond`` (rest axes, new axis j)."""
    # term has shape rest + (q_1..q_j); cond has shape rest + (q_{j+1},)
    cond = cond.reshape(*cond.shape[:nrest], *([1] * j), cond.shape[-1])
    return term.unsqueeze(-1) * cond


def _case_rows(n: int, k: int, device: str, repeat: int) -> list[dict[str, Any]]:
    from exactmd.sampler.p_alg import output_distribution

    rng = np.random.default_rng(n)
    weights = rng.random(2**n)
    p = (weights / weights.sum()).reshape((2,) * n)
    sizes = constant_sizes(n, k)
    note = f"binary, K={k}, sizes {sizes}"
    t_nv, ref = best_time(lambda: naive_output_distribution(p, sizes, device), 1)
    out: list[dict[str, Any]] = [
        {
            "task": "p_alg",
            "N": n,
            "method": f"naive torch loop ({device})",
            "seconds": t_nv,
            "max_abs_diff": 0.0,
            "note": note,
        }
    ]
    for backend, dev in (("numpy", None), ("torch", device)):

        def ours(backend: str = backend, dev: Any = dev) -> Any:
            return output_distribution(p, sizes, backend=backend, device=dev, progress=False)

        t, got = best_time(ours, repeat)
        label = "exactmd numpy" if backend == "numpy" else f"exactmd torch ({device})"
        out.append(
            {
                "task": "p_alg",
                "N": n,
                "method": label,
                "seconds": t,
                "speedup": t_nv / t,
                "max_abs_diff": float(np.abs(got - ref).max()),
                "note": note,
            }
        )
    return out


def planning_rows(quick: bool = False) -> list[dict[str, Any]]:
    """Host time of p_alg's index work (levels and gather plans of every step), binary,
    K = 4: what a GPU waits for before its first product (no array of the law is touched)."""
    from exactmd.backends import get_backend
    from exactmd.sampler._gather import gather_plans
    from exactmd.sampler._levels import full_level

    be = get_backend(name="numpy")
    out: list[dict[str, Any]] = []
    for n in [12] if quick else [16, 18]:
        sizes = constant_sizes(n, 4)
        bounds = np.cumsum([0, *sizes]).tolist()
        shape = (2,) * n

        def plan_all(bounds: list[int] = bounds, shape: tuple[int, ...] = shape, n: int = n) -> int:
            count = 0
            for a, b in itertools.pairwise(bounds):
                count += len(
                    gather_plans(be, n, full_level(shape, a), full_level(shape, b), 0, b - a)
                )
            return count

        t, patterns = best_time(plan_all, 1 if quick else 2, lambda: None)
        note = f"binary, K=4, sizes {sizes}: levels + gather plans, {patterns} patterns"
        out.append(
            {
                "task": "p_alg host plan",
                "N": n,
                "method": "exactmd (host)",
                "seconds": t,
                "note": note,
            }
        )
    return out


def rows(device: str = "cpu", quick: bool = False) -> list[dict[str, Any]]:
    """Rows for the benchmark table: exactmd (numpy, and torch on ``device``) beside the
    naive loop, binary random joints, exchangeable constant-size schedules; the cases vary
    N at K = 4 and K at N = 12, to show how the time grows with both."""
    from exactmd.sampler.p_alg import output_distribution

    cases = [(8, 4), (10, 4)] if quick else [(10, 4), (12, 4), (14, 4), (12, 2), (12, 6)]
    repeat = 1 if quick else 2
    warm = np.full((2, 2, 2), 1 / 8)  # import torch and warm both paths up before timing
    naive_output_distribution(warm, [2, 1], device)
    output_distribution(warm, [2, 1], backend="torch", device=device, progress=False)
    out: list[dict[str, Any]] = []
    for n, k in cases:
        out += _case_rows(n, k, device, repeat)
    return out + planning_rows(quick)


def main() -> int:
    """Print the rows."""
    for r in rows(quick="--quick" in sys.argv):
        print(
            f"N={r['N']:>2} {r['method']:<28} {r['seconds']:9.4f} s  "
            f"speed-up {r.get('speedup', float('nan')):6.2f}  "
            f"diff {r.get('max_abs_diff', float('nan')):.1e}  {r['note']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
