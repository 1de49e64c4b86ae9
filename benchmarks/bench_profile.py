"""Benchmark rows of the information profile and of the p_alg targets (used by ``run.py``).

Shared helpers (``_row``, ``_peak_numpy``) live here too. See ``run.py`` for the
command line.
"""

from __future__ import annotations

import argparse
import itertools
import tracemalloc
from collections.abc import Callable
from math import comb
from typing import Any

import numpy as np

from benchmarks.naive import (
    naive_bytes,
    naive_entropies_numpy,
    naive_entropies_torch,
    profile_from_entropies,
    random_binary_joint,
)
from benchmarks.timing import best_time
from exactmd.backends._numpy import host_available_memory

__all__ = ["profile_rows", "palg_rows"]


def _peak_numpy(fn: Callable[[], Any]) -> float:
    """Peak bytes numpy allocates during ``fn`` (tracemalloc), in MiB."""
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def _row(task: str, n: int, method: str, seconds: float | None, **extra: Any) -> dict[str, Any]:
    return {"task": task, "N": n, "method": method, "seconds": seconds, **extra}


def _spot_check(p: np.ndarray, h: np.ndarray, count: int = 24, seed: int = 0) -> float:
    """Largest gap between ``h`` (all subset entropies) and entropies of ``count`` subsets
    computed directly from marginals of ``p`` (the full set, singletons, random subsets)."""
    n = p.ndim
    rng = np.random.default_rng(seed)
    subsets = [tuple(range(n)), (0,), (n - 1,)]
    subsets += [tuple(np.flatnonzero(rng.random(n) < 0.5)) for _ in range(count - 3)]
    err = 0.0
    for s in subsets:
        m = p.sum(axis=tuple(i for i in range(n) if i not in s)) if len(s) < n else p
        m = m[m > 0]
        direct = float(-(m * np.log(m)).sum())
        idx = tuple(1 if i in s else 0 for i in range(n))
        err = max(err, abs(float(h[idx]) - direct))
    return err


def _estimate(state: dict[str, Any], key: str, n: int, growth: float) -> float | None:
    """Seconds expected at size ``n`` from the last measured size (``growth`` per variable)."""
    last = state.get(key)
    return None if last is None else last[1] * growth ** (n - last[0])


def profile_rows(
    n: int, device: str, args: argparse.Namespace, state: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Information profile of a random binary joint: ours vs the naive enumeration.

    On a CUDA run the host rows (numpy) stop at ``--host-max-n``; above it the torch answer is
    checked against direct marginal entropies of a few subsets. A torch row whose time,
    extrapolated from the previous size (x3 per variable), exceeds ``--max-seconds`` is skipped.
    """
    import exactmd.measures.information as measures
    from exactmd.enumeration.masked import subset_entropies
    from exactmd.law.distribution import as_distribution

    state = {} if state is None else state
    p = random_binary_joint(n, seed=n)
    rows: list[dict[str, Any]] = []
    no_sync: Callable[[], None] = lambda: None  # noqa: E731
    masked_mib = 3**n * 8 / 2**20
    on_host = args.host_max_n is None or n <= args.host_max_n
    ref = measures.information_profile(p) if on_host else None
    need = naive_bytes((2,) * n)
    if on_host:
        t_np, f = best_time(lambda: measures.information_profile(p), args.repeat, no_sync)
        peak = _peak_numpy(lambda: measures.information_profile(p)) if n <= 18 else None
        ours_np = _row("profile", n, "exactmd numpy", t_np, peak_mib=peak, masked_mib=masked_mib)
        ours_np["max_abs_diff"] = float(np.abs(f - ref).max())
        cap = min(args.naive_max_gib * 2**30, host_available_memory())
        host_naive = args.host_naive_max_n is None or n <= args.host_naive_max_n
        if need <= cap and host_naive:
            t_nv, h = best_time(lambda: naive_entropies_numpy(p), args.repeat, no_sync)
            err = float(np.abs(profile_from_entropies(h) - ref).max())
            peak = _peak_numpy(lambda: naive_entropies_numpy(p)) if n <= 16 else None
            rows.append(
                _row(
                    "profile",
                    n,
                    "naive numpy (concatenate)",
                    t_nv,
                    peak_mib=peak,
                    max_abs_diff=err,
                    masked_mib=masked_mib,
                    speedup=1.0,
                )
            )
            ours_np["speedup"] = t_nv / t_np
        else:
            why = f"needs {need / 2**30:.1f} GiB" if host_naive else "host N limit"
            rows.append(
                _row("profile", n, "naive numpy (concatenate)", None, note=f"skipped: {why}")
            )
        rows.append(ours_np)

    try:
        import torch
    except ImportError:
        return rows
    from exactmd.backends._torch import TorchBackend

    dev = torch.device(device)
    cuda = dev.type == "cuda"
    sync: Callable[[], None] = (lambda: torch.cuda.synchronize(dev)) if cuda else no_sync
    label = f"exactmd torch ({device})"
    guess = _estimate(state, "profile", n, 3.0)
    if guess is not None and guess > args.max_seconds:
        note = f"skipped: about {guess:.0f} s expected (x3 per variable) > --max-seconds"
        return [*rows, _row("profile", n, label, None, masked_mib=masked_mib, note=note)]
    if cuda:
        torch.cuda.empty_cache()
    pt = torch.as_tensor(p, device=dev)

    def ours() -> tuple[Any, np.ndarray]:
        d = as_distribution(pt)
        return d, measures.information_profile(d)

    repeat = args.repeat
    if guess is None or guess < 2.0:
        ours()  # warm-up (CUDA context, kernels)
    elif guess * args.repeat > args.max_seconds / 2:
        repeat = 1
    if cuda:
        torch.cuda.reset_peak_memory_stats(dev)
    t_t, (d, f) = best_time(ours, repeat, sync)
    state["profile"] = (n, t_t)
    ours_t = _row("profile", n, label, t_t, masked_mib=masked_mib)
    if ref is not None:
        ours_t["max_abs_diff"] = float(np.abs(f - ref).max())
    else:
        ours_t["max_abs_diff"] = _spot_check(p, subset_entropies(d))
        ours_t["note"] = "checked against direct entropies of 24 subsets"
    plan = d.subset_entropies_plan
    if plan is not None:
        ours_t["plan"] = str(plan)
    del d
    if cuda:
        ours_t["peak_mib"] = torch.cuda.max_memory_allocated(dev) / 2**20
        torch.cuda.empty_cache()
        have = TorchBackend(device=dev).available_memory()
    else:
        have = min(args.naive_max_gib * 2**30, host_available_memory())
    naive_label = f"naive torch.cat ({device})"
    if need + p.nbytes <= 0.9 * have:
        try:
            t_nt, h = best_time(lambda: naive_entropies_torch(pt), args.repeat, sync)
            base = ref if ref is not None else f
            err = float(np.abs(profile_from_entropies(h.cpu().numpy()) - base).max())
            del h
            row = _row("profile", n, naive_label, t_nt, max_abs_diff=err, masked_mib=masked_mib)
            row["speedup"] = 1.0
            if ref is None:
                row["note"] = "diff vs exactmd torch"
            rows.append(row)
            ours_t["speedup"] = t_nt / t_t
        except RuntimeError as exc:  # out of device memory despite the estimate
            rows.append(_row("profile", n, naive_label, None, note=f"failed: {str(exc)[:60]}"))
        if cuda:
            torch.cuda.empty_cache()
    else:
        limit = "available on the GPU" if cuda else "allowed (--naive-max-gib, host memory)"
        note = f"skipped: needs {need / 2**30:.1f} GiB, {have / 2**30:.1f} GiB {limit}"
        rows.append(_row("profile", n, naive_label, None, note=note))
    rows.append(ours_t)
    base = ref if ref is not None else f
    rows.append(_other_kernel_row(pt, n, device, t_t, base, args, sync))
    threads = torch.get_num_threads()
    if not cuda and threads > 1:  # torch's thread pool suffers on a busy machine
        torch.set_num_threads(1)
        try:
            t_1, (_, f1) = best_time(ours, args.repeat, sync)
        finally:
            torch.set_num_threads(threads)
        one = _row("profile", n, "exactmd torch (cpu, 1 thread)", t_1, masked_mib=masked_mib)
        one["max_abs_diff"] = (
            ours_t["max_abs_diff"] if ref is None else float(np.abs(f1 - ref).max())
        )
        if "speedup" in ours_t:
            one["speedup"] = ours_t["speedup"] * t_t / t_1
            one["note"] = f"vs naive torch.cat with {threads} threads"
        rows.append(one)
    return rows


def _other_kernel_row(
    pt: Any,
    n: int,
    device: str,
    t_default: float,
    base: np.ndarray,
    args: argparse.Namespace,
    sync: Callable[[], None],
) -> dict[str, Any]:
    """The same profile with the chunk kernel that is not the device's default (``"matmul"``
    on the CPU, ``"inplace"`` on CUDA), so that one run compares both; its speed-up is against
    the default kernel's time and its difference against ``base`` (the numpy profile, or the
    default kernel's where numpy did not run)."""
    from exactmd.backends._torch import TorchBackend
    from exactmd.enumeration.plan import plan_subset_entropies
    from exactmd.enumeration.streamed import streamed_subset_entropies
    from exactmd.measures.information import sums_by_popcount

    be = TorchBackend(device=device)
    plan0 = plan_subset_entropies(pt.shape, be)
    other = "inplace" if plan0.strategy == "matmul" else "matmul"
    label = f"exactmd torch ({device}, {other} kernel)"
    masked_mib = 3**n * 8 / 2**20
    if t_default * 2 > args.max_seconds:
        return _row("profile", n, label, None, masked_mib=masked_mib, note="skipped: time")

    def run() -> np.ndarray:
        plan = plan_subset_entropies(pt.shape, be, strategy=other)
        h = streamed_subset_entropies(pt, pt.shape, be, plan)
        # the profile as exactmd forms it (same summation), so the diff is the kernel's alone
        hbar = sums_by_popcount(h.reshape(-1), n) / np.array([comb(n, k) for k in range(n + 1)])
        return np.asarray(hbar[:-1] - hbar[1:], dtype=np.float64)

    t, f = best_time(run, args.repeat, sync)
    row = _row("profile", n, label, t, masked_mib=masked_mib, speedup=t_default / t)
    row["note"] = f"speed-up vs the {plan0.strategy} kernel (the default here)"
    row["max_abs_diff"] = float(np.abs(f - base).max())
    return row


def palg_rows(
    n: int, device: str, args: argparse.Namespace, state: dict[str, Any]
) -> list[dict[str, Any]]:
    """The issue's p_alg targets: binary, K = 4, exchangeable, exact denoiser, torch on ``device``.

    Timed once (after a warm-up on a small law); the answer is checked to be a law (sums to 1,
    no negative entry). Skipped when the time extrapolated from the previous size by the number
    of products formed exceeds ``--max-seconds``.
    """
    from benchmarks.bench_sampler import constant_sizes
    from exactmd.sampler.p_alg import output_distribution

    sizes = constant_sizes(n, 4)
    bounds = np.cumsum([0, *sizes])
    work = sum(comb(n, b) * 2**b * comb(b, b - a) for a, b in itertools.pairwise(bounds.tolist()))
    label, note = f"exactmd torch ({device})", f"binary, K=4, sizes {sizes}, exact denoiser"
    last = state.get("palg")
    if last is not None and last[1] * work / last[0] > args.max_seconds:
        guess = last[1] * work / last[0]
        note += f"; skipped: about {guess:.0f} s expected > --max-seconds"
        return [_row("p_alg", n, label, None, note=note)]
    if last is None:  # warm-up: CUDA context and kernels
        output_distribution(
            random_binary_joint(8),
            constant_sizes(8, 4),
            backend="torch",
            device=device,
            progress=False,
        )
    p = random_binary_joint(n, seed=n)
    t, out = best_time(
        lambda: output_distribution(p, sizes, backend="torch", device=device, progress=False),
        1,
        lambda: None,
    )
    state["palg"] = (work, t)
    out = np.asarray(out, dtype=np.float64)
    if out.min() < -1e-15 or abs(out.sum() - 1.0) > 1e-9:
        raise AssertionError(f"p_alg at N={n} on {device} is not a law: sum {out.sum()}")
    return [
        _row(
            "p_alg",
            n,
            label,
            t,
            max_abs_diff=abs(float(out.sum()) - 1.0),
            note=note + "; diff = |sum - 1|",
        )
    ]
