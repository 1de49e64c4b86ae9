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
  ``rows(device: str, quick: bool) -> list[dict]``;
- on the CPU, the schedule tools (``benchmarks/bench_schedules.py``) and f̂ estimated at
  N = 1024 with an exact chain denoiser, 1,000 samples on a 64-point grid
  (``benchmarks/bench_estimate.py``), the sharded profile on 1 and 2 gloo ranks with
  its scaling model (``benchmarks/bench_distributed.py``), and LLaDA's exact law at N = 12
  and beside a brute force over joint draws at N = 10 (``benchmarks/bench_samplers.py``).

Every answer is checked against exactmd's before it is timed (column "max abs diff"). The
table is printed and written to ``benchmarks/results/<machine>-<device>.md`` and ``.json``.
``--quick`` runs small sizes and finishes in well under a minute; its tables get the suffix
``-quick`` so they never overwrite a full run's.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_profile import _row, palg_rows, profile_rows  # noqa: E402
from benchmarks.naive import random_binary_joint  # noqa: E402
from benchmarks.peers import (  # noqa: E402
    bn_joint,
    dit_tc_dtc,
    pgmpy_queries,
    random_bayes_net,
    random_queries,
)
from benchmarks.timing import best_time  # noqa: E402

__all__ = ["main", "run"]


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
        if device == "cuda":
            props = torch.cuda.get_device_properties(0)
            info["device_memory_gib"] = round(props.total_memory / 2**30, 1)
            info["torch_cuda"] = torch.version.cuda
    except ImportError:
        info["device_name"] = cpu
    name = info["device_name"] if device == "cuda" else f"{cpu} {info['cores']}c"
    info["machine"] = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]
    return info


def tc_rows(n: int, repeat: int) -> list[dict[str, Any]]:
    """TC + DTC: exactmd vs dit."""
    import exactmd.measures.information as measures

    p = random_binary_joint(n, seed=100 + n)
    no_sync: Callable[[], None] = lambda: None  # noqa: E731

    def ours() -> tuple[float, float]:
        return measures.total_correlation(p), measures.dual_total_correlation(p)

    t_o, (tc, dtc) = best_time(ours, repeat, no_sync)
    t_d, (tc_d, dtc_d) = best_time(lambda: dit_tc_dtc(p), repeat, no_sync)
    err = max(abs(tc - tc_d), abs(dtc - dtc_d))
    if err > 1e-9:
        raise AssertionError(f"dit disagrees with exactmd at N={n}: {err}")
    return [
        _row("tc+dtc", n, "dit (bits -> nats)", t_d, max_abs_diff=err, speedup=1.0),
        _row("tc+dtc", n, "exactmd numpy", t_o, max_abs_diff=0.0, speedup=t_d / t_o),
    ]


def query_rows(n: int, batch: int, device: str, repeat: int) -> list[dict[str, Any]]:
    """A batch of conditional queries on a random Bayesian network: exactmd vs pgmpy."""
    from exactmd.enumeration.conditionals import exact_conditionals
    from exactmd.law.distribution import as_distribution

    net = random_bayes_net(n, seed=n)
    tokens, targets = random_queries(bn_joint(net, n), batch, seed=n)
    no_sync: Callable[[], None] = lambda: None  # noqa: E731
    t_pg, ref = best_time(lambda: pgmpy_queries(net, tokens, targets), 1, no_sync)
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
    backends: list[tuple[str, Any]] = [("numpy", None)]
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
        t, got = best_time(ours, repeat, no_sync)
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
        f"- device: {info.get('device_name')}"
        + (f" ({info['device_memory_gib']} GiB)" if "device_memory_gib" in info else "")
        + f"; numpy {info['numpy']}, "
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


def _peer_rows(fn: Callable[[], list[dict[str, Any]]], task: str, n: int) -> list[dict[str, Any]]:
    """``fn()``, or one row saying which peer library is missing."""
    try:
        return fn()
    except ImportError as exc:
        return [_row(task, n, "peer", None, note=f"skipped: {exc}"[:80])]


def run(
    args: argparse.Namespace,
    report: Callable[[dict[str, Any], list[dict[str, Any]]], None] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run every row; returns the machine description and the rows.

    ``report(info, rows)`` is called after every section (the tables are then written even when
    a later section is interrupted).
    """
    info = machine_info(args.device)
    info["device"] = args.device
    rows: list[dict[str, Any]] = []
    state: dict[str, Any] = {}

    def done() -> None:
        _progress(rows)
        if report is not None:
            report(info, rows)

    for n in sorted(args.sizes):
        rows += profile_rows(n, args.device, args, state)
        done()
    for n in sorted(args.palg_sizes):
        rows += palg_rows(n, args.device, args, state)
        done()
    if not args.no_peers:
        for n in args.dit_sizes:
            rows += _peer_rows(functools.partial(tc_rows, n, args.repeat), "tc+dtc", n)
        rows += _peer_rows(
            lambda: query_rows(args.bn_n, args.bn_batch, args.device, args.repeat),
            "queries",
            args.bn_n,
        )
        done()
    if not args.no_modules:
        rows += module_rows("bench_sampler", args.device, args.quick)
        done()
        if args.device == "cpu":  # numpy only: nothing to learn from it on a GPU run
            rows += module_rows("bench_schedules", args.device, args.quick)
            done()
            rows += module_rows("bench_estimate", args.device, args.quick)
            done()
            rows += module_rows("bench_distributed", args.device, args.quick)
            done()
            rows += module_rows("bench_samplers", args.device, args.quick)
            done()
    return info, rows


def _progress(rows: list[dict[str, Any]]) -> None:
    """Print the rows measured so far (one line each) as soon as they are known."""
    for r in rows:
        if not r.get("_printed"):
            r["_printed"] = True
            t = "" if r.get("seconds") is None else f"{r['seconds']:.4f} s"
            print(
                f"  {r['task']:<8} N={r['N']:<3} {r['method']:<28} {t:>12}  {r.get('note', '')}",
                flush=True,
            )


def _cuda_problem() -> str | None:
    """Why ``--device cuda`` cannot run here (None when it can)."""
    try:
        import torch
    except ImportError:
        return "--device cuda needs PyTorch, which is not installed"
    if not torch.cuda.is_available():
        return (
            f"--device cuda needs a CUDA GPU, but torch {torch.__version__} reports "
            "torch.cuda.is_available() == False"
        )
    return None


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
        help="skip a naive path on the host when it would need more than this (on CUDA the\n"
        "naive torch path is skipped when it would not fit in the GPU's free memory)",
    )
    ap.add_argument(
        "--host-max-n",
        type=int,
        default=None,
        help="largest N for the numpy rows and the full numpy reference (default: none on\n"
        "cpu, 18 on cuda; above it the torch answer is spot-checked)",
    )
    ap.add_argument(
        "--host-naive-max-n",
        type=int,
        default=None,
        help="largest N for the naive numpy row (default: none on cpu, 16 on cuda)",
    )
    ap.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="skip a row whose time, extrapolated from the previous size, exceeds this\n"
        "(default: 600 on cpu, 90 on cuda)",
    )
    ap.add_argument(
        "--palg-sizes",
        type=int,
        nargs="*",
        default=None,
        help="N for the p_alg target rows, torch only (default: none on cpu, 16 18 on cuda)",
    )
    ap.add_argument("--no-modules", action="store_true", help="skip bench_sampler/schedules")
    ap.add_argument("--dit-sizes", type=int, nargs="*", default=None)
    ap.add_argument("--bn-n", type=int, default=None, help="variables of the Bayesian network")
    ap.add_argument("--bn-batch", type=int, default=None, help="number of conditional queries")
    ap.add_argument("--no-peers", action="store_true", help="skip dit and pgmpy")
    ap.add_argument("--torch-threads", type=int, default=None)
    ap.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)
    if args.device == "cuda" and (problem := _cuda_problem()) is not None:
        print(f"benchmarks/run.py: {problem}", file=sys.stderr)
        return 2
    cuda = args.device == "cuda"
    if args.host_max_n is None and cuda:
        args.host_max_n = 18
    if args.host_naive_max_n is None and cuda:
        args.host_naive_max_n = 16
    if args.max_seconds is None:
        args.max_seconds = 90.0 if cuda else 600.0
    if args.palg_sizes is None:
        args.palg_sizes = [16, 18] if cuda else []
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
    args.out_dir.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if args.quick else ""  # a quick run never overwrites the full tables
    stem = args.out_dir / f"{machine_info(args.device)['machine']}-{args.device}{suffix}"

    def write(info: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        clean = [{k: v for k, v in r.items() if k != "_printed"} for r in rows]
        stem.with_suffix(".md").write_text(
            to_markdown(info, clean, command.strip()), encoding="utf-8"
        )
        payload = {"machine": info, "command": command.strip(), "rows": clean}
        stem.with_suffix(".json").write_text(json.dumps(payload, indent=2), encoding="utf-8")

    info, rows = run(args, write)
    write(info, rows)
    print(stem.with_suffix(".md").read_text(encoding="utf-8"))
    print(f"written: {stem}.md and {stem}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
