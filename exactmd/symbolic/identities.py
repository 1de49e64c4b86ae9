"""The identities of the theory (docs/design.md, "Mathematics"), evaluated exactly and simplified.

Each function returns a dict ``{identity: simplified difference}``; every value is ``0`` when
the identity is proved for the law at hand (see :func:`~exactmd.symbolic.measures.simplify_exact`
for the simplification steps and the positivity assumption behind ``expand_log(force=True)``).
The quantities are computed with the contract functions (:mod:`exactmd.measures.information`,
:mod:`exactmd.schedules.factorization`), so the identities check exactmd itself.

**The r_i identity.** With ``a_0 = 0 < a_1 < … < a_K = N`` the revealed counts of an
exchangeable schedule, the backward difference ``Δf(i) = f(i) − f(i−1)`` for i = 1..N−1, and
``r_i = a_k`` for the step k with ``a_{k−1} < i <= a_k`` — the number of positions revealed once
the step that reveals the i-th position (counting from 1) is complete —

``E_fact = Σ_{i=1}^{N−1} Δf(i) (r_i − i)``.

Proof: ``E_fact = Σ_k Σ_{a_k <= j < a_{k+1}} (f(j) − f(a_k))`` and
``f(j) − f(a_k) = Σ_{a_k < i <= j} Δf(i)``; for a fixed i in step k+1 the number of such j is
``a_{k+1} − i = r_i − i``. Since ``0 <= r_i − i <= s_k − 1`` and ``Σ Δf = D``, it also gives the
bound ``E_fact <= (max_k s_k − 1) D`` for non-decreasing f. (In the forward convention
``Δf(j) = f(j+1) − f(j)``, j = 0..N−2, the weight is ``r − (j + 1)`` with r the count after the
step that reveals the (j+1)-th position.)

Examples
--------
>>> import sympy
>>> h = sympy.Rational(1, 4)
>>> xor = sympy.Array([[[h, 0], [0, h]], [[0, h], [h, 0]]])
>>> set(verify_identities(xor).values())
{0}
>>> verify_block_copy([[0, 1], [2]], q=3)
{'E_fact - (N-K) log q': 0, 'KL(pi||p_alg) - (N-K) log q': 0}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from exactmd.law.distribution import SymbolicDistribution
from exactmd.measures.information import complexity, entropy, information_profile, total_correlation
from exactmd.schedules.factorization import factorization_error
from exactmd.symbolic.families import block_copy_law
from exactmd.symbolic.measures import (
    ordered_partitions,
    simplify_exact,
    symbolic_kl,
    symbolic_law,
)
from exactmd.symbolic.sampler import symbolic_output_distribution

__all__ = [
    "compositions",
    "reveal_counts",
    "profile_increment_form",
    "verify_identities",
    "verify_block_copy",
]


def compositions(n: int) -> Iterator[tuple[int, ...]]:
    """All size sequences ``(s_1, …, s_K)`` of positive ints summing to ``n`` (2^{n−1} of them).

    Examples
    --------
    >>> list(compositions(3))
    [(3,), (2, 1), (1, 2), (1, 1, 1)]
    """
    if n == 0:
        yield ()
        return
    for first in range(n, 0, -1):
        for rest in compositions(n - first):
            yield (first, *rest)


def reveal_counts(sizes: Sequence[int]) -> list[int]:
    """``r_i`` for i = 1..N−1 (index 0 of the list is i = 1): the number revealed after the
    step that reveals the i-th position.

    Examples
    --------
    >>> reveal_counts([2, 1])  # a = (0, 2, 3): positions 1, 2 in step 1
    [2, 2]
    """
    counts: list[int] = []
    a = 0
    for s in sizes:
        a += s
        counts.extend([a] * s)
    return counts[: len(counts) - 1]


def profile_increment_form(profile: Sequence[Any], sizes: Sequence[int]) -> Any:
    """``Σ_{i=1}^{N−1} (f(i) − f(i−1)) (r_i − i)`` (see the module notes).

    Examples
    --------
    >>> profile_increment_form([-1, -1, 0], [3])  # XOR in units of log 2: E_fact = TC = 1
    1
    """
    r = reveal_counts(sizes)
    return sum((profile[i] - profile[i - 1]) * (r[i - 1] - i) for i in range(1, len(profile)))


def verify_identities(law: Any, sizes: Sequence[Sequence[int]] | None = None) -> dict[str, Any]:
    """Evaluate the identities of docs/design.md ("Mathematics") for ``law``; each value is the
    simplified difference.

    Parameters
    ----------
    law
        A symbolic law (rational entries or free symbols).
    sizes
        The exchangeable schedules to test; all compositions of N by default.

    Returns
    -------
    dict
        Keys name the identity (and the sizes); every value is 0 when it is proved:

        - ``f(N-1) - f(0) - D``;
        - ``sum f + H``;
        - ``E_fact(s) - mean over ordered partitions``: the exchangeable formula against the
          average of the deterministic E_fact over all ordered partitions with sizes s;
        - ``E_fact(s) - sum Δf(i)(r_i - i)``;
        - ``E_fact(K=1) - TC`` and ``E_fact(K=N)``.

    The first two hold for any set function once ``f(i) = h̄(i) − h̄(i+1)`` (they check the
    bookkeeping of the profile, not a property of entropies); the partition average, the
    ``Δf(i)(r_i − i)`` form and the K = 1 / K = N cases are the identities with content.
    """
    import sympy as sp

    d = symbolic_law(law)
    n = d.n
    f = list(information_profile(d))
    h, dd = entropy(d), complexity(d)
    out: dict[str, Any] = {
        "f(N-1) - f(0) - D": simplify_exact(f[-1] - f[0] - dd),
        "sum f + H": simplify_exact(sp.Add(*f) + h),
    }
    for s in sizes if sizes is not None else list(compositions(n)):
        s = tuple(int(v) for v in s)
        e = factorization_error(d, list(s))
        parts = list(ordered_partitions(n, s))
        mean = sp.Add(*(factorization_error(d, [list(b) for b in z]) for z in parts)) / len(parts)
        out[f"E_fact{s} - mean over ordered partitions"] = simplify_exact(e - mean)
        out[f"E_fact{s} - sum Δf(i)(r_i - i)"] = simplify_exact(e - profile_increment_form(f, s))
    out["E_fact(K=1) - TC"] = simplify_exact(factorization_error(d, [n]) - total_correlation(d))
    out["E_fact(K=N)"] = simplify_exact(factorization_error(d, [1] * n))
    return out


def verify_block_copy(partition: Sequence[Sequence[int]], q: int = 2) -> dict[str, Any]:
    """For the block-copy law of ``partition`` and the matching deterministic schedule, return
    ``E_fact − (N − K) log q`` and ``KL(π ‖ p_alg) − (N − K) log q``, simplified.

    Examples
    --------
    >>> verify_block_copy([[0, 1]], q=2)
    {'E_fact - (N-K) log q': 0, 'KL(pi||p_alg) - (N-K) log q': 0}
    """
    import sympy as sp

    law = symbolic_law(block_copy_law(partition, q))
    blocks = [list(b) for b in partition]
    target = (law.n - len(blocks)) * sp.log(q)
    p_alg = SymbolicDistribution(symbolic_output_distribution(law, blocks))
    return {
        "E_fact - (N-K) log q": simplify_exact(factorization_error(law, blocks) - target),
        "KL(pi||p_alg) - (N-K) log q": simplify_exact(symbolic_kl(law, p_alg) - target),
    }
