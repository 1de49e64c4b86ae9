"""The theory in practice, with the truth: schedules from an estimated profile, judged exactly.

In practice π is unknown: f is estimated from samples with a denoiser
(:func:`~exactmd.sampler.estimate.estimate_profile`), and the schedule is computed from the
estimate f̂, by the DP (:func:`~exactmd.schedules.optimum.optimal_schedule`) or by the √ rule
``s_{k+1} ∝ 1/√Δf̂(a_k)`` (:func:`~exactmd.schedules.scaling.sqrt_rule_schedule`). For a law
with exact conditionals at any N (:class:`~exactmd.models.chains.MarkovChainLaw`,
:class:`~exactmd.models.chains.HMMLaw`) this module says what those schedules really cost.

**From f̂ to a schedule** (:func:`profile_from_estimate`). f̂ lives on a grid of ranks and is
noisy, so it is not monotone, and the √ rule needs a non-decreasing profile. By default it is
fitted by the non-decreasing polynomial of low degree closest to it in least squares weighted
by ``1/stderr²`` (:func:`monotone_fit`, in the Bernstein basis with non-decreasing
coefficients) and evaluated at every i = 0..N−1. The local alternative, the weighted isotonic
regression (:func:`isotonic`, pool-adjacent-violators) interpolated linearly, follows the noise:
its flat stretches (Δf̃ = 0) make both rules reveal large blocks there, and its schedules are
worse than the constant one (measured in docs/practice/). The DP accepts any profile; it is
given the same f̃, so that both rules see one estimate.

**Judged exactly** (Markov chain). An exchangeable schedule's E_fact is a functional of f
alone (docs/design.md, "Exchangeable identity and bounds"), so with the exact f of
:func:`~exactmd.measures.markov.markov_profile` every schedule, however it was found, has its
exact E_fact: ``Σ_i f(i) − Σ_k s_{k+1} f(a_k)``. The realised gain of a schedule is
``E_fact(schedule) / E_fact(constant)``; the theory predicts the gain of the optimum as
``(∫√f̄′)² / ∫f̄′`` (:func:`~exactmd.schedules.scaling.predicted_gain`) when N/K → ∞.

**Judged by Monte Carlo** (HMM: no closed-form f): every schedule of one K is run on the
same draws and orders by :func:`~exactmd.sampler.chain_mc.mc_factorization_error`, which
uses the exact block conditionals of the chain (module notes there).

Layer: a sampler-layer module, beside :mod:`exactmd.sampler.estimate` whose f̂ it turns into
schedules: it calls the estimator and the exact denoisers of :mod:`exactmd.denoisers.chains`,
and judges schedules of :mod:`exactmd.schedules` (the layer below) by their E_fact.

Examples
--------
>>> import numpy as np
>>> from exactmd.models import markov_chain
>>> law = markov_chain([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], 64, table=False)
>>> study = practice_study(law, sample_sizes=(50,), steps=(8,), grid=16, seed=0)
>>> row = study.rows[0]
>>> row.n_samples, row.steps, sorted(row.errors)
(50, 8, ['constant', 'optimal (f)', 'optimal (f̂)', 'sqrt rule (f)', 'sqrt rule (f̂)'])
>>> bool(row.errors["optimal (f)"] <= min(row.errors.values()) + 1e-12)
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from exactmd._validate import check_choice, check_int, check_seed
from exactmd.denoisers.chains import HMMDenoiser, MarkovChainDenoiser
from exactmd.errors import ScheduleError, ValidationError, describe
from exactmd.measures.markov import markov_profile
from exactmd.models.chains import HMMLaw, MarkovChainLaw
from exactmd.sampler.chain_mc import chain_parameters, mc_factorization_error
from exactmd.sampler.estimate import ProfileEstimate, estimate_profile
from exactmd.schedules.factorization import factorization_error_from_profile
from exactmd.schedules.families import linear
from exactmd.schedules.kinds import ExchangeableSchedule
from exactmd.schedules.optimum import optimal_table
from exactmd.schedules.scaling import predicted_gain, profile_shape, sqrt_rule_schedule
from exactmd.typing import FloatArray

__all__ = [
    "isotonic",
    "nonnegative_least_squares",
    "monotone_fit",
    "profile_from_estimate",
    "schedules_from_profile",
    "judge_schedules",
    "PracticeRow",
    "PracticeStudy",
    "practice_study",
]

# -- from f̂ to a schedule ----------------------------------------------------------------------


def isotonic(values: Any, weights: Any = None) -> FloatArray:
    """The non-decreasing sequence closest to ``values`` in weighted least squares (PAVA).

    Parameters
    ----------
    values
        1-D finite floats.
    weights
        Positive finite weights, one per value (default all 1).

    Examples
    --------
    >>> isotonic([1.0, 3.0, 2.0, 4.0]).tolist()
    [1.0, 2.5, 2.5, 4.0]
    >>> isotonic([3.0, 1.0], [3.0, 1.0]).tolist()
    [2.5, 2.5]
    """
    y = np.asarray(values, dtype=np.float64)
    if y.ndim != 1 or y.size == 0 or not np.all(np.isfinite(y)):
        raise ValidationError(
            f"values: must be a non-empty 1-D array of finite floats; received {describe(values)}"
        )
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != y.shape or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValidationError(
            f"weights: must be positive finite floats, one per value ({y.size}); received "
            f"{describe(weights)}"
        )
    # blocks of pooled values: their mean, total weight and length
    means: list[float] = []
    totals: list[float] = []
    lengths: list[int] = []
    for v, wt in zip(y.tolist(), w.tolist()):
        means.append(v)
        totals.append(wt)
        lengths.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            t = totals[-2] + totals[-1]
            m = (means[-2] * totals[-2] + means[-1] * totals[-1]) / t
            length = lengths[-2] + lengths[-1]
            del means[-1], totals[-1], lengths[-1]
            means[-1], totals[-1], lengths[-1] = m, t, length
    return np.repeat(np.asarray(means), lengths)


def nonnegative_least_squares(a: Any, b: Any) -> FloatArray:
    """``argmin_{x >= 0} ‖a x − b‖²`` by the active-set method of Lawson and Hanson.

    Examples
    --------
    >>> nonnegative_least_squares([[1.0, 0.0], [0.0, 1.0]], [2.0, -1.0]).tolist()
    [2.0, 0.0]
    """
    mat = np.asarray(a, dtype=np.float64)
    rhs = np.asarray(b, dtype=np.float64)
    if mat.ndim != 2 or rhs.shape != (mat.shape[0],) or not np.all(np.isfinite(mat)):
        raise ValidationError(
            f"a: must be a finite matrix (m, n) beside b of shape (m,); received "
            f"{describe(a)} and {describe(b)}"
        )
    n = mat.shape[1]
    tol = 1e-12 * max(1.0, float(np.abs(mat).max(initial=0.0))) * max(1, mat.shape[0])
    x = np.zeros(n)
    active = np.zeros(n, dtype=bool)  # the variables free to be > 0

    def solve(on: np.ndarray) -> FloatArray:
        z = np.zeros(n)
        z[on] = np.linalg.lstsq(mat[:, on], rhs, rcond=None)[0]
        return z

    for _ in range(3 * n + 3):  # each pass adds one variable; removals are bounded too
        grad = mat.T @ (rhs - mat @ x)
        if active.all() or float(np.max(np.where(active, -np.inf, grad))) <= tol:
            break
        active[int(np.argmax(np.where(active, -np.inf, grad)))] = True
        for _ in range(n + 1):
            z = solve(active)
            if np.all(z[active] > 0):
                x = z
                break
            bad = active & (z <= 0)
            step = float(np.min(x[bad] / (x[bad] - z[bad])))
            x = x + step * (z - x)
            active &= x > 0
            x[~active] = 0.0
    return x


SMOOTHING = ("bernstein", "isotonic", "none")


def _bernstein(x: FloatArray, degree: int) -> FloatArray:
    """The Bernstein basis ``C(d, j) x^j (1 − x)^(d − j)``, j = 0..d, at ``x``: (len(x), d + 1)."""
    j = np.arange(degree + 1)
    coef = np.array([math.comb(degree, int(v)) for v in j], dtype=np.float64)
    return coef * x[:, None] ** j * (1.0 - x[:, None]) ** (degree - j)


def monotone_fit(x: Any, y: Any, weights: Any = None, degree: int = 4) -> FloatArray:
    """Bernstein coefficients ``β_0 <= … <= β_d`` of the non-decreasing polynomial closest to
    ``(x, y)`` in weighted least squares, x in [0, 1].

    With ``β_j = c + Σ_{l <= j} δ_l``, ``δ >= 0`` (non-decreasing coefficients make a
    non-decreasing polynomial), c is eliminated (the weighted mean of the residual) and δ
    found by :func:`nonnegative_least_squares`.

    Examples
    --------
    >>> x = np.linspace(0, 1, 5)
    >>> monotone_fit(x, x**2, degree=2).round(12).tolist()  # x² = 0 b0 + 0 b1 + 1 b2
    [0.0, 0.0, 1.0]
    >>> monotone_fit(x, -x, degree=1).round(12).tolist()  # decreasing data: a constant
    [-0.5, -0.5]
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    d = check_int(degree, "degree")
    if xs.ndim != 1 or ys.shape != xs.shape or xs.size == 0 or np.any((xs < 0) | (xs > 1)):
        raise ValidationError(
            f"x: must be a 1-D array in [0, 1] beside y of the same shape; received "
            f"{describe(x)} and {describe(y)}"
        )
    w = np.ones_like(xs) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != xs.shape or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValidationError(f"weights: must be positive finite floats; received {describe(w)}")
    basis = _bernstein(xs, d)
    # β = c·1 + L δ, L[j, l] = 1 for 1 <= l <= j: the columns for δ_1..δ_d
    cum = basis[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]  # Σ_{j >= l} b_j
    sw = np.sqrt(w / w.sum())
    centred = cum - (w @ cum) / w.sum()
    delta = nonnegative_least_squares(centred * sw[:, None], (ys - (w @ ys) / w.sum()) * sw)
    c = float(w @ (ys - cum @ delta) / w.sum())
    return np.asarray(c + np.concatenate([[0.0], np.cumsum(delta)]), dtype=np.float64)


def profile_from_estimate(
    estimate: ProfileEstimate,
    n: int | None = None,
    *,
    smooth: str = "bernstein",
    degree: int = 3,
) -> FloatArray:
    """A full profile f̃ (length N) from an estimate on a grid of ranks (module notes).

    Parameters
    ----------
    estimate
        A :class:`~exactmd.sampler.estimate.ProfileEstimate`.
    n
        N (default: the last rank + 1).
    smooth
        ``"bernstein"`` (default): the non-decreasing polynomial of ``degree`` in i/(N−1)
        closest to f̂ in least squares weighted by ``1/stderr²`` (:func:`monotone_fit`);
        ``"isotonic"``: the weighted isotonic regression of f̂ (:func:`isotonic`),
        interpolated linearly; ``"none"``: f̂ interpolated linearly as it is (not monotone
        in general: the DP takes it, the √ rule does not).
    degree
        The degree of the ``"bernstein"`` fit.

    Examples
    --------
    >>> est = ProfileEstimate(
    ...     np.array([-1.0, -0.4, -0.6]), np.array([0.1, 0.1, 0.1]), np.array([0, 2, 4]), 10, 1
    ... )
    >>> profile_from_estimate(est, smooth="isotonic").tolist()
    [-1.0, -0.75, -0.5, -0.5, -0.5]
    >>> profile_from_estimate(est, degree=1).round(4).tolist()  # the best line
    [-0.8667, -0.7667, -0.6667, -0.5667, -0.4667]
    """
    if not isinstance(estimate, ProfileEstimate):
        raise ValidationError(
            f"estimate: must be a ProfileEstimate (exactmd.estimate_profile); received "
            f"{describe(estimate)}"
        )
    check_choice(smooth, "smooth", SMOOTHING)
    ranks = np.asarray(estimate.ranks, dtype=np.int64)
    size = int(ranks[-1]) + 1 if n is None else check_int(n, "n")
    if int(ranks[-1]) >= size:
        raise ValidationError(
            f"n: must exceed the largest rank of the estimate ({int(ranks[-1])}); received {size}"
        )
    values = np.asarray(estimate.profile, dtype=np.float64)
    se = np.asarray(estimate.stderr, dtype=np.float64)
    positive = se[se > 0]
    if positive.size == 0:  # no spread at all: equal weights
        w = np.ones_like(se)
    else:  # a zero stderr (a deterministic term) weighs as the smallest positive one
        w = 1.0 / np.maximum(se, float(positive.min())) ** 2
    if smooth == "bernstein":
        scale = max(size - 1, 1)
        beta = monotone_fit(ranks / scale, values, w, degree)
        grid = np.arange(size, dtype=np.float64) / scale
        return np.asarray(_bernstein(grid, check_int(degree, "degree")) @ beta)
    if smooth == "isotonic":
        values = isotonic(values, w)
    return np.asarray(np.interp(np.arange(size), ranks, values), dtype=np.float64)


def schedules_from_profile(profile: Any, steps: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The schedules a profile gives for each K: ``{K: {"optimal": …, "sqrt rule": …}}``.

    ``"optimal"`` is the DP's (:func:`~exactmd.schedules.optimum.optimal_schedule`, one table
    for every K); ``"sqrt rule"`` is :func:`~exactmd.schedules.scaling.sqrt_rule_schedule`, or
    None when the profile has no rise (D = 0) or decreases beyond rounding.

    Examples
    --------
    >>> out = schedules_from_profile([0.0, 0.0, 1.0, 3.0], [2])
    >>> out[2]["optimal"].sizes, out[2]["sqrt rule"].sizes
    ((3, 1), (3, 1))
    """
    f = np.asarray(profile, dtype=np.float64)
    ks = [check_int(k, "steps", maximum=f.size) for k in steps]
    table = optimal_table(f, max(ks))
    try:
        shape = profile_shape(f)
    except ScheduleError:  # flat or decreasing: no √ rule
        shape = None
    out: dict[int, dict[str, Any]] = {}
    for k in ks:
        optimal = ExchangeableSchedule(table.sizes(k), label="optimal")
        out[k] = {
            "optimal": optimal,
            "sqrt rule": None if shape is None else sqrt_rule_schedule(shape, k),
        }
    return out


def judge_schedules(profile: Any, schedules: Mapping[str, Any]) -> dict[str, float]:
    """The exact E_fact of each exchangeable schedule, from the law's exact profile f.

    Examples
    --------
    >>> judge_schedules([-1.0, -1.0, 0.0], {"one step": [3], "two": [2, 1]})
    {'one step': 1.0, 'two': 0.0}
    """
    f = np.asarray(profile, dtype=np.float64)
    return {label: float(factorization_error_from_profile(f, s)) for label, s in schedules.items()}


# -- the study -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PracticeRow:
    """One row of the study: f̂ from M samples, and the schedules at K steps.

    Attributes
    ----------
    n_samples, steps
        M and K.
    f_error
        ``max |f̂ − f|`` over the grid of ranks (None for an HMM, whose f is unknown).
    f_error_smoothed
        ``max_i |f̃(i) − f(i)|`` over all i, f̃ the smoothed profile the schedules used.
    coverage
        The share of the 95% intervals of f̂ that cover f (None for an HMM).
    predicted_gain
        ``(∫√f̄′)²/∫f̄′`` of f̃.
    predicted_gain_exact
        The same for the exact f (None for an HMM).
    errors, stderr
        E_fact by label (``"constant"``, ``"optimal (f̂)"``, ``"sqrt rule (f̂)"``, and for a
        Markov chain ``"optimal (f)"``, ``"sqrt rule (f)"``); stderr is 0 for exact values.
    gains, gain_stderr
        ``E_label / E_constant`` (the realised gains) and their standard errors.
    sizes
        The sizes of each schedule.
    """

    n_samples: int
    steps: int
    f_error: float | None
    f_error_smoothed: float | None
    coverage: float | None
    predicted_gain: float | None
    predicted_gain_exact: float | None
    errors: dict[str, float]
    stderr: dict[str, float]
    gains: dict[str, float]
    gain_stderr: dict[str, float]
    sizes: dict[str, tuple[int, ...]] = field(repr=False)


@dataclass(frozen=True)
class PracticeStudy:
    """The study of :func:`practice_study`: the laws' profiles, the estimates and the rows.

    Attributes
    ----------
    law
        The law's repr.
    exact
        "identity" (exact E_fact from the exact f) or "monte carlo".
    profile
        The exact f (None for an HMM).
    estimates
        M → the :class:`~exactmd.sampler.estimate.ProfileEstimate`.
    smoothed
        M → the profile f̃ the schedules were computed from.
    rows
        One :class:`PracticeRow` per (M, K).
    """

    law: str
    exact: str
    profile: FloatArray | None
    estimates: dict[int, ProfileEstimate]
    smoothed: dict[int, FloatArray]
    rows: list[PracticeRow]

    def table(self) -> str:
        """The rows as a Markdown table.

        Examples
        --------
        >>> from exactmd.models.chains import MarkovChainLaw
        >>> law = MarkovChainLaw([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], 32)
        >>> lines = practice_study(law, (20,), (4,), grid=8).table().splitlines()
        >>> lines[0][:40], len(lines)
        ('| M | K | max abs(f̂ − f) | coverage | E', 3)
        """
        exact = self.profile is not None

        def num(v: float | None, se: float | None = None) -> str:
            if v is None:
                return "—"
            return f"{v:.4g}" if not se else f"{v:.4g} ± {se:.2g}"

        if exact:
            head = (
                "| M | K | max abs(f̂ − f) | coverage | E_const | E_opt(f) | E_DP(f̂) | E_√(f̂) "
                "| gain opt(f) | gain DP(f̂) | gain √(f̂) | predicted gain (f) "
                "| predicted gain (f̂) |"
            )
        else:
            head = (
                "| M | K | E_const | E_DP(f̂) | E_√(f̂) | gain DP(f̂) | gain √(f̂) "
                "| predicted gain (f̂) |"
            )
        lines = [head, "|" + "---|" * (head.count("|") - 1)]
        for r in self.rows:
            e, se, g, gs = r.errors, r.stderr, r.gains, r.gain_stderr
            dp, sq = "optimal (f̂)", "sqrt rule (f̂)"
            if exact:
                cells = [
                    str(r.n_samples),
                    str(r.steps),
                    num(r.f_error),
                    num(r.coverage),
                    num(e["constant"]),
                    num(e["optimal (f)"]),
                    num(e[dp]),
                    num(e.get(sq)),
                    num(g["optimal (f)"]),
                    num(g[dp]),
                    num(g.get(sq)),
                    num(r.predicted_gain_exact),
                    num(r.predicted_gain),
                ]
            else:
                cells = [
                    str(r.n_samples),
                    str(r.steps),
                    num(e["constant"], se["constant"]),
                    num(e[dp], se[dp]),
                    num(e.get(sq), se.get(sq)),
                    num(g[dp], gs[dp]),
                    num(g.get(sq), gs.get(sq)),
                    num(r.predicted_gain),
                ]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)


def _gain(shape_of: Any) -> float | None:
    try:
        return predicted_gain(shape_of)
    except ScheduleError:
        return None


def practice_study(
    law: Any,
    sample_sizes: Sequence[int] = (100, 1000),
    steps: Sequence[int] = (16, 64, 256),
    *,
    grid: int | None = 64,
    n_orders: int = 1,
    seed: Any = 0,
    mc_samples: int = 200,
    smooth: str = "bernstein",
    degree: int = 3,
) -> PracticeStudy:
    """f̂ from M samples, the schedules it gives, and what they really cost (module notes).

    For each M: M exact draws from π, f̂ by :func:`~exactmd.sampler.estimate.estimate_profile`
    with the exact denoiser on ``grid`` ranks, f̃ by :func:`profile_from_estimate`; for each
    K: the constant schedule and the DP and √-rule schedules of f̃ (and, for a Markov chain,
    of the exact f), all judged exactly by the identity with the exact f (Markov chain) or by
    :func:`mc_factorization_error` with ``mc_samples`` draws, shared by every schedule
    (HMM).

    Parameters
    ----------
    law
        A :class:`~exactmd.models.chains.MarkovChainLaw` or an
        :class:`~exactmd.models.chains.HMMLaw`.
    sample_sizes
        The M to estimate f from.
    steps
        The K to compute schedules for (each ``<= N``).
    grid
        Ranks of the estimate (:func:`~exactmd.sampler.estimate.rank_grid`); None for every i.
    n_orders
        Orders per sample in the estimate.
    seed
        Seeds every draw (samples, orders, Monte Carlo), one stream each.
    smooth, degree
        How f̂ becomes the full profile f̃ (:func:`profile_from_estimate`).
    mc_samples
        Draws of the Monte Carlo E_fact (HMM only). One run per K judges every schedule of
        that K (every M) on the same draws and orders.

    Returns
    -------
    PracticeStudy
    """
    chain_parameters(law)
    sizes_m = [check_int(m, "sample_sizes", minimum=2) for m in sample_sizes]
    ks = [check_int(k, "steps", maximum=law.n) for k in steps]
    if not sizes_m or not ks:
        raise ValidationError(
            f"sample_sizes, steps: must be non-empty; received {describe(sample_sizes)} and "
            f"{describe(steps)}"
        )
    root = np.random.SeedSequence(np.random.default_rng(check_seed(seed)).integers(2**63))
    streams = iter(root.spawn(2 * len(sizes_m) + 1))
    denoiser = HMMDenoiser(law) if isinstance(law, HMMLaw) else MarkovChainDenoiser(law)
    exact_f = markov_profile(law) if isinstance(law, MarkovChainLaw) else None
    estimates: dict[int, ProfileEstimate] = {}
    smoothed: dict[int, FloatArray] = {}
    for m in sizes_m:
        x = law.sample(m, seed=np.random.default_rng(next(streams)))
        est_seed = int(np.random.default_rng(next(streams)).integers(2**63))
        estimates[m] = estimate_profile(x, denoiser, n_orders=n_orders, seed=est_seed, grid=grid)
        smoothed[m] = profile_from_estimate(estimates[m], law.n, smooth=smooth, degree=degree)
    mc_seed = int(np.random.default_rng(next(streams)).integers(2**63))
    from_estimate = {m: schedules_from_profile(smoothed[m], ks) for m in sizes_m}
    exact_schedules = schedules_from_profile(exact_f, ks) if exact_f is not None else None
    rows: list[PracticeRow] = []
    for k in ks:
        # every schedule of this K, over every M: one Monte Carlo run (shared draws) for an HMM
        labelled: dict[tuple[int, str], ExchangeableSchedule] = {}
        for m in sizes_m:
            labelled[m, "constant"] = linear(law.n, k)
            for rule in ("optimal", "sqrt rule"):
                if from_estimate[m][k][rule] is not None:
                    labelled[m, f"{rule} (f̂)"] = from_estimate[m][k][rule]
                if exact_schedules is not None and exact_schedules[k][rule] is not None:
                    labelled[m, f"{rule} (f)"] = exact_schedules[k][rule]
        if exact_f is not None:
            errors = judge_schedules(exact_f, {f"{m}:{lb}": s for (m, lb), s in labelled.items()})
            stderr = dict.fromkeys(errors, 0.0)
            gains = {
                key: _ratio(e, errors[key.split(":", 1)[0] + ":constant"])
                for key, e in errors.items()
            }
            gain_se = dict(stderr)
        else:
            named = {"constant": linear(law.n, k)}
            named.update({f"{m}:{lb}": s for (m, lb), s in labelled.items()})
            mc = mc_factorization_error(law, named, mc_samples, seed=mc_seed)
            errors, stderr, gains, gain_se = mc.errors, mc.stderr, mc.gains, mc.gain_stderr
        for m in sizes_m:
            est, ft = estimates[m], smoothed[m]
            mine = [lb for (mm, lb) in labelled if mm == m]

            sizes = {lb: tuple(labelled[m, lb].sizes) for lb in mine}
            if exact_f is not None:
                on_grid = exact_f[est.ranks]
                low, high = est.interval(0.95)
                truth: tuple[Any, ...] = (
                    float(np.max(np.abs(est.profile - on_grid))),
                    float(np.max(np.abs(ft - exact_f))),
                    float(np.mean((low <= on_grid) & (on_grid <= high))),
                )
            else:
                truth = (None, None, None)
            rows.append(
                PracticeRow(
                    n_samples=m,
                    steps=k,
                    f_error=truth[0],
                    f_error_smoothed=truth[1],
                    coverage=truth[2],
                    predicted_gain=_gain(ft),
                    predicted_gain_exact=None if exact_f is None else _gain(exact_f),
                    errors=_pick(errors, m, mine),
                    stderr=_pick(stderr, m, mine),
                    gains=_pick(gains, m, mine),
                    gain_stderr=_pick(gain_se, m, mine),
                    sizes=sizes,
                )
            )
    rows.sort(key=lambda r: (sizes_m.index(r.n_samples), ks.index(r.steps)))
    kind = "identity" if exact_f is not None else "monte carlo"
    return PracticeStudy(repr(law), kind, exact_f, estimates, smoothed, rows)


def _pick(table: dict[str, float], m: int, labels: list[str]) -> dict[str, float]:
    return {lb: table[f"{m}:{lb}"] for lb in labels}


def _ratio(value: float, reference: float) -> float:
    """``value / reference``, 1 when both are 0 (never NaN)."""
    if reference > 0:
        return value / reference
    return 1.0 if value <= 0 else math.inf
