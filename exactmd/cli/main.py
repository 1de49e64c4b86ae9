"""The ``exactmd`` command line.

``exactmd report [MODEL] [--steps K ...] [--backend numpy|torch] [--device DEV] [--json]
[--plot FILE] [--sampler SPEC ...]`` analyses MODEL (a zoo name with parameters such as
``parity:n=4``, a BIF/XMLBIF/UAI file, or a ``.npy`` joint; by default a built-in copy chain)
and prints H, TC, DTC, D(π), the profile f and, for each K, E_fact of the constant, cosine,
log-linear and optimal schedules, the exact KL(π ‖ p_alg) where enumerable, and the bounds.
Each ``--sampler`` (such as ``llada:steps=4,remasking=low_confidence``) adds its exact KL
against its expected denoiser calls, beside the optimal exchangeable schedule at the same
cost. The report is planned from the model's shape first
(:func:`exactmd.models.spec.spec_shape`, :func:`exactmd.cli.report.plan_report`),
so a model too large for it is refused before its joint is built. Errors are one line on
stderr with exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]

#: The extra that installs each optional package (pyproject.toml).
_EXTRAS = {
    "networkx": "models",
    "pgmpy": "models",
    "torch": "torch",
    "sympy": "symbolic",
    "matplotlib": "plot",
    "scipy": "testing",
    "hypothesis": "testing",
}


def _load(spec: str | None, args: argparse.Namespace) -> tuple[Any, str]:
    """The law and its name; for a spec, the report is planned from the spec's shape first, so
    a law too large for the report is refused before its joint is built."""
    from exactmd.cli.report import DEFAULT_MODEL, default_model, plan_report

    if spec is None:
        return default_model(), DEFAULT_MODEL
    from exactmd.models import from_spec
    from exactmd.models.spec import spec_shape

    shape = spec_shape(spec)
    if shape is not None:
        plan_report(shape, args.steps, backend=args.backend, device=args.device, name=spec)
    return from_spec(spec), spec


def _check_plot_path(path: str) -> None:
    """Refuse a --plot target that cannot be written, before any computation."""
    from pathlib import Path

    target = Path(path)
    if target.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise ValueError(f"--plot: the file name must end in .png, .pdf or .svg; received {path!r}")
    if not target.parent.exists() or not target.parent.is_dir():
        raise ValueError(
            f"--plot: the folder of the file must exist; received {path!r} "
            f"(no folder {str(target.parent)!r})"
        )


def _report(args: argparse.Namespace) -> int:
    from exactmd.cli.report import build_report, format_report
    from exactmd.law.distribution import as_distribution

    if args.plot:
        _check_plot_path(args.plot)
    law, name = _load(args.model, args)
    if args.backend is not None or args.device is not None:
        law = as_distribution(law, backend=args.backend, device=args.device)
    with_kl = False if args.no_kl else None
    rep = build_report(law, args.steps, with_kl=with_kl, name=name, samplers=args.sampler or ())
    if args.json:
        print(json.dumps(rep, indent=2))
    else:
        print(format_report(rep))
    if args.plot:
        from exactmd.cli.plotting import plot_report

        plot_report(rep, args.plot)
        if not args.json:
            print(f"\nplot written to {args.plot}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``exactmd`` command."""
    parser = argparse.ArgumentParser(
        prog="exactmd",
        description="Exact analysis of masked discrete diffusion samplers.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="analyse a model end to end (default: built-in model)")
    rep.add_argument(
        "model",
        nargs="?",
        help="zoo spec (e.g. parity:n=4, ising:n=8,coupling=0.4), .bif/.xmlbif/.uai/.npy file",
    )
    rep.add_argument("--steps", type=int, nargs="+", metavar="K", help="step counts to analyse")
    rep.add_argument("--backend", choices=["numpy", "torch"], default=None)
    rep.add_argument("--device", default=None, help="torch device, e.g. cuda")
    rep.add_argument("--json", action="store_true", help="print JSON instead of a table")
    rep.add_argument("--plot", metavar="FILE", help="write a PNG with f, schedules and errors")
    rep.add_argument("--no-kl", action="store_true", help="skip the exact KL(π‖p_alg)")
    rep.add_argument(
        "--sampler",
        action="append",
        metavar="SPEC",
        help="a sampler to compare exactly, e.g. llada:steps=4,remasking=low_confidence "
        "(repeatable; builders: llada, fast_dllm, dream, mdlm, eb, block_refinement)",
    )
    rep.set_defaults(func=_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``exactmd`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ModuleNotFoundError as exc:
        extra = _EXTRAS.get((exc.name or "").split(".")[0])
        hint = f": pip install 'exactmd[{extra}]'" if extra else ""
        print(
            f"exactmd: error: this needs the optional package {exc.name!r}{hint}", file=sys.stderr
        )
        return 2
    except (ValueError, OSError, ImportError, NotImplementedError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"exactmd: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
