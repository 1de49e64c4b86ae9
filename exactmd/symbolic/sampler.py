"""The sampler's exact output law p_alg and E_learn of symbolic laws, by name.

There is one implementation: the level recursion of
:func:`exactmd.sampler.p_alg.output_distribution` and
:func:`exactmd.sampler.learning.learning_error`, run on the symbolic backend with the
schedule's exact probabilities (a random-reveal grid read as the decimals it prints as). The
functions here read any input as an exact law first
(:func:`~exactmd.symbolic.measures.symbolic_law`) and call them.

The exact denoiser is ``π(x_i = v | x_c) = M[x_c, x_i := v] / M[x_c]`` from the masked-marginal
tensor; on a context that is *exactly* of probability 0 it is uniform on ``X_i``
(:data:`exactmd.enumeration.ZERO_CONTEXT_POLICY`). A context probability that is not
identically 0 is treated as positive.

Examples
--------
>>> import sympy
>>> h = sympy.Rational(1, 2)
>>> symbolic_output_distribution(sympy.Array([[h, 0], [0, h]]), [2]).tolist()
[[1/4, 1/4], [1/4, 1/4]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exactmd.sampler.learning import learning_error
from exactmd.sampler.p_alg import output_distribution
from exactmd.symbolic.measures import symbolic_law

__all__ = ["symbolic_output_distribution", "symbolic_learning_error"]


def symbolic_output_distribution(p: Any, schedule: Any, denoiser: Any = None) -> np.ndarray:
    """p_alg, the exact law of the factorized sampler's output, as an object array.

    Parameters
    ----------
    p
        A symbolic law (see :mod:`exactmd.symbolic.law`), or a numeric one read exactly.
    schedule
        Sizes (exchangeable), an ordered partition (deterministic) or a schedule object
        (including random reveal, whose grid floats are read as decimals).
    denoiser
        None for the exact π-conditionals, or a contract denoiser (tokens ``(B, N)`` with the
        mask ``q = max q_i`` -> probabilities ``(B, N, q)``); float outputs are read as the
        decimals they print as.

    Returns
    -------
    numpy.ndarray
        Object array of the shape of ``p`` holding exact sympy expressions.

    Examples
    --------
    >>> import sympy
    >>> q = sympy.Rational(1, 4)
    >>> symbolic_output_distribution(sympy.Array([[q, q], [q, q]]), [[0, 1]]).tolist()
    [[1/4, 1/4], [1/4, 1/4]]
    """
    return output_distribution(symbolic_law(p), schedule, denoiser)  # type: ignore[no-any-return]


def symbolic_learning_error(p: Any, schedule: Any, denoiser: Any) -> Any:
    """E_learn = E[Σ_k Σ_{i∈z_k} KL(π(x_i | x_{z<k}) ‖ p(x_i | x_{z<k}))], exactly.

    ``sympy.oo`` when the denoiser puts an exact 0 where π does not; 0 when ``denoiser`` is
    None (the exact one).

    Examples
    --------
    >>> import numpy as np, sympy
    >>> q = sympy.Rational(1, 4)
    >>> xor = sympy.Array([[[q, 0], [0, q]], [[0, q], [q, 0]]])
    >>> uniform = lambda t: np.full((t.shape[0], 3, 2), 0.5)
    >>> symbolic_learning_error(xor, [1, 1, 1], uniform)  # the last position is determined
    log(2)
    """
    return learning_error(symbolic_law(p), schedule, denoiser)
