"""Symbolic small-N work: sympy laws in, exact sympy expressions out, identities proved.

Hand a ``sympy.Array`` (or a numpy object array) of exact numbers or expressions in free
symbols to any contract function — ``entropy``, ``total_correlation``,
``dual_total_correlation``, ``complexity``, ``information_profile`` (a list of expressions),
``factorization_error``, ``output_distribution`` (an object array), ``kl`` — and get exact
expressions back. The numeric code paths run unchanged on the symbolic backend
(:class:`exactmd.backends._symbolic.SymbolicBackend`, numpy object arrays), which also validates
exact tables; there is no second implementation here. This package holds what is
sympy-specific and names for the exact versions:

- :mod:`~exactmd.symbolic.law`: validation (:func:`as_symbolic_distribution`, with the
  ``assumptions`` it cannot prove);
- :mod:`~exactmd.symbolic.families`: :func:`general_law`, :func:`symmetric_pair`,
  :func:`ising_pair`, :func:`block_copy_law`;
- :mod:`~exactmd.symbolic.measures`: any input read as an exact law (:func:`symbolic_law`),
  exact subset entropies, profile, E_fact, KL, :func:`simplify_exact` and
  :func:`float_profile`;
- :mod:`~exactmd.symbolic.sampler`: :func:`symbolic_output_distribution`,
  :func:`symbolic_learning_error`;
- :mod:`~exactmd.symbolic.identities`: :func:`verify_identities`, :func:`verify_block_copy`.

Examples
--------
>>> import sympy
>>> from exactmd.measures.information import entropy, information_profile, total_correlation
>>> t = sympy.Symbol("t", real=True)
>>> law = symmetric_pair(t)
>>> sympy.simplify(information_profile(law)[0])
-log(2)
>>> sympy.simplify(total_correlation(law).subs(t, 0))
0
>>> entropy(sympy.Array([sympy.Rational(1, 2), sympy.Rational(1, 4), sympy.Rational(1, 4)]))
3*log(2)/2
>>> set(verify_identities(general_law((2, 2))).values())
{0}
"""

# The names are re-exported through ``__all__``, built below from the submodules' lists.
# ruff: noqa: F401

from __future__ import annotations

from exactmd.symbolic import families, identities, law, measures, sampler
from exactmd.symbolic.families import (
    block_copy_law,
    general_law,
    ising_pair,
    symmetric_pair,
)
from exactmd.symbolic.identities import (
    compositions,
    profile_increment_form,
    reveal_counts,
    verify_block_copy,
    verify_identities,
)
from exactmd.symbolic.law import (
    MAX_SYMBOLIC_CELLS,
    POSITIVITY,
    SymbolicDistribution,
    as_symbolic_distribution,
    is_identically_one,
    total_is_one,
)
from exactmd.symbolic.measures import (
    exact_masked_tensor,
    exact_subset_entropies,
    float_profile,
    is_symbolic_input,
    ordered_partitions,
    simplify_exact,
    symbolic_factorization_error,
    symbolic_information_profile,
    symbolic_kl,
    symbolic_law,
    symbolic_mean_subset_entropies,
)
from exactmd.symbolic.sampler import symbolic_learning_error, symbolic_output_distribution

# The public names are those of the submodules, each listed once, there.
__all__: list[str] = []
__all__ += law.__all__
__all__ += families.__all__
__all__ += measures.__all__
__all__ += sampler.__all__
__all__ += identities.__all__
