"""A reference Monte Carlo run of the factorized sampler, vectorised over samples.

:func:`sample` runs the algorithm itself (docs/design.md, "The sampler"): at step k it picks
``z_k`` among the
masked positions as the planner does (uniform ``s_k``-subset, the planned block, or each masked
position independently with probability ``r_k``), calls the denoiser once on the current tokens
and draws every ``x_i``, ``i ∈ z_k``, independently from its row. Its empirical law
(:func:`empirical_law`) converges to :func:`~exactmd.sampler.p_alg.output_distribution`; the tests
compare the two with a goodness-of-fit test.

Examples
--------
>>> import numpy as np
>>> p = np.array([[0.5, 0.0], [0.0, 0.5]])
>>> x = sample(p, [[0], [1]], 1000, seed=0)
>>> x.shape, bool(np.all(x[:, 0] == x[:, 1]))
((1000, 2), True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exactmd._validate import as_integer, check_seed
from exactmd.backends import get_backend
from exactmd.backends._memory import require_fits
from exactmd.denoisers.calls import check_denoiser_law, denoiser_rows
from exactmd.denoisers.exact import ExactDenoiser
from exactmd.errors import ValidationError, describe
from exactmd.law.distribution import as_distribution
from exactmd.sampler.prompted import prompted_sample, takes_prompt
from exactmd.schedules.custom import schedule_method
from exactmd.schedules.kinds import (
    as_schedule,
)

__all__ = ["sample", "empirical_law"]


def _check_count(n: Any) -> int:
    count = as_integer(n)  # the one rule for integers (2.0 is 2)
    if count is None or count < 0:
        raise ValidationError(f"n: must be an integer >= 0 (number of samples); received {n!r}")
    return count


def sample(
    p: Any,
    schedule: Any,
    n: int,
    denoiser: Any = None,
    seed: Any = None,
    *,
    backend: str | None = None,
    device: Any = None,
    prompt: Any = None,
) -> np.ndarray:
    """Draw ``n`` outputs of the factorized sampler.

    Parameters
    ----------
    p
        The law π (gives the alphabets, and the exact denoiser when ``denoiser`` is None).
    schedule
        Sizes (exchangeable), an ordered partition (deterministic) or a
        :class:`~exactmd.schedules.kinds.Schedule` (random reveal included).
    n
        Number of samples.
    denoiser
        None for π's exact conditionals, else any contract denoiser (checked like in
        :func:`~exactmd.sampler.p_alg.output_distribution`).
    seed
        Seed of ``numpy.random.default_rng``: an integer ``>= 0``, a Generator, or None
        (anything else raises :class:`~exactmd.errors.ValidationError` naming ``seed``).
    backend, device
        Where the exact denoiser runs (default: the backend of ``p``).
    prompt
        ``{position: value}`` fixed as revealed before the run (None: no prompt); every row
        carries its values. The schedule covers the free positions as in
        :func:`~exactmd.sampler.p_alg.output_distribution` (the samplers of
        :mod:`exactmd.samplers` take the prompt themselves).

    Returns
    -------
    numpy.ndarray
        int64 array ``(n, N)`` of outcomes.

    Examples
    --------
    >>> import numpy as np
    >>> sample(np.full((2, 3), 1 / 6), [2], 4, seed=1).shape
    (4, 2)
    """
    d = as_distribution(p, backend=backend, device=device)
    if prompt is not None and not takes_prompt(schedule, "sample_run"):
        return prompted_sample(d, schedule, n, denoiser, seed, prompt, sample)
    # a kind that takes the prompt itself checks the schedule against the positions it covers
    sched = schedule if prompt is not None else as_schedule(schedule, d.n)
    count = _check_count(n)
    # the tokens and two temporaries of the same size, on the host
    require_fits(3 * 8 * count * d.n, get_backend(name="numpy"), f"n: {count} samples of N = {d.n}")
    seed = check_seed(seed)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    den = denoiser if denoiser is not None else ExactDenoiser(d)
    check_denoiser_law(den, d.shape)  # before drawing: a denoiser for another law
    shape = np.asarray(d.shape, dtype=np.int64)
    q, big_n = d.q, d.n
    tokens = np.full((count, big_n), q, dtype=np.int64)
    if count == 0:
        return tokens
    runner = getattr(sched, "sample_run", None)  # a kind that runs its own algorithm
    if callable(runner):
        if prompt is not None:  # a kind that takes the prompt itself (takes_prompt)
            return np.asarray(runner(d, den, count, rng, prompt))
        return np.asarray(runner(d, den, count, rng))
    reveal_step = schedule_method(sched, "reveal")  # every kind says which positions it reveals
    for k in range(sched.num_steps):
        reveal = reveal_step(k, tokens, d, den, rng)
        rows = np.nonzero(reveal.any(axis=1))[0]
        if rows.size == 0:
            continue
        ctx = tokens[rows]
        probs = denoiser_rows(den, ctx, d)
        cdf = np.cumsum(probs, axis=2)
        u = rng.random((len(rows), big_n, 1))
        values = np.minimum((cdf < u * cdf[:, :, -1:]).sum(axis=2), shape[None, :] - 1)
        tokens[rows] = np.where(reveal[rows], values, ctx)
    return tokens


def empirical_law(samples: Any, shape: tuple[int, ...]) -> np.ndarray:
    """The empirical law of ``samples`` (int ``(n, N)``) as a float64 table of ``shape``.

    Examples
    --------
    >>> empirical_law(np.array([[0, 1], [0, 1], [1, 0], [0, 0]]), (2, 2)).tolist()
    [[0.25, 0.5], [0.25, 0.0]]
    """
    x = np.asarray(samples)
    dims = tuple(int(s) for s in shape)
    if x.ndim != 2 or x.shape[1] != len(dims) or not np.issubdtype(x.dtype, np.integer):
        raise ValidationError(
            f"samples: must be an int array (n, {len(dims)}); received {describe(x)}"
        )
    if x.shape[0] == 0:
        raise ValidationError("samples: needs at least one sample; received 0")
    if np.any(x < 0) or np.any(x >= np.asarray(dims)[None, :]):
        raise ValidationError(f"samples: values must lie in range(q_i) for shape {dims}")
    flat = np.ravel_multi_index(tuple(x.T), dims)
    counts = np.bincount(flat, minlength=int(np.prod(dims)))
    return np.asarray(counts / x.shape[0], dtype=np.float64).reshape(dims)
