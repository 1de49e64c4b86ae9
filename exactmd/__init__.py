"""exactmd: exact analysis of masked discrete diffusion samplers.

Enumerate a small law π exactly and compute every quantity of the theory of factorized
(parallel) unmasking: entropies, total correlation, D(π), the information profile f, the
factorization error E_fact, the learning error E_learn, the sampler's exact output law p_alg,
and optimal schedules. All quantities are in nats. ``import exactmd`` imports numpy only.

The top level holds the contract names and the few a newcomer needs first. The rest lives in
the subpackages, whose folders follow the pipeline (each ``__init__`` lists its names):

- :mod:`exactmd.backends` — numpy (the reference), torch (CPU and CUDA) and symbolic arrays;
- :mod:`exactmd.law` — validation and the :class:`Distribution` object;
- :mod:`exactmd.enumeration` — the masked-marginal tensor, subset entropies, conditionals and
  memory plans;
- :mod:`exactmd.measures` — H, TC, DTC, D(π), the information profile f, KL;
- :mod:`exactmd.schedules` — schedule kinds, E_fact and its bounds, the optimum, scaling;
- :mod:`exactmd.denoisers` — the denoiser contract, the exact and perturbed denoisers;
- :mod:`exactmd.sampler` — p_alg, E_learn, the bound report, planners, Monte Carlo,
  estimation of f;
- :mod:`exactmd.models`, :mod:`exactmd.symbolic`, :mod:`exactmd.testing`,
  :mod:`exactmd.cli` — laws from models and files, exact sympy results, the test oracle, and
  the command line.

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

from exactmd import models as models
from exactmd.denoisers.exact import as_denoiser as as_denoiser
from exactmd.denoisers.exact import exact_denoiser as exact_denoiser
from exactmd.denoisers.exact import perturbed_denoiser as perturbed_denoiser
from exactmd.enumeration.queries import conditional as conditional
from exactmd.enumeration.queries import marginal as marginal
from exactmd.errors import ExactmdError as ExactmdError
from exactmd.law.conditional import conditional_law as conditional_law
from exactmd.law.distribution import Distribution as Distribution
from exactmd.law.distribution import as_distribution as as_distribution
from exactmd.measures.information import complexity as complexity
from exactmd.measures.information import conditional_entropy as conditional_entropy
from exactmd.measures.information import dual_total_correlation as dual_total_correlation
from exactmd.measures.information import entropy as entropy
from exactmd.measures.information import information_profile as information_profile
from exactmd.measures.information import kl as kl
from exactmd.measures.information import mutual_information as mutual_information
from exactmd.measures.information import total_correlation as total_correlation
from exactmd.measures.markov import markov_profile as markov_profile
from exactmd.sampler.adaptive import AdaptiveSchedule as AdaptiveSchedule
from exactmd.sampler.bound import BoundReport as BoundReport
from exactmd.sampler.bound import check_bound as check_bound
from exactmd.sampler.estimate import estimate_profile as estimate_profile
from exactmd.sampler.learning import learning_error as learning_error
from exactmd.sampler.montecarlo import sample as sample
from exactmd.sampler.p_alg import output_distribution as output_distribution
from exactmd.schedules.factorization import factorization_error as factorization_error
from exactmd.schedules.kinds import DeterministicSchedule as DeterministicSchedule
from exactmd.schedules.kinds import ExchangeableSchedule as ExchangeableSchedule
from exactmd.schedules.kinds import RandomRevealSchedule as RandomRevealSchedule
from exactmd.schedules.optimum import optimal_schedule as optimal_schedule

__version__ = "0.1.0"

_LAZY = {
    # name -> module; these import torch, sympy or hypothesis, so they load on first use
    "ExactDenoiserModule": "exactmd.denoisers.torch_module",
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
    # the API contract (docs/design.md, "Public API contract")
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
    # laws, the sampler, denoisers and the bound report
    "Distribution",
    "as_distribution",
    "sample",
    "check_bound",
    "BoundReport",
    "exact_denoiser",
    "perturbed_denoiser",
    "as_denoiser",
    "ExactDenoiserModule",
    # more measures, estimation, Markov chains at any N
    "conditional_entropy",
    "mutual_information",
    "marginal",
    "conditional",
    "conditional_law",
    "estimate_profile",
    "markov_profile",
    # schedule kinds
    "ExchangeableSchedule",
    "DeterministicSchedule",
    "RandomRevealSchedule",
    "AdaptiveSchedule",
    # the base of every error (its subclasses are in exactmd.errors)
    "ExactmdError",
    # namespaces (symbolic and testing load on first access)
    "models",
    "symbolic",
    "testing",
]
