"""Benchmark of the sharded profile (exactmd.distributed) on 1 and 2 gloo ranks of this CPU.

Rows (float64, torch CPU, the Ising model on a 3 x 6 grid, N = 18; quick: 3 x 4, N = 12):
``sharded profile`` with 1 rank and with 2 ranks of 1 thread each (the single process with
2 threads is the ``profile`` row of ``bench_profile``), launched as processes with the
environment torchrun sets; the time is the call alone (best of the repeats, on rank 0
between barriers), the note gives the launch and group set-up time. A row ``scaling model``
predicts the 2-rank time from the 1-rank throughput (masked cells per second) and the
bandwidth between the two ranks measured in the same run (four block-sized sends), with
:func:`exactmd.distributed.scaling_model`. On a 2-core machine two 1-thread ranks use the
cores that one 2-thread process uses, so expect little.

``rows(device, quick)`` is what ``benchmarks/run.py`` imports; ``python
benchmarks/bench_distributed.py [--quick]`` prints the rows on its own.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from math import prod
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

__all__ = ["rows", "main", "launch"]

WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    import torch
    from exactmd.distributed import Distributed, information_profile, plan_shards
    spec, repeat, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with Distributed(backend="gloo", timeout_s=300) as g:
        ready = time.perf_counter()
        best = None
        for _ in range(repeat):
            g.dist.barrier()
            t0 = time.perf_counter()
            information_profile(spec, group=g, progress=False)
            g.dist.barrier()
            best = min(best or 1e300, time.perf_counter() - t0)
        link = None
        if g.world_size == 2:
            from exactmd.distributed import source_from_spec
            shape = source_from_spec(spec).shape
            s = plan_shards(shape, 2, "torch", available=2**40).shard_axes
            x = torch.zeros(int(torch.tensor(shape[s:]).prod()), dtype=torch.float64)
            g.dist.barrier()
            t0 = time.perf_counter()
            for _ in range(4):
                if g.rank == 0:
                    g.dist.send(x, 1)
                else:
                    g.dist.recv(x, 0)
            g.dist.barrier()
            link = 4 * x.numel() * 8 / (time.perf_counter() - t0)
        if g.rank == 0:
            json.dump({"seconds": best, "link": link, "ready": ready}, open(out, "w"))
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(spec: str, ranks: int, threads: int, repeat: int) -> dict[str, Any]:
    """Run the worker on ``ranks`` gloo ranks with ``threads`` threads each; its record."""
    with tempfile.TemporaryDirectory() as tmp:
        script, out = Path(tmp) / "worker.py", Path(tmp) / "out.json"
        script.write_text(WORKER)
        port = str(_free_port())
        start = time.perf_counter()
        procs = []
        for r in range(ranks):
            env = dict(os.environ)
            env.update(
                PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
                OMP_NUM_THREADS=str(threads),
                RANK=str(r),
                LOCAL_RANK=str(r),
                WORLD_SIZE=str(ranks),
                LOCAL_WORLD_SIZE=str(ranks),
                MASTER_ADDR="127.0.0.1",
                MASTER_PORT=port,
            )
            cmd = [sys.executable, str(script), spec, str(repeat), str(out)]
            procs.append(subprocess.Popen(cmd, env=env))
        for p in procs:
            if p.wait(timeout=1800) != 0:
                raise RuntimeError(f"the {ranks}-rank benchmark run failed ({p.returncode})")
        record = json.loads(out.read_text())
        record["wall"] = time.perf_counter() - start
        return dict(record)


def rows(device: str = "cpu", quick: bool = False) -> list[dict[str, Any]]:
    """The rows for the benchmark table (CPU only: ``device`` other than ``"cpu"`` gives
    none; a multi-GPU run is launched with torchrun, see the README)."""
    if device != "cpu":
        return []
    from exactmd.distributed import scaling_model, source_from_spec

    spec = "ising:graph=grid3x4,coupling=0.4" if quick else "ising:graph=grid3x6,coupling=0.4"
    shape = source_from_spec(spec).shape
    n, repeat = len(shape), (2 if quick else 3)
    cells = prod(q + 1 for q in shape)
    out: list[dict[str, Any]] = []
    runs = {}
    for ranks, threads in ((1, 1), (2, 1)):
        rec = launch(spec, ranks, threads, repeat)
        runs[(ranks, threads)] = rec
        out.append(
            {
                "task": "sharded profile",
                "N": n,
                "method": f"exactmd.distributed, {ranks} rank(s) x {threads} thread(s), gloo",
                "seconds": rec["seconds"],
                "note": f"{cells / rec['seconds']:.3g} masked cells/s; launch + call "
                f"{rec['wall']:.1f} s wall",
            }
        )
    one, two = runs[(1, 1)], runs[(2, 1)]
    est = scaling_model(shape, 2, cells / one["seconds"], link_bytes_per_s=two["link"])
    out.append(
        {
            "task": "sharded profile",
            "N": n,
            "method": "scaling model, 2 ranks (from the 1-rank x 1-thread throughput)",
            "seconds": est.total_s,
            "note": f"measured {two['seconds']:.3f} s; link {two['link'] / 1e9:.2f} GB/s "
            f"measured; speed-up {one['seconds'] / two['seconds']:.2f}x measured, "
            f"{est.speedup:.2f}x predicted",
        }
    )
    return out


def main(argv: list[str] | None = None) -> int:
    quick = "--quick" in (sys.argv[1:] if argv is None else argv)
    for r in rows(quick=quick):
        print(f"{r['task']:16} N={r['N']:3} {r['method']:66} {r['seconds']:8.3f} s  {r['note']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
