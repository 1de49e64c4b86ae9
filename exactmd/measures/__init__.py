"""Measures: entropies, TC, DTC, D(π), the information profile f and KL, in nats.

- :mod:`exactmd.measures.information` — the measures of an enumerated law;
- :mod:`exactmd.measures.markov` — the exact profile of a Markov chain at any N, without
  enumeration.
"""

from exactmd.measures.information import complexity as complexity
from exactmd.measures.information import conditional_entropy as conditional_entropy
from exactmd.measures.information import dual_total_correlation as dual_total_correlation
from exactmd.measures.information import entropy as entropy
from exactmd.measures.information import information_profile as information_profile
from exactmd.measures.information import kl as kl
from exactmd.measures.information import mean_subset_entropies as mean_subset_entropies
from exactmd.measures.information import mutual_information as mutual_information
from exactmd.measures.information import total_correlation as total_correlation
from exactmd.measures.markov import markov_profile as markov_profile

__all__ = [
    "complexity",
    "conditional_entropy",
    "dual_total_correlation",
    "entropy",
    "information_profile",
    "kl",
    "markov_profile",
    "mean_subset_entropies",
    "mutual_information",
    "total_correlation",
]
