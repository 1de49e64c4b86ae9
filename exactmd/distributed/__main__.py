"""``python -m exactmd.distributed``: the sharded profile from the command line, under torchrun.

Usage::

    torchrun --nproc-per-node R -m exactmd.distributed profile MODEL --out f.json
    torchrun --nproc-per-node R -m exactmd.distributed entropies MODEL --out h.npy
    python -m exactmd.distributed plan MODEL --ranks R        # the per-rank plan, no run

``MODEL`` is a model string or file (:func:`exactmd.models.from_spec`'s grammar). Every rank
runs the same command; rank 0 writes ``--out`` (JSON with the profile, the plan and the
time; or the ``(2,)*N`` subset entropies as ``.npy``) and prints the summary. Exit status: 0
on success, 2 for a refused argument or memory plan, 1 when a collective failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from exactmd.distributed._group import DEFAULT_TIMEOUT_S, Distributed, DistributedError
from exactmd.distributed.engine import as_source, information_profile, subset_entropies
from exactmd.distributed.plan import plan_shards
from exactmd.errors import ExactmdError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m exactmd.distributed",
        description="Exact subset entropies and information profile, sharded over the ranks "
        "of a torch.distributed process group (run it under torchrun).",
    )
    ap.add_argument("command", choices=("profile", "entropies", "plan"))
    ap.add_argument("model", help="a model string (e.g. ising:graph=grid5x6) or a model file")
    ap.add_argument("--out", help="output file (rank 0 writes it)")
    ap.add_argument("--backend", choices=("torch", "numpy"), default="torch")
    ap.add_argument("--shard-axes", type=int, default=None)
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds")
    ap.add_argument("--ranks", type=int, default=None, help="for 'plan': the number of ranks")
    ap.add_argument("--no-progress", action="store_true")
    return ap


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "plan":
            source = as_source(args.model)
            plan = plan_shards(
                source.shape, args.ranks or 1, args.backend, shard_axes=args.shard_axes
            )
            print(plan)
            return 0
        with Distributed(timeout_s=args.timeout) as group:
            start = time.perf_counter()
            kw = {
                "group": group,
                "backend": args.backend,
                "shard_axes": args.shard_axes,
                "progress": False if args.no_progress else None,
            }
            if args.command == "profile":
                result = information_profile(args.model, **kw)  # type: ignore[arg-type]
            else:
                result = subset_entropies(args.model, **kw)  # type: ignore[arg-type]
            seconds = time.perf_counter() - start
            if group.rank == 0:
                shape = as_source(args.model).shape
                plan = plan_shards(
                    shape,
                    group.world_size,
                    args.backend if args.backend == "numpy" else None,
                    shard_axes=args.shard_axes,
                    available=2**62,
                )
                record = {
                    "model": args.model,
                    "shape": list(shape),
                    "ranks": group.world_size,
                    "backend": group.backend,
                    "shard_axes": plan.shard_axes,
                    "seconds": seconds,
                }
                if args.command == "profile":
                    record["profile"] = [float(v) for v in result]
                    if args.out:
                        Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
                elif args.out:
                    np.save(args.out, result)
                print(json.dumps({k: v for k, v in record.items() if k != "profile"}))
    except DistributedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ExactmdError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
