"""The ``exactmd`` command line (the full ``report`` lands with issue 9)."""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Sequence

import numpy as np

__all__ = ["main"]


def _default_model() -> np.ndarray:
    """A noisy-copy chain of 6 bits: x_0 fair, x_{i+1} = x_i with probability 0.9."""
    n, stay = 6, 0.9
    p = np.zeros((2,) * n)
    for idx in np.ndindex(*p.shape):
        prob = 0.5
        for a, b in itertools.pairwise(idx):
            prob *= stay if a == b else 1 - stay
        p[idx] = prob
    return p


def _report(args: argparse.Namespace) -> int:
    import exactmd

    p = _default_model()
    d = exactmd.as_distribution(p)
    print(f"model: noisy-copy chain, N={d.n}, alphabets={d.shape}")
    print(f"H    = {exactmd.entropy(d):.6f} nats")
    print(f"TC   = {exactmd.total_correlation(d):.6f}")
    print(f"DTC  = {exactmd.dual_total_correlation(d):.6f}")
    print(f"D(π) = {exactmd.complexity(d):.6f}")
    print("f    = " + " ".join(f"{v:.4f}" for v in exactmd.information_profile(d)))
    for k in (1, 2, 3, d.n):
        base, extra = divmod(d.n, k)
        sizes = [base + (1 if i < extra else 0) for i in range(k)]
        print(f"K={k}: E_fact(constant {sizes}) = {exactmd.factorization_error(d, sizes):.6f}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``exactmd`` console script."""
    parser = argparse.ArgumentParser(prog="exactmd", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="analyse a model (default: a built-in one)")
    rep.set_defaults(func=_report)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
