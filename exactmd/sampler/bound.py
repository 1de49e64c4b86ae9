"""The bound KL(π ‖ p_alg) ≤ E_learn + E_fact, checked with exact numbers.

:func:`check_bound` computes the three terms exactly (no Monte Carlo): KL from
:func:`~exactmd.sampler.p_alg.output_distribution`, E_learn from
:func:`~exactmd.sampler.learning.learning_error` and E_fact from
:func:`~exactmd.schedules.factorization.factorization_error`, and returns a :class:`BoundReport`.

Examples
--------
>>> import numpy as np
>>> p = np.zeros((2, 2, 2))
>>> p[0, 0, 0] = p[1, 1, 1] = 0.5
>>> rep = check_bound(p, [[0], [1, 2]])
>>> rep.holds, round(rep.kl, 6), round(rep.factorization_error, 6), round(rep.slack, 6)
(True, 0.0, 0.0, 0.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from exactmd.errors import ValidationError, describe
from exactmd.law.distribution import as_distribution
from exactmd.measures.information import kl as kl_divergence
from exactmd.sampler.learning import learning_error
from exactmd.sampler.p_alg import output_distribution
from exactmd.schedules.factorization import schedule_factorization_error
from exactmd.schedules.kinds import as_schedule

__all__ = ["BoundReport", "check_bound", "BOUND_ATOL", "BOUND_ATOL_FLOAT32", "BOUND_RTOL"]

#: ``holds`` allows ``KL ≤ bound + BOUND_ATOL + BOUND_RTOL · bound`` (floating-point rounding).
BOUND_ATOL = 1e-10
BOUND_RTOL = 1e-9
#: ``BOUND_ATOL`` for a law computed in float32 (``as_distribution(p, dtype="float32")``): its
#: terms differ from float64 by up to about 1e-6 (measured 6.4e-7 on random laws with zeros,
#: N = 5, where a tight bound, E_fact = KL = 0, came out with slack down to −4e-7).
BOUND_ATOL_FLOAT32 = 1e-5


@dataclass(frozen=True)
class BoundReport:
    """The exact terms of ``KL(π ‖ p_alg) ≤ E_learn + E_fact`` (all in nats).

    Attributes
    ----------
    kl : float
        KL(π ‖ p_alg); ``inf`` when p_alg is 0 where π is not.
    learning_error : float
        E_learn (0 for the exact denoiser; may be ``inf``).
    factorization_error : float
        E_fact.
    slack : float
        ``E_learn + E_fact − KL``; ``inf`` when the bound is infinite (whatever KL is, so the
        report never holds a NaN).
    holds : bool
        Whether ``KL ≤ E_learn + E_fact + tolerance``.
    schedule : str
        The schedule's repr.
    denoiser : str
        ``"exact"`` or the denoiser's repr.
    tolerance : float
        The rounding allowance ``holds`` used: :data:`BOUND_ATOL` (:data:`BOUND_ATOL_FLOAT32`
        for a law computed in float32) ``+`` :data:`BOUND_RTOL` ``· |E_learn + E_fact|``
        (0 when the bound is infinite). The table is normalised when it is validated (see
        :func:`exactmd.as_distribution`), so only rounding is left for it to absorb.

    Examples
    --------
    >>> import numpy as np
    >>> rep = check_bound(np.full((2, 2, 2), 1 / 8), [2, 1])  # independent: all terms 0
    >>> rep.holds, rep.kl, rep.factorization_error
    (True, 0.0, 0.0)
    """

    kl: float
    learning_error: float
    factorization_error: float
    slack: float
    holds: bool
    schedule: str = ""
    denoiser: str = "exact"
    tolerance: float = 0.0

    @property
    def bound(self) -> float:
        """``E_learn + E_fact``."""
        return self.learning_error + self.factorization_error

    def __repr__(self) -> str:
        return (
            f"BoundReport(kl={self.kl:.6g}, learning_error={self.learning_error:.6g}, "
            f"factorization_error={self.factorization_error:.6g}, slack={self.slack:.6g}, "
            f"holds={self.holds}, tolerance={self.tolerance:.3g})"
        )

    def __str__(self) -> str:
        sign = "<=" if self.holds else ">"
        return "\n".join(
            [
                f"KL(π ‖ p_alg) {sign} E_learn + E_fact  ({'holds' if self.holds else 'FAILS'})",
                f"  schedule : {self.schedule}",
                f"  denoiser : {self.denoiser}",
                f"  KL       = {self.kl:.10g} nats",
                f"  E_learn  = {self.learning_error:.10g} nats",
                f"  E_fact   = {self.factorization_error:.10g} nats",
                f"  bound    = {self.bound:.10g} nats",
                f"  slack    = {self.slack:.10g} nats",
                f"  holds up to a rounding tolerance of {self.tolerance:.3g} nats",
            ]
        )


def check_bound(
    p: Any,
    schedule: Any,
    denoiser: Any = None,
    *,
    backend: str | None = None,
    device: Any = None,
    progress: Any = None,
) -> BoundReport:
    """Compute KL(π ‖ p_alg), E_learn and E_fact exactly and report the bound.

    Parameters
    ----------
    p, schedule, denoiser
        As in :func:`~exactmd.sampler.p_alg.output_distribution`.
    backend, device, progress
        Passed on to the exact computations. A law held in float32 (e.g.
        ``as_distribution(p, dtype="float32")``) is computed in float32: its terms carry
        float32 rounding (about 1e-6) and ``holds`` uses :data:`BOUND_ATOL_FLOAT32`.

    Returns
    -------
    BoundReport

    Raises
    ------
    ValidationError
        For a symbolic law with free symbols. The report is numeric only (its ``holds`` is a
        floating-point comparison with tolerances), so a symbolic law without free symbols is
        evaluated in float64; for exact terms use :func:`exactmd.symbolic.symbolic_kl`,
        :func:`~exactmd.symbolic.symbolic_output_distribution`,
        :func:`~exactmd.symbolic.symbolic_learning_error` and
        :func:`~exactmd.symbolic.symbolic_factorization_error`.

    Examples
    --------
    >>> import numpy as np
    >>> print(check_bound(np.full((2, 2), 0.25), [2]))  # doctest: +NORMALIZE_WHITESPACE
    KL(π ‖ p_alg) <= E_learn + E_fact  (holds)
      schedule : ExchangeableSchedule(sizes=(2,))
      denoiser : exact
      KL       = 0 nats
      E_learn  = 0 nats
      E_fact   = 0 nats
      bound    = 0 nats
      slack    = 0 nats
      holds up to a rounding tolerance of 1e-10 nats
    """
    d = as_distribution(p, backend=backend, device=device)
    symbols = getattr(d, "symbols", ())  # a symbolic law's free symbols
    if symbols:
        raise ValidationError(
            f"p: check_bound is numeric only and needs a law without free symbols; received "
            f"one in {symbols} (substitute numbers, or use exactmd.symbolic.symbolic_kl, "
            "symbolic_learning_error and symbolic_factorization_error for exact terms)"
        )
    sched = as_schedule(schedule, d.n)
    palg = output_distribution(d, sched, denoiser, progress=progress)
    kl = float(kl_divergence(d, palg))  # d keeps its dtype, so its tolerance
    e_learn = float(learning_error(d, sched, denoiser, progress=progress))
    # an adaptive planner sees the sampler's denoiser: E_fact is computed with it too
    e_fact = float(schedule_factorization_error(d, sched, denoiser))
    bound = e_learn + e_fact
    tolerance = 0.0
    if math.isinf(bound):
        slack = math.inf  # an infinite bound leaves unbounded room (never NaN, even if KL = inf)
        holds = True
    elif math.isinf(kl):
        # the theorem makes KL finite here: p_alg is positive wherever π is, but some of its
        # entries are below float64's range (a denoiser with underflowing probabilities)
        raise ValidationError(
            f"denoiser: KL(π ‖ p_alg) is finite in theory (E_learn + E_fact = {bound:.6g}) but "
            f"p_alg underflows float64 to 0 where π > 0, so its KL cannot be computed; the "
            f"denoiser gives probabilities below about 1e-308 (for example a temperature near "
            f"0); received {describe(denoiser)}"
        )
    else:
        slack = bound - kl
        atol = BOUND_ATOL_FLOAT32 if d.backend.dtype == "float32" else BOUND_ATOL
        tolerance = atol + BOUND_RTOL * abs(bound)
        holds = kl <= bound + tolerance
    return BoundReport(
        kl=kl,
        learning_error=e_learn,
        factorization_error=e_fact,
        slack=slack,
        holds=bool(holds),
        schedule=repr(sched),
        denoiser="exact" if denoiser is None else repr(denoiser),
        tolerance=tolerance,
    )
