"""The learning error E_learn of a denoiser, for every schedule kind (exact, no sampling).

``E_learn = E[Σ_k Σ_{i∈z_k} KL(π(x_i | x_{z<k}) ‖ p(x_i | x_{z<k}))]`` with ``x ~ π`` and z drawn
by the planner. Only the contexts matter: each level of revealed sets (see
:mod:`exactmd.sampler._levels`) gets a weight per masked position, and the denoiser is called once
per
context of positive probability.

Examples
--------
>>> import numpy as np
>>> p = np.full((2, 2), 0.25)
>>> learning_error(p, [2], None)
0.0
"""

from __future__ import annotations

from math import comb
from typing import Any

import numpy as np

from exactmd._progress import progress_bar
from exactmd.denoisers.calls import check_denoiser_law, denoiser_rows
from exactmd.denoisers.exact import PerturbedDenoiser
from exactmd.law.distribution import Distribution, as_distribution
from exactmd.measures.information import nonnegative
from exactmd.sampler._levels import (
    Level,
    check_fits,
    exact_rows,
    full_level,
    group_tokens,
    masked_bytes,
    single_level,
)
from exactmd.schedules.custom import is_core_schedule, schedule_method
from exactmd.schedules.kinds import Schedule, as_schedule
from exactmd.schedules.program import revealed_count

__all__ = ["learning_error", "plan_learning", "LEARNING_LONG_RUN"]

#: Contexts (states) from which E_learn counts as a long run (its bar may appear).
LEARNING_LONG_RUN = 10**6


def _level_weights(d: Distribution, sched: Schedule) -> list[tuple[Level, np.ndarray]]:
    """Per level, a weight per masked position (index into the group's ``comps``) such that
    ``E_learn = Σ_levels Σ_sets Σ_{x_S} π(x_S) Σ_j weight · KL_j``; the weights are for the
    level's one group in the deterministic case and uniform over sets otherwise."""
    n, exact = d.n, d.backend.exact
    get_weights = schedule_method(sched, "context_weights")  # the kind's reveal probabilities
    # exact backends get the kind's exact probabilities (fractions, not floats)
    out: list[tuple[Level, np.ndarray]] = []
    for cw in get_weights(n, exact=True) if exact else get_weights(n):
        if cw.positions is not None:  # a fixed set: the positions revealed from it
            level = single_level(d.shape, cw.revealed)
            comps = level.groups[0].comps[0]
            ones = np.isin(comps, cw.positions).astype(np.int64)
            out.append((level, ones.astype(object if exact else np.float64)))
        else:  # every set of a size: the coefficient spread evenly over them
            a = revealed_count(cw.revealed)
            out.append((full_level(d.shape, a), np.full(n - a, cw.coefficient / comb(n, a))))
    return out


def plan_learning(d: Distribution, levels: list[tuple[Level, np.ndarray]]) -> int:
    """Peak bytes of :func:`learning_error` over ``levels``; raise if it cannot fit.

    Counts the masked-marginal tensor (unless cached), the index arrays of the levels and,
    for the largest chunk of contexts, the conditional rows and their temporaries (about 8
    arrays of ``R · (N − a) · q`` entries) and the denoiser's output (3 arrays of
    ``R · N · q``: as returned, on the host, checked).

    Raises
    ------
    MemoryPlanError
        Naming the bytes needed (with their parts) and the bytes available.
    """
    n, q, item = d.n, d.q, int(d.backend.itemsize)
    row_elements = d.backend.tuning.conditional_row_elements
    index = chunk = 0
    for level, _ in levels:
        index = max(index, sum(8 * g.sets.shape[0] * (n + 2) for g in level.groups))
        for g in level.groups:
            m = n - level.a
            rows = min(g.rows, max(1, row_elements // max(1, m * q)))
            chunk = max(chunk, rows * q * (8 * m * max(item, 8) + 3 * n * 8))
    parts = {"masked tensor": masked_bytes(d), "level indices": index, "context chunk": chunk}
    return check_fits(d, "E_learn", parts)


def learning_error(
    p: Any,
    schedule: Any,
    denoiser: Any,
    *,
    backend: str | None = None,
    device: Any = None,
    progress: bool | None = None,
) -> float:
    """E_learn = E[Σ_k Σ_{i∈z_k} KL(π(x_i | x_{z<k}) ‖ p(x_i | x_{z<k}))], in nats.

    The expectation is over ``x ~ π`` and the planner's ``z``. For exchangeable and random-reveal
    schedules ``z_{<k}`` is a uniform set of its size, so only contexts matter:
    ``E_learn = Σ_a c_a · mean_{|S|=a} Σ_{i∉S} E_{x_S}[KL_i]`` with ``c_a = s_k / (N − a_k)``
    (exchangeable) or ``Σ_k P[a_{k−1} = a] r_k`` (random reveal). The denoiser is called only on
    contexts with ``π(x_S) > 0``. Returns ``inf`` when it puts 0 where π does not.

    Parameters
    ----------
    p, schedule
        As in :func:`output_distribution`.
    denoiser
        A contract denoiser (numpy or torch callable, or
        :func:`~exactmd.denoisers.exact.as_denoiser`). It has no default, so that a call names the
        denoiser it measures; passing ``None`` explicitly means π's exact conditionals, the
        same convention as :func:`output_distribution`, and then every KL term vanishes and
        the result is exactly ``0.0`` (no denoiser call, no computation) — except for a
        sampler of :mod:`exactmd.samplers` that tempers or filters its values: its E_learn
        compares π with the law it actually draws from.
    backend, device
        Where to compute (default: the backend of ``p``).
    progress
        Progress bar over the contexts, as in :mod:`exactmd._progress` (``None``: only for
        runs of at least :data:`LEARNING_LONG_RUN` contexts, after a delay).

    Raises
    ------
    MemoryPlanError
        Before allocating, when the bytes needed (:func:`plan_learning`) exceed those
        available.
    DenoiserError
        Before any work, for a denoiser built for a law of another shape
        (:func:`~exactmd.denoisers.calls.check_denoiser_law`); during the run, for a denoiser that
        rejects valid tokens or breaks the output contract.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.full((2, 2), 0.25)
    >>> wrong = lambda t: np.tile([0.9, 0.1], (t.shape[0], t.shape[1], 1))
    >>> round(learning_error(p, [1, 1], wrong), 6)  # 2 KL(Bern(1/2) ‖ Bern(1/10))
    1.021651
    >>> learning_error(p, [1, 1], None)  # None: π's exact conditionals, so E_learn = 0
    0.0
    """
    d = as_distribution(p, backend=backend, device=device)
    sched = as_schedule(schedule, d.n)
    if not is_core_schedule(sched):  # a kind with its own computation, e.g. an adaptive planner
        # it is asked even for π's conditionals: a sampler that tempers or filters its values
        # draws from another law than the denoiser's rows (E_learn > 0 with the exact denoiser)
        return float(schedule_method(sched, "learning_error")(d, denoiser))
    if denoiser is None:  # π's own conditionals: every KL term is 0
        return d.backend.to_float(0)  # type: ignore[no-any-return]
    check_denoiser_law(denoiser, d.shape)  # before any work: a denoiser for another law
    levels = _level_weights(d, sched)
    plan_learning(d, levels)
    total_rows = sum(g.rows for level, _ in levels for g in level.groups)
    with progress_bar(
        total_rows,
        progress=progress,
        cells=total_rows,
        long_run=LEARNING_LONG_RUN,
        desc="E_learn",
        unit="context",
    ) as bar:
        total = _accumulate(d, levels, denoiser, bar)
    return nonnegative(d.backend.to_float(total))  # type: ignore[no-any-return]


def _log_rows(denoiser: Any, tokens: np.ndarray, d: Distribution) -> tuple[np.ndarray, np.ndarray]:
    """``log`` of the denoiser's checked rows (host) and where they are 0.

    Our :class:`~exactmd.denoisers.exact.PerturbedDenoiser` gives its logs directly, so terms stay
    finite where its probabilities underflow float64 (a small temperature); its probabilities
    are still checked like any denoiser's. On an exact backend the rows and logs are exact.
    """
    be = d.backend
    rows = denoiser_rows(denoiser, tokens, d, be)  # float64 (exact: object), on the host, checked
    if isinstance(denoiser, PerturbedDenoiser) and denoiser.exact.dist.shape == d.shape:
        logs = denoiser.log_probabilities(tokens)
        return logs, np.isneginf(logs)
    seen = be.positive(rows)
    return be.log(np.where(seen, rows, 1)), ~seen


def _accumulate(
    d: Distribution, levels: list[tuple[Level, np.ndarray]], denoiser: Any, bar: Any
) -> Any:
    """``Σ_levels Σ_contexts π(x_S) Σ_j weight_j KL_j`` (``inf`` when the denoiser misses): a
    float, or an exact expression on an exact backend."""
    be, total = d.backend, 0
    for level, weights in levels:
        live = weights > 0
        for group in level.groups:
            m = group.comps.shape[1]
            step = max(1, be.tuning.conditional_row_elements // max(1, m * d.q))
            for start in range(0, group.rows, step):
                rows = np.arange(start, min(start + step, group.rows))
                bar.update(len(rows))
                cond, den = exact_rows(d, group, rows)
                mass = be.host(den).reshape(-1)  # float64 (exact values on an exact backend)
                keep = be.positive(mass)
                if not keep.any():
                    continue
                rows, mass = rows[keep], mass[keep]
                exact = be.host(cond)[keep][:, live]
                tokens = group_tokens(d.shape, group, rows)
                where = group.comps[rows // group.size][:, :, None]
                log_rows, zero_rows = _log_rows(denoiser, tokens, d)
                log_model = np.take_along_axis(log_rows, where, axis=1)[:, live]
                missed = np.take_along_axis(zero_rows, where, axis=1)[:, live]
                pos = be.positive(exact)
                if np.any(pos & missed):
                    return be.infinity
                logs = be.log(np.where(pos, exact, 1)) - np.where(pos, log_model, 0)
                kl = np.where(pos, exact * logs, 0).sum(axis=2)
                total += mass @ (kl @ weights[live])
    return total
