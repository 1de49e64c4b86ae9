"""Exact optimal exchangeable schedules by dynamic programming on the boundaries a_k.

For an exchangeable schedule with boundaries ``0 = a_0 < a_1 < … < a_K = N`` (docs/design.md,
"Optimal schedules")

    E_fact = Σ_{i<N} f(i) − Σ_k (a_{k+1} − a_k) f(a_k) = Σ_k c(a_k, a_{k+1}),
    c(a, b) = Σ_{i=a}^{b−1} (f(i) − f(a)),

a sum of step costs, so the minimum over all K-step schedules is a shortest path with exactly K
edges. With ``W_j(a)`` the least cost of going from ``a`` revealed positions to N in exactly j
steps, ``W_0(N) = 0`` and ``W_j(a) = min_{a < b <= N} c(a, b) + W_{j−1}(b)``. One table of
``W_j`` for ``j = 1..K_max`` serves every K at once: ``min E_fact(K) = W_K(0)`` (the optimal
curve) and the sizes for any K are read off the same table. Cost ``O(K_max N²)`` time, vectorised
with numpy over (a, b); memory ``O(N² + K_max N)``.

**Ties.** The sizes returned are the lexicographically smallest among the optimal ones: from
``a_k`` the next boundary is the smallest b whose cost-to-go is within ``tie_tol`` of the
minimum. ``tie_tol`` defaults to ``1e-11 · N · (max f − min f) + 1e-14 · N · max|f|``: the
first term scales with the spread of f (adding a constant to f changes no E_fact, so it must not
change the tolerance), the second covers float rounding of the sums. Exactly tied schedules
(e.g. every schedule for an independent law) give a reproducible answer, and the value returned
is within ``K · tie_tol`` of the exact minimum.

**Input.** ``p_or_profile`` is read as a profile f when it is a 1-D sequence or array of numbers
(list, tuple, numpy array, torch tensor), and as a law otherwise (f is then
:func:`~exactmd.measures.information.information_profile`). A
:class:`~exactmd.law.distribution.Distribution`
is always a law. So a **law of one variable** (N = 1), whose table is 1-D, must be passed as a
Distribution, e.g. ``optimal_error(as_distribution([0.3, 0.7]), 1)``: the bare array
``[0.3, 0.7]`` is the profile of a law with N = 2.

**Any profile.** The DP is exact for every finite f: no sign, monotonicity or convexity is
required or checked, so synthetic profiles (e.g. ``f(i) = (i / N) ** 2``, or a decreasing one)
can be explored freely. Only the profile of an actual law has the properties the theory's
statements use (docs/design.md, "Information profile"): f non-decreasing (conditioning does not
increase entropy), f <= 0
(entropies of discrete laws are >= 0), ``f(N−1) − f(0) = D(π)`` and ``Σ f = −H``; the bounds
``E_fact <= (max s_k − 1) D(π)`` and ``E_fact >= 0``, and the shape of the optimal sizes
(non-increasing for convex f, non-decreasing for concave f) assume a non-decreasing f. For a
decreasing f the "E_fact" the DP minimises can be negative: it is the formula's value, not a
KL.

Examples
--------
>>> import numpy as np
>>> f = np.log([0.1, 0.2, 0.5, 0.9, 1.0])  # any non-decreasing profile
>>> optimal_schedule(f, 2)
(2, 3)
>>> table = optimal_table(f, 5)
>>> table.sizes(3), np.round(table.curve(), 4).tolist()
((2, 1, 2), [6.8024, 1.9741, 0.7985, 0.1054, 0.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from exactmd._validate import check_steps
from exactmd.backends import get_backend, is_torch_tensor
from exactmd.backends._memory import require_fits
from exactmd.errors import ScheduleError, describe
from exactmd.law.distribution import Distribution, as_distribution
from exactmd.measures.information import information_profile
from exactmd.typing import FloatArray, IntArray

__all__ = [
    "as_profile",
    "OptimalTable",
    "optimal_table",
    "optimal_schedule",
    "optimal_error",
    "optimal_curve",
    "step_costs",
]


def as_profile(p_or_profile: Any) -> FloatArray:
    """f as a float64 array: a 1-D sequence of numbers is taken as f, anything else as a law.

    Examples
    --------
    >>> as_profile([-1.0, -1.0, 0.0]).tolist()
    [-1.0, -1.0, 0.0]
    >>> as_profile([[0.5, 0.0], [0.0, 0.5]]).round(4).tolist()
    [-0.6931, 0.0]
    """
    if _is_exact(p_or_profile):  # exact laws and profiles: 50 digits, then rounded
        return _exact_profile(p_or_profile)
    if isinstance(p_or_profile, Distribution):
        return information_profile(p_or_profile)
    candidate: Any = None
    if is_torch_tensor(p_or_profile):
        if p_or_profile.ndim == 1:
            candidate = p_or_profile.detach().cpu().double().numpy()
    elif isinstance(p_or_profile, (list, tuple, np.ndarray)):
        try:
            arr = np.asarray(p_or_profile)
        except (TypeError, ValueError):  # ragged nested lists: let the law reader explain
            arr = None
        if arr is not None and arr.ndim == 1 and arr.dtype.kind in "biuf":
            candidate = arr
    if candidate is None:
        return information_profile(p_or_profile)
    f = np.asarray(candidate, dtype=np.float64)
    if f.size == 0 or not np.all(np.isfinite(f)):
        raise ScheduleError(
            f"profile: must be a non-empty 1-D array of finite floats; received {describe(f)}"
        )
    return f


def _is_exact(x: Any) -> bool:
    """Exact input: a symbolic law, a numpy object array, a sympy object, or (nested) lists
    holding a sympy object."""
    if isinstance(x, Distribution):
        return x.backend.exact
    if isinstance(x, np.ndarray):
        return x.dtype == object
    if type(x).__module__.startswith("sympy"):
        return True
    if isinstance(x, list | tuple):
        return any(_is_exact(v) for v in x)
    return False


def _exact_profile(x: Any) -> FloatArray:
    """The float64 profile of an exact law, or of an exact 1-D profile, each value evaluated
    to 50 digits and then rounded (free symbols must be substituted first)."""
    arr = None
    if not isinstance(x, Distribution):
        try:
            arr = np.asarray(x, dtype=object)
        except (TypeError, ValueError):  # pragma: no cover - ragged input: read it as a law
            arr = None
    if arr is not None and arr.ndim == 1:
        values = arr.tolist()
    else:
        values = information_profile(as_distribution(x, backend="symbolic"))
    return get_backend(name="symbolic").float64(values, "p_or_profile")


def step_costs(profile: Any) -> FloatArray:
    """The matrix ``c[a, b] = Σ_{i=a}^{b−1} (f(i) − f(a))`` for ``0 <= a < N``, ``0 <= b <= N``
    (``+inf`` where ``b <= a``): the E_fact contributed by a step from a to b revealed positions.

    Examples
    --------
    >>> step_costs([0.0, 1.0, 3.0])[0].tolist()
    [inf, 0.0, 1.0, 4.0]
    """
    f = as_profile(profile)
    n = f.size
    cum = np.concatenate([[0.0], np.cumsum(f)])
    a = np.arange(n)[:, None]
    b = np.arange(n + 1)[None, :]
    with np.errstate(invalid="ignore"):
        cost = (cum[None, :] - cum[:n, None]) - (b - a) * f[:, None]
    cost[b <= a] = np.inf
    return cost


def _check_steps(steps: Any, n: int, name: str = "steps") -> int:
    return check_steps(steps, n, name, ScheduleError)


@dataclass(frozen=True)
class OptimalTable:
    """The DP tables for a profile, serving every ``K <= max_steps``.

    Attributes
    ----------
    profile
        f, float64 of length N.
    cost_to_go
        ``W[j, a]``: the least E_fact of going from ``a`` revealed positions to N in exactly j
        steps (``inf`` where impossible); shape ``(max_steps + 1, N + 1)``.
    choice
        ``choice[j, a]``: the next boundary (smallest among the optimal ones) from ``a`` with j
        steps left; shape ``(max_steps + 1, N + 1)``, −1 where impossible.
    tie_tol
        The tolerance within which two costs count as tied.
    """

    profile: FloatArray
    cost_to_go: FloatArray
    choice: IntArray
    tie_tol: float

    @property
    def n(self) -> int:
        """N."""
        return int(self.profile.size)

    @property
    def max_steps(self) -> int:
        """The largest K the table serves."""
        return int(self.cost_to_go.shape[0] - 1)

    def boundaries(self, steps: int) -> tuple[int, ...]:
        """The optimal ``(a_0 = 0, a_1, …, a_K = N)`` for K = ``steps``."""
        k = _check_steps(steps, self.max_steps)
        out = [0]
        for j in range(k, 0, -1):
            out.append(int(self.choice[j, out[-1]]))
        return tuple(out)

    def sizes(self, steps: int) -> tuple[int, ...]:
        """The optimal sizes ``(s_1, …, s_K)`` (lexicographically smallest among ties)."""
        a = self.boundaries(steps)
        return tuple(a[k + 1] - a[k] for k in range(len(a) - 1))

    def error(self, steps: int) -> float:
        """The least E_fact over exchangeable schedules with K = ``steps``."""
        return float(self.cost_to_go[_check_steps(steps, self.max_steps), 0])

    def curve(self) -> FloatArray:
        """The least E_fact for K = 1..max_steps (entry K − 1)."""
        return np.asarray(self.cost_to_go[1:, 0], dtype=np.float64)


def optimal_table(
    p_or_profile: Any, max_steps: int | None = None, tie_tol: float | None = None
) -> OptimalTable:
    """Run the DP once for every K up to ``max_steps`` (default N).

    Parameters
    ----------
    p_or_profile
        A profile f (1-D) or a law (see the module notes).
    max_steps
        The largest K needed; time is ``O(max_steps · N²)``.
    tie_tol
        Costs within this of the minimum count as tied (default
        ``1e-11 · N · (max f − min f) + 1e-14 · N · max|f|``).

    Raises
    ------
    MemoryPlanError
        Before allocating, when the DP's ``3 · 8 · N (N + 1) + 16 (K_max + 1)(N + 1)`` bytes
        exceed the host's budget (``MEMORY_SAFETY_FRACTION`` of the memory available, the rule
        of every memory plan).

    Examples
    --------
    >>> t = optimal_table([-1.0, -1.0, 0.0])
    >>> t.sizes(2), t.error(2), t.curve().tolist()
    ((2, 1), 0.0, [1.0, 0.0, 0.0])
    """
    f = as_profile(p_or_profile)
    n = f.size
    k_max = n if max_steps is None else _check_steps(max_steps, n, "max_steps")
    # the cost matrix with two temporaries of its size, the cost-to-go and the choices
    need = 3 * 8 * n * (n + 1) + 16 * (k_max + 1) * (n + 1)
    require_fits(need, get_backend(name="numpy"), f"profile: the DP for N={n}, K_max={k_max}")
    spread = float(np.max(f) - np.min(f))
    default_tol = 1e-11 * n * spread + 1e-14 * n * float(np.max(np.abs(f)))
    tol = default_tol if tie_tol is None else float(tie_tol)
    if not (np.isfinite(tol) and tol >= 0):
        raise ScheduleError(f"tie_tol: must be a finite float >= 0; received {tie_tol!r}")
    cost = step_costs(f)
    w = np.full((k_max + 1, n + 1), np.inf)
    choice = np.full((k_max + 1, n + 1), -1, dtype=np.int64)
    w[0, n] = 0.0
    for j in range(1, k_max + 1):
        # j steps left from a: a <= N - j, and the next boundary b <= N - j + 1
        rows, cols = n - j + 1, n - j + 2
        total = cost[:rows, :cols] + w[j - 1, None, :cols]
        best = total.min(axis=1)
        pick = np.argmax(total <= (best + tol)[:, None], axis=1)
        w[j, :rows] = best
        choice[j, :rows] = np.where(np.isfinite(best), pick, -1)
    return OptimalTable(profile=f, cost_to_go=w, choice=choice, tie_tol=tol)


def optimal_schedule(p_or_profile: Any, steps: int) -> tuple[int, ...]:
    """The sizes ``(s_1, …, s_K)`` minimising E_fact over exchangeable K-step schedules.

    Exact, by dynamic programming (see the module notes); ties go to the lexicographically
    smallest sizes.

    Parameters
    ----------
    p_or_profile
        A law π (any accepted form) or its profile f as a 1-D array of finite numbers (any
        values: no sign or monotonicity is required, see the module notes). A 1-D array is
        always a profile: pass a one-variable law as a
        :class:`~exactmd.law.distribution.Distribution` (``as_distribution(p)``).
    steps
        K, with ``1 <= K <= N``.

    Returns
    -------
    tuple of int
        Python ints summing to N.

    Examples
    --------
    XOR of two fair bits, f = (−log 2, −log 2, 0): revealing two positions first is free.

    >>> import numpy as np
    >>> p = np.zeros((2, 2, 2))
    >>> for a in (0, 1):
    ...     for b in (0, 1):
    ...         p[a, b, a ^ b] = 0.25
    >>> optimal_schedule(p, 2)
    (2, 1)

    A synthetic profile, here decreasing (no law has one), is accepted as is; its minimum of
    the E_fact formula is then negative:

    >>> optimal_schedule([0.0, -1.0, -1.5], 2), optimal_error([0.0, -1.0, -1.5], 2)
    ((2, 1), -1.0)
    """
    f = as_profile(p_or_profile)
    k = _check_steps(steps, f.size)
    return optimal_table(f, k).sizes(k)


def optimal_error(p_or_profile: Any, steps: int) -> float:
    """The least E_fact over exchangeable K-step schedules.

    Examples
    --------
    >>> optimal_error([-1.0, -1.0, 0.0], 1)
    1.0
    """
    f = as_profile(p_or_profile)
    k = _check_steps(steps, f.size)
    return optimal_table(f, k).error(k)


def optimal_curve(p_or_profile: Any, max_steps: int | None = None) -> FloatArray:
    """The least E_fact for every K = 1..max_steps at once (entry K − 1); default max N.

    Examples
    --------
    >>> optimal_curve([0.0, 1.0, 3.0]).tolist()
    [4.0, 1.0, 0.0]
    """
    return optimal_table(p_or_profile, max_steps).curve()
