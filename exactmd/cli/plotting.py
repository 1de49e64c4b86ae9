"""Plots of a report: the profile f, optimal vs constant schedules, E_fact and KL against K.

matplotlib is imported lazily (``pip install 'exactmd[plot]'``) with the non-interactive Agg
backend, so plotting works on machines without a screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_report"]


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError("plotting needs matplotlib: pip install 'exactmd[plot]'") from exc
    import sys

    if "matplotlib.pyplot" not in sys.modules:  # keep a notebook's inline backend
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_report(rep: dict[str, Any], path: str | Path | None = None) -> Any:
    """Draw a :func:`exactmd.cli.report.build_report` dictionary; save it to ``path`` if given.

    Three panels: the information profile f(i); the boundaries a_k of the optimal and constant
    schedules for the largest K < N of the report; E_fact (and the exact KL where computed) of
    each schedule family against K.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    f = np.asarray(rep["profile"])
    axes[0].plot(np.arange(f.size), f, "o-")
    axes[0].set(xlabel="i (revealed so far)", ylabel="f(i) [nats]", title="information profile")

    rows = [r for r in rep["steps"] if 1 < r["steps"] < rep["n"]] or rep["steps"]
    row = rows[-1]
    for sname, style in (("constant", "s--"), ("optimal", "o-"), ("cosine", "^:")):
        sizes = row["schedules"][sname]["sizes"]
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        axes[1].plot(np.arange(bounds.size), bounds, style, label=sname)
    axes[1].set(xlabel="step k", ylabel="a_k (revealed)", title=f"schedules, K = {row['steps']}")
    axes[1].legend()

    ks = [r["steps"] for r in rep["steps"]]
    for sname in ("constant", "cosine", "loglinear", "optimal"):
        errs = [r["schedules"][sname]["factorization_error"] for r in rep["steps"]]
        axes[2].plot(ks, errs, "o-", label=f"E_fact {sname}")
        kls = [r["schedules"][sname]["kl"] for r in rep["steps"]]
        if all(v is not None for v in kls):
            axes[2].plot(ks, kls, "x:", label=f"KL {sname}")
    axes[2].plot(ks, [r["bounds"]["worst_case_bound"] for r in rep["steps"]], "k--", label="(N−K)D")
    axes[2].set(xlabel="K (steps)", ylabel="nats", title="errors against K")
    axes[2].legend(fontsize=7)
    fig.suptitle(rep["model"])
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
