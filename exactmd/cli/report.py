"""The main job: analyse one law end to end (measures, schedules, errors, bounds).

:func:`build_report` computes a plain dictionary (JSON-ready; keys named after the contract
functions) and :func:`format_report` renders it as a readable table. The ``exactmd report``
command line is a thin layer over both (:mod:`exactmd.cli.main`).

Examples
--------
>>> rep = build_report(default_model(), steps=[2])
>>> sorted(rep)[:4]
['alphabets', 'complexity', 'dual_total_correlation', 'entropy']
>>> row = rep["steps"][0]
>>> row["schedules"]["optimal"]["factorization_error"] <= row["schedules"]["constant"][
...     "factorization_error"] + 1e-12
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from exactmd._validate import check_steps
from exactmd.backends import get_backend
from exactmd.enumeration.plan import MemoryPlan, plan_subset_entropies
from exactmd.errors import ScheduleError, ValidationError
from exactmd.law.distribution import Distribution, as_distribution
from exactmd.measures.information import (
    complexity,
    dual_total_correlation,
    entropy,
    information_profile,
    kl,
    total_correlation,
)
from exactmd.models import markov_chain
from exactmd.models._base import plan_cells
from exactmd.samplers.compare import compare
from exactmd.samplers.spec import parse_sampler
from exactmd.schedules.factorization import factorization_error_from_profile
from exactmd.schedules.families import named_schedule
from exactmd.schedules.kinds import ExchangeableSchedule
from exactmd.schedules.optimum import OptimalTable, optimal_table

__all__ = [
    "DEFAULT_MODEL",
    "KL_MAX_CELLS",
    "build_report",
    "default_model",
    "format_report",
    "plan_report",
]

#: The built-in model: a binary Markov chain of 10 positions that copies its state with
#: probability 0.9 (numpy only, so the first README command needs no extra).
DEFAULT_MODEL = "markov chain, N=10, x_0 fair, P(x_{i+1} = x_i) = 0.9"

#: KL(π ‖ p_alg) is computed exactly when the law has at most this many outcomes.
KL_MAX_CELLS = 2**12

SCHEDULE_NAMES = ("constant", "cosine", "loglinear", "optimal")


def default_model(n: int = 10, stay: float = 0.9) -> Distribution:
    """The built-in default law: a symmetric binary copy chain (see :data:`DEFAULT_MODEL`).

    Examples
    --------
    >>> default_model(3).shape
    (2, 2, 2)
    """
    d = markov_chain([0.5, 0.5], [[stay, 1 - stay], [1 - stay, stay]], n)
    d.names = tuple(f"x{i}" for i in range(n))
    return d


def _default_steps(n: int) -> list[int]:
    candidates = {1, 2, max(1, n // 4), max(1, n // 2), n}
    return sorted(k for k in candidates if 1 <= k <= n)


def _check_steps(steps: Sequence[int] | None, n: int) -> list[int]:
    if steps is None:
        return _default_steps(n)
    out = []
    for k in steps:
        out.append(check_steps(k, n, "steps", ScheduleError))
    return sorted(set(out))


def plan_report(
    shape: Sequence[int],
    steps: Sequence[int] | None = None,
    *,
    backend: str | None = None,
    device: Any = None,
    name: str = "model",
) -> MemoryPlan:
    """Plan :func:`build_report` for a law of ``shape`` before the law exists; allocates
    nothing.

    The report's largest need is its subset entropies (every measure and the profile come from
    them); they are planned with the table π itself counted
    (:func:`~exactmd.enumeration.plan.plan_subset_entropies` with ``include_table=True``), on the
    backend the report will run on. ``steps`` are checked against N = ``len(shape)``. The exact
    KL is only computed for laws of at most :data:`KL_MAX_CELLS` cells by default, so it adds
    nothing worth planning here; :func:`~exactmd.sampler.p_alg.output_distribution` plans itself.

    Raises
    ------
    MemoryPlanError
        Naming ``name``, the bytes needed and the bytes usable, when the report cannot fit (a
        :class:`~exactmd.models.ModelSizeError` when the table alone cannot).
    ScheduleError
        A step count that is not in 1..N.

    Examples
    --------
    >>> plan_report((2,) * 10, [2]).bytes_needed > 2**10 * 8  # the table and the entropies
    True
    >>> plan_report((2,) * 60, name="ising:n=60")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.ModelSizeError: ising:n=60: the joint of 60 variables has ...
    """
    dims = tuple(int(q) for q in shape)
    be = get_backend(None, backend or "numpy", device=device)
    plan_cells(dims, be, copies=1.0, name=name)  # the table alone, from log2 sizes first
    _check_steps(steps, len(dims))
    return plan_subset_entropies(dims, be, include_table=True, name=name)


def _schedule(name: str, n: int, k: int, table: OptimalTable) -> ExchangeableSchedule:
    if name == "optimal":
        return ExchangeableSchedule(table.sizes(k), label="optimal")
    return named_schedule(name, n, k)


def build_report(
    p: Any,
    steps: Sequence[int] | None = None,
    *,
    with_kl: bool | None = None,
    name: str | None = None,
    samplers: Sequence[str] = (),
) -> dict[str, Any]:
    """Compute the full report of a law.

    Parameters
    ----------
    p
        The law (any accepted form).
    steps
        The step counts K to analyse; default ``{1, 2, N/4, N/2, N}``.
    with_kl
        Compute the exact KL(π ‖ p_alg) of each schedule (default: when the law has at most
        :data:`KL_MAX_CELLS` outcomes).
    name
        A description of the model, stored under ``"model"``.
    samplers
        Sampler specs (:func:`exactmd.samplers.parse_sampler`, e.g.
        ``"llada:steps=4,remasking=low_confidence"``) to compare exactly: stored under
        ``"samplers"`` as the rows of :func:`exactmd.samplers.compare` (KL, expected calls,
        E_fact where defined, and the optimal exchangeable schedule at the same cost). Needs
        a law of at most :data:`KL_MAX_CELLS` outcomes.

    Returns
    -------
    dict
        ``model, n, alphabets, entropy, total_correlation, dual_total_correlation, complexity,
        profile`` and ``steps``: one entry per K with ``schedules`` (``constant``, ``cosine``,
        ``loglinear``, ``optimal``; each with ``sizes``, ``factorization_error`` and ``kl``)
        and ``bounds`` (``exchangeable_bound`` of the constant schedule, ``worst_case_bound``
        (N − K) D and ``worst_case_log_bound`` (N − K) log q).
    """
    d = as_distribution(p)
    ks = _check_steps(steps, d.n)
    specs = [parse_sampler(spec, name="--sampler") for spec in samplers]  # before any work
    if specs and d.size > KL_MAX_CELLS:
        raise ValidationError(
            f"--sampler: the exact sampler laws need a law of at most {KL_MAX_CELLS} outcomes; "
            f"received shape {d.shape} ({d.size} outcomes)"
        )
    if with_kl is None:
        with_kl = d.size <= KL_MAX_CELLS
    f = information_profile(d)
    dd = complexity(d)
    table = optimal_table(f, max(ks, default=1))  # one DP serves every K
    kls: dict[tuple[int, ...], Any] = {}  # KL per sizes (at K = 1 and K = N all coincide)
    rep: dict[str, Any] = {
        "model": name or DEFAULT_MODEL,
        "n": d.n,
        "alphabets": list(d.shape),
        "names": list(d.names),
        "entropy": entropy(d),
        "total_correlation": total_correlation(d),
        "dual_total_correlation": dual_total_correlation(d),
        "complexity": dd,
        "profile": [float(v) for v in f],
        "steps": [],
    }
    for k in ks:
        row: dict[str, Any] = {"steps": k, "schedules": {}}
        for sname in SCHEDULE_NAMES:
            sched = _schedule(sname, d.n, k, table)
            entry: dict[str, Any] = {
                "sizes": list(sched.sizes),
                "factorization_error": factorization_error_from_profile(f, sched),
                "kl": None,
            }
            if with_kl:
                from exactmd.sampler.p_alg import output_distribution

                key = tuple(sched.sizes)
                if key not in kls:
                    kls[key] = kl(d, output_distribution(d, sched))
                entry["kl"] = kls[key]
            row["schedules"][sname] = entry
        constant_sizes = row["schedules"]["constant"]["sizes"]
        row["bounds"] = {
            "exchangeable_bound": (max(constant_sizes) - 1) * dd,
            "worst_case_bound": (d.n - k) * dd,
            "worst_case_log_bound": (d.n - k) * math.log(d.q),
        }
        rep["steps"].append(row)
    if specs:
        rep["samplers"] = [
            {
                "name": r.name,
                "schedule": r.schedule,
                "kl": r.kl,
                "expected_calls": r.expected_calls,
                "calls": {str(c): w for c, w in r.calls.items()},
                "factorization_error": r.e_fact,
                "note": r.note,
            }
            for r in compare(d, specs).rows
        ]
    return rep


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.6f}"


def format_report(rep: dict[str, Any]) -> str:
    """Render a :func:`build_report` dictionary as a readable text table."""
    lines = [
        f"model: {rep['model']}",
        f"N = {rep['n']}, alphabets = {tuple(rep['alphabets'])}",
        "",
        f"  H        = {rep['entropy']:.6f} nats",
        f"  TC       = {rep['total_correlation']:.6f}",
        f"  DTC      = {rep['dual_total_correlation']:.6f}",
        f"  D(π)     = {rep['complexity']:.6f}",
        "  profile f = " + " ".join(f"{v:.4f}" for v in rep["profile"]),
        "",
        f"{'K':>3}  {'schedule':<10} {'sizes':<28} {'E_fact':>10} {'KL(π‖p_alg)':>12}",
    ]
    for row in rep["steps"]:
        for sname, entry in row["schedules"].items():
            sizes = ",".join(str(s) for s in entry["sizes"])
            if len(sizes) > 28:
                sizes = sizes[:25] + "..."
            lines.append(
                f"{row['steps']:>3}  {sname:<10} {sizes:<28} "
                f"{_fmt(entry['factorization_error']):>10} {_fmt(entry['kl']):>12}"
            )
        b = row["bounds"]
        lines.append(
            f"{'':>3}  bounds: (max s − 1)D = {b['exchangeable_bound']:.6f}, "
            f"(N − K)D = {b['worst_case_bound']:.6f}, "
            f"(N − K) log q = {b['worst_case_log_bound']:.6f}"
        )
    if rep.get("samplers"):
        lines += ["", "samplers: exact KL(π‖p_alg) against expected denoiser calls"]
        lines.append(f"  {'name':<22} {'E[calls]':>9} {'KL(π‖p_alg)':>12} {'E_fact':>10}  schedule")
        for r in rep["samplers"]:
            lines.append(
                f"  {r['name']:<22} {r['expected_calls']:>9.4g} {_fmt(r['kl']):>12} "
                f"{_fmt(r['factorization_error']):>10}  {r['schedule']}"
            )
    return "\n".join(lines)
