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
    each schedule family against K. A report with ``samplers`` gets a fourth panel: each
    sampler's exact KL against its expected denoiser calls, beside the optimal exchangeable
    schedule's KL against K (its frontier).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    samplers = rep.get("samplers") or []
    fig, axes = plt.subplots(1, 4 if samplers else 3, figsize=(19 if samplers else 14, 4))
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
    if samplers:
        _plot_samplers(axes[3], rep, samplers)
    fig.suptitle(rep["model"])
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def _plot_samplers(ax: Any, rep: dict[str, Any], samplers: list[dict[str, Any]]) -> None:
    """KL against expected calls: the samplers as points, the optimal schedule as a line."""
    frontier = {}
    for r in rep["steps"]:
        value = r["schedules"]["optimal"]["kl"]
        if value is not None:
            frontier[r["steps"]] = value
    for r in samplers:
        if r["name"] == "optimal exchangeable":
            frontier[round(r["expected_calls"])] = r["kl"]
    if frontier:
        ks = sorted(frontier)
        ax.plot(ks, [frontier[k] for k in ks], "k-", marker=".", label="optimal exchangeable")
    markers = "osD^v<>ph*"
    shown = [r for r in samplers if r["name"] != "optimal exchangeable"]
    for i, r in enumerate(shown):
        label = r["schedule"] if len(r["schedule"]) <= 48 else r["schedule"][:45] + "..."
        ax.plot(r["expected_calls"], r["kl"], markers[i % len(markers)], label=label)
    ax.set(xlabel="expected denoiser calls", ylabel="KL(π‖p_alg) [nats]", title="samplers")
    ax.legend(fontsize=6)
