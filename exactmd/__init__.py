"""exactmd: exact analysis of masked discrete diffusion samplers.

Enumerate a small law π exactly and compute every quantity of the theory of factorized
(parallel) unmasking: entropies, total correlation, D(π), the information profile f, the
factorization error E_fact, the learning error E_learn, the sampler's exact output law p_alg,
and optimal schedules. All quantities are in nats. ``import exactmd`` imports numpy only.

Examples
--------
>>> import math
>>> import numpy as np, exactmd
>>> p = np.zeros((2, 2, 2))
>>> for a in (0, 1):
...     for b in (0, 1):
...         p[a, b, a ^ b] = 0.25
>>> round(exactmd.complexity(p) / math.log(2), 12)
1.0
"""

from __future__ import annotations

from typing import Any

from exactmd import models
from exactmd.adaptive import AdaptiveSchedule, least_entropy_planner, most_confident_planner
from exactmd.backends import get_backend
from exactmd.bound import BoundReport, check_bound
from exactmd.denoisers import as_denoiser, exact_denoiser, perturbed_denoiser
from exactmd.distribution import Distribution, as_distribution
from exactmd.errors import (
    DenoiserError,
    DistributionError,
    ExactmdError,
    MemoryPlanError,
    ModelError,
    ScheduleError,
    ValidationError,
)
from exactmd.estimate import ProfileEstimate, estimate_profile
from exactmd.factorization import (
    exchangeable_bound,
    factorization_error,
    worst_case_bound,
    worst_case_log_bound,
)
from exactmd.markov_profile import markov_profile
from exactmd.masked import ZERO_CONTEXT_POLICY, MemoryPlan
from exactmd.measures import (
    complexity,
    conditional_entropy,
    dual_total_correlation,
    entropy,
    information_profile,
    kl,
    mean_subset_entropies,
    mutual_information,
    total_correlation,
)
from exactmd.models import from_pgmpy, load
from exactmd.montecarlo import sample
from exactmd.optimal import optimal_curve, optimal_error, optimal_schedule
from exactmd.queries import (  # public versions: any input, host results (Python floats, numpy)
    conditional,
    marginal,
    masked_tensor,
    plan_subset_entropies,
    subset_entropies,
    subset_entropy,
)
from exactmd.sampler import learning_error, output_distribution
from exactmd.schedule_families import from_alpha, named_schedule
from exactmd.schedules import (
    DeterministicSchedule,
    ExchangeableSchedule,
    RandomRevealSchedule,
    Schedule,
    as_schedule,
)

__version__ = "0.1.0"

_LAZY = {
    # name -> module; these import torch, sympy or hypothesis, so they load on first use
    "ExactDenoiserModule": "exactmd.torch_denoiser",
    "symbolic": None,
    "testing": None,
}


def __getattr__(name: str) -> Any:
    """Load the heavy optional parts (torch module, symbolic, testing) on first access."""
    if name not in _LAZY:
        raise AttributeError(f"module 'exactmd' has no attribute {name!r}")
    import importlib

    target = _LAZY[name]
    if target is None:
        return importlib.import_module(f"exactmd.{name}")
    return getattr(importlib.import_module(target), name)


__all__ = [
    # contract (DESIGN §3)
    "entropy",
    "total_correlation",
    "dual_total_correlation",
    "complexity",
    "information_profile",
    "factorization_error",
    "learning_error",
    "output_distribution",
    "kl",
    "optimal_schedule",
    # sampler, denoisers, bound report
    "exact_denoiser",
    "perturbed_denoiser",
    "as_denoiser",
    "check_bound",
    "BoundReport",
    "sample",
    # models (exactmd.models holds the zoo)
    "models",
    "from_pgmpy",
    "load",
    # schedules: families, optimum, profile estimation, Markov chains at any N
    "from_alpha",
    "named_schedule",
    "optimal_curve",
    "optimal_error",
    "estimate_profile",
    "ProfileEstimate",
    "markov_profile",
    # backends and memory
    "get_backend",
    "MemoryPlan",
    "plan_subset_entropies",
    # measures
    "conditional_entropy",
    "mutual_information",
    "mean_subset_entropies",
    # enumeration
    "Distribution",
    "as_distribution",
    "masked_tensor",
    "subset_entropies",
    "subset_entropy",
    "marginal",
    "conditional",
    "ZERO_CONTEXT_POLICY",
    # schedules and bounds
    "Schedule",
    "ExchangeableSchedule",
    "DeterministicSchedule",
    "RandomRevealSchedule",
    "AdaptiveSchedule",
    "most_confident_planner",
    "least_entropy_planner",
    "as_schedule",
    "exchangeable_bound",
    "worst_case_bound",
    "worst_case_log_bound",
    # errors
    "ExactmdError",
    "ValidationError",
    "DistributionError",
    "ScheduleError",
    "DenoiserError",
    "MemoryPlanError",
    "ModelError",
    # loaded on first access
    "ExactDenoiserModule",
    "symbolic",
    "testing",
]
