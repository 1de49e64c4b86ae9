"""The benchmark: exactmd beside a naive enumeration, dit and pgmpy, measured in one run.

Usage::

    python benchmarks/run.py --device cpu [--quick] [N ...]
    python benchmarks/run.py --device cuda 16 20 22

Rows (all float64):

- information profile of a random binary joint: exactmd numpy, exactmd torch, and the naive
  enumeration (one concatenation per axis, −m log m, per-axis reduction) in numpy and torch;
  the speed-up column is naive time / time on the same backend;
- TC + DTC: exactmd beside dit (which reports bits, converted to nats);
- a batch of conditional queries on a random Bayesian network: exactmd's batched
  ``exact_conditionals`` beside pgmpy's VariableElimination (one query at a time);
- the exact sampler law, when ``benchmarks/bench_sampler.py`` provides
  ``rows(device: str, quick: bool) -> list[dict]``.

Every answer is checked against exactmd's before it is timed (column "max abs diff"). The
table is printed and written to ``benchmarks/results/<machine>-<device>.md`` and ``.json``.
``--quick`` runs small sizes and finishes in well under a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.naive import (  # noqa: E402
    naive_bytes,
    naive_entropies_numpy,
    naive_entropies_torch,
    profile_from_entropies,
    random_binary_joint,
)
from benchmarks.peers import (  # noqa: E402
    bn_joint,
    dit_tc_dtc,
    pgmpy_queries,
    random_bayes_net,
    random_queries,
)

__all__ = ["main", "run"]


def _best(fn: Callable[[], Any], repeat: int, sync: Callable[[], None]) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        sync()
        start = time.perf_counter()
        out = fn()
        sync()
        best = min(best, time.perf_counter() - start)
    return best, out


def _peak_numpy(fn: Callable[[], Any]) -> float:
    """Peak bytes numpy allocates during ``fn`` (tracemalloc), in MiB."""
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def machine_info(device: str) -> dict[str, Any]:
    """Platform, CPU model, core count, library versions and the torch device name."""
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["device_name"] = (
            torch.cuda.get_device_name(0) if device == "cuda" else f"torch CPU ({cpu})"
        )
    except ImportError:
        info["device_name"] = cpu
    name = info["device_name"] if device == "cuda" else f"{cpu} {info['cores']}c"
    info["machine"] = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]
    return info


def _row(task: str, n: int, method: str, seconds: float | None, **extra: Any) -> dict[str, Any]:
    return {"task": task, "N": n, "method": method, "seconds": seconds, **extra}


def profile_rows(n: int, device: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Information profile of a random binary joint: ours vs the naive enumeration."""
    import exactmd.measures as measures

    p = random_binary_joint(n, seed=n)
    rows: list[dict[str, Any]] = []
    no_sync: Callable[[], None] = lambda: None  # noqa: E731
    masked_mib = 3**n * 8 / 2**20
    ref = measures.information_profile(p)
    cap = args.naive_max_gib * 2**30

    t_np, f = _best(lambda: measures.information_profile(p), args.repeat, no_sync)
    peak = _peak_numpy(lambda: measures.information_profile(p)) if n <= 18 else None
    ours_np = _row(
        "profile",
        n,
        "exactmd numpy",
        t_np,
        peak_mib=peak,
        max_abs_diff=float(np.abs(f - ref).max()),
        masked_mib=masked_mib,
    )
    naive_ok = naive_bytes((2,) * n) <= cap
    if naive_ok:
        t_nv, h = _best(lambda: naive_entropies_numpy(p), args.repeat, no_sync)
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
    rows.append(ours_np)

    try:
        import torch
    except ImportError:
        return rows
    dev = torch.device(device)
    pt = torch.as_tensor(p, device=dev)
    sync: Callable[[], None] = (
        (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else no_sync
    )
    measures.information_profile(pt)  # warm-up
    ours_t = _row("profile", n, f"exactmd torch ({device})", None, masked_mib=masked_mib)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    t_t, f = _best(lambda: measures.information_profile(pt), args.repeat, sync)
    ours_t.update(seconds=t_t, max_abs_diff=float(np.abs(f - ref).max()))
    if dev.type == "cuda":
        ours_t["peak_mib"] = torch.cuda.max_memory_allocated(dev) / 2**20
    if naive_ok:
        try:
            t_nt, h = _best(lambda: naive_entropies_torch(pt), args.repeat, sync)
            err = float(np.abs(profile_from_entropies(h.cpu().numpy()) - ref).max())
            rows.append(
                _row(
                    "profile",
                    n,
                    f"naive torch.cat ({device})",
                    t_nt,
                    max_abs_diff=err,
                    masked_mib=masked_mib,
                    speedup=1.0,
                )
            )
            ours_t["speedup"] = t_nt / t_t
        except RuntimeError as exc:  # out of device memory
            rows.append(
                _row(
                    "profile",
                    n,
                    f"naive torch.cat ({device})",
                    None,
                    note=f"failed: {str(exc)[:60]}",
                )
            )
    else:
        for name in ("naive numpy (concatenate)", f"naive torch.cat ({device})"):
            rows.append(
                _row(
                    "profile",
                    n,
                    name,
                    None,
                    note=f"skipped: needs {naive_bytes((2,) * n) / 2**30:.1f} GiB",
                )
            )
    rows.append(ours_t)
    threads = torch.get_num_threads()
    if dev.type == "cpu" and threads > 1:  # torch's thread pool suffers on a busy machine
        torch.set_num_threads(1)
        try:
            t_1, f = _best(lambda: measures.information_profile(pt), args.repeat, sync)
        finally:
            torch.set_num_threads(threads)
        one = _row(
            "profile",
            n,
            "exactmd torch (cpu, 1 thread)",
            t_1,
            masked_mib=masked_mib,
            max_abs_diff=float(np.abs(f - ref).max()),
        )
        if "speedup" in ours_t:
            one["speedup"] = ours_t["speedup"] * t_t / t_1
            one["note"] = f"vs naive torch.cat with {threads} threads"
        rows.append(one)
    return rows


def tc_rows(n: int, repeat: int) -> list[dict[str, Any]]:
    """TC + DTC: exactmd vs dit."""
    import exactmd.measures as measures

    p = random_binary_joint(n, seed=100 + n)
    no_sync: Callable[[], None] = lambda: None  # noqa: E731

    def ours() -> tuple[float, float]:
        return measures.total_correlation(p), measures.dual_total_correlation(p)

    t_o, (tc, dtc) = _best(ours, repeat, no_sync)
    t_d, (tc_d, dtc_d) = _best(lambda: dit_tc_dtc(p), repeat, no_sync)
    err = max(abs(tc - tc_d), abs(dtc - dtc_d))
    if err > 1e-9:
        raise AssertionError(f"dit disagrees with exactmd at N={n}: {err}")
    return [
        _row("tc+dtc", n, "dit (bits -> nats)", t_d, max_abs_diff=err, speedup=1.0),
        _row("tc+dtc", n, "exactmd numpy", t_o, max_abs_diff=0.0, speedup=t_d / t_o),
    ]


def query_rows(n: int, batch: int, device: str, repeat: int) -> list[dict[str, Any]]:
    """A batch of conditional queries on a random Bayesian network: exactmd vs pgmpy."""
    from exactmd.distribution import as_distribution
    from exactmd.masked import exact_conditionals

    net = random_bayes_net(n, seed=n)
    tokens, targets = random_queries(bn_joint(net, n), batch, seed=n)
    no_sync: Callable[[], None] = lambda: None  # noqa: E731
    t_pg, ref = _best(lambda: pgmpy_queries(net, tokens, targets), 1, no_sync)
    rows = [
        _row(
            "queries",
            n,
            f"pgmpy VariableElimination ({batch} queries)",
            t_pg,
            max_abs_diff=0.0,
            speedup=1.0,
        )
    ]
    backends = [("numpy", None)]
    try:
        import torch  # noqa: F401

        backends.append(("torch", device))
    except ImportError:
        pass
    for name, dev in backends:

        def ours(name: str = name, dev: Any = dev) -> np.ndarray:
            d = as_distribution(bn_joint(net, n), backend=name, device=dev)
            probs = exact_conditionals(d, tokens)
            out = d.backend.to_numpy(probs[np.arange(batch), targets])
            return np.asarray(out, dtype=np.float64)

        ours()  # warm-up
        t, got = _best(ours, repeat, no_sync)
        err = float(np.abs(got - ref).max())
        if err > 1e-9:
            raise AssertionError(f"pgmpy disagrees with exactmd ({name}) at N={n}: {err}")
        label = "exactmd numpy" if name == "numpy" else f"exactmd torch ({device})"
        rows.append(_row("queries", n, f"{label} (batched)", t, max_abs_diff=err, speedup=t_pg / t))
    return rows


def module_rows(name: str, device: str, quick: bool) -> list[dict[str, Any]]:
    """Rows of ``benchmarks/<name>.py`` (``bench_sampler``, ``bench_schedules``), which
    provide ``rows(device: str, quick: bool) -> list[dict]``."""
    import importlib

    module = importlib.import_module(f"benchmarks.{name}")
    return list(module.rows(device=device, quick=quick))


def _fmt(x: Any, spec: str) -> str:
    return "" if x is None else format(x, spec)


def to_markdown(info: dict[str, Any], rows: list[dict[str, Any]], command: str) -> str:
    """The Markdown report: machine description and one table."""
    lines = [
        f"# exactmd benchmark: {info['machine']} ({info['device']})",
        "",
        f"- command: `{command}`",
        f"- platform: {info['platform']}; CPU: {info['cpu']} ({info['cores']} cores)",
        f"- device: {info.get('device_name')}; numpy {info['numpy']}, "
        f"torch {info.get('torch', 'absent')} ({info.get('torch_threads', '?')} threads)",
        "- float64; time = best of the repeats; speed-up = baseline time / time "
        "(baseline: the naive row of the same backend, dit, or pgmpy)",
        "",
        "| task | N | method | time (s) | speed-up | peak (MiB) | masked tensor (MiB) "
        "| max abs diff | note |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['task']} | {r['N']} | {r['method']} | {_fmt(r.get('seconds'), '.4f')} "
            f"| {_fmt(r.get('speedup'), '.2f')} | {_fmt(r.get('peak_mib'), '.1f')} "
            f"| {_fmt(r.get('masked_mib'), '.1f')} | {_fmt(r.get('max_abs_diff'), '.1e')} "
            f"| {r.get('note', '')} |"
        )
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run every row; returns the machine description and the rows."""
    info = machine_info(args.device)
    info["device"] = args.device
    rows: list[dict[str, Any]] = []
    for n in args.sizes:
        rows += profile_rows(n, args.device, args)
    if not args.no_peers:
        for n in args.dit_sizes:
            rows += tc_rows(n, args.repeat)
        rows += query_rows(args.bn_n, args.bn_batch, args.device, args.repeat)
    rows += module_rows("bench_sampler", args.device, args.quick)
    rows += module_rows("bench_schedules", args.device, args.quick)
    return info, rows


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("sizes", nargs="*", type=int, help="N values for the profile rows")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--quick", action="store_true", help="small sizes, < 1 minute")
    ap.add_argument("--repeat", type=int, default=None, help="timed repeats (best is kept)")
    ap.add_argument(
        "--naive-max-gib",
        type=float,
        default=4.0,
        help="skip the naive path when it would need more than this",
    )
    ap.add_argument("--dit-sizes", type=int, nargs="*", default=None)
    ap.add_argument("--bn-n", type=int, default=None, help="variables of the Bayesian network")
    ap.add_argument("--bn-batch", type=int, default=None, help="number of conditional queries")
    ap.add_argument("--no-peers", action="store_true", help="skip dit and pgmpy")
    ap.add_argument("--torch-threads", type=int, default=None)
    ap.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)
    if not args.sizes:
        args.sizes = [8, 10, 12] if args.quick else [12, 14, 16, 18]
    if args.repeat is None:
        args.repeat = 2 if args.quick else 3
    if args.dit_sizes is None:
        args.dit_sizes = [6, 8] if args.quick else [8, 10, 12]
    args.bn_n = args.bn_n or (8 if args.quick else 12)
    args.bn_batch = args.bn_batch or (30 if args.quick else 200)
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    info, rows = run(args)
    text = to_markdown(info, rows, command.strip())
    print(text)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    stem = args.out_dir / f"{info['machine']}-{args.device}"
    stem.with_suffix(".md").write_text(text, encoding="utf-8")
    payload = {"machine": info, "command": command.strip(), "rows": rows}
    stem.with_suffix(".json").write_text(json.dumps(payload, indent=2), encoding="utf-8")
    print(f"written: {stem}.md and {stem}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
