"""The exact denoiser: π's conditionals for a batch of partially masked token sequences, and
π(x_i | x_S) for one context (:func:`conditional`).

Every exact conditional is a quotient of two entries of the masked-marginal tensor ``M`` of
:mod:`exactmd.enumeration.masked`: ``π(x_i = v | y) = M[y, y_i := v] / M[y]``. The whole
computation stays
on the law's device: only the token-derived index vectors (``B`` and ``B · N`` integers) are
copied there, the per-law constants (which values are valid, the uniform rows of the
zero-context policy) are made once and cached on the law, the zero contexts are found with
:meth:`~exactmd.backends.base.Backend.nonpositive` and the one-hot rows of the unmasked
positions are written with :meth:`~exactmd.backends.base.Backend.indicator`.

Examples
--------
>>> import numpy as np
>>> from exactmd.law.distribution import as_distribution
>>> d = as_distribution([[0.5, 0.0], [0.25, 0.25]])
>>> exact_conditionals(d, np.array([[1, 2]]))[0].tolist()  # x_0 = 1 known, x_1 masked
[[0.0, 1.0], [0.5, 0.5]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from exactmd.enumeration.masked import check_indices, is_index, masked_tensor
from exactmd.errors import ValidationError, describe
from exactmd.law.distribution import Distribution

__all__ = [
    "LawConstants",
    "ZERO_CONTEXT_POLICY",
    "check_tokens",
    "conditional",
    "exact_conditionals",
    "row_major_strides",
]

#: What the exact denoiser returns on a context of probability 0, where π has no conditional:
#: the uniform law on X_i. Documented, deterministic, and it keeps p_alg summing to 1.
ZERO_CONTEXT_POLICY = "uniform"


@dataclass(frozen=True)
class LawConstants:
    """Per-law constants of :func:`exact_conditionals`, made once and kept on the law.

    Attributes
    ----------
    strides : numpy.ndarray
        The int64 row-major strides of the masked tensor, ``(N,)``.
    delta : numpy.ndarray
        Index offsets ``delta[i, v]`` of setting ``y_i := v`` (``v`` clipped to ``q_i - 1``),
        int64 ``(N, q)``.
    valid : Any
        Native ``(1, N, q)``: 1 at the values ``v < q_i``, else 0.
    uniform : Any
        Native ``(1, N, q)``: the uniform rows ``1 / q_i`` of the zero contexts (an exact
        quotient on the symbolic backend).
    """

    strides: np.ndarray
    delta: np.ndarray
    valid: Any
    uniform: Any


def check_tokens(tokens: np.ndarray, shape: Sequence[int], name: str = "tokens") -> np.ndarray:
    """Validate int tokens ``(B, N)`` with mask value ``q = max q_i``; return them as int64.

    Examples
    --------
    >>> check_tokens(np.array([[0, 2]]), (2, 2)).tolist()
    [[0, 2]]
    """
    try:
        tok = np.asarray(tokens)
    except (TypeError, ValueError) as exc:  # ragged lists
        raise ValidationError(
            f"{name}: must be an int array (B, N); received {describe(tokens)}"
        ) from exc
    n, q = len(shape), max(shape)
    if tok.ndim != 2 or tok.shape[1] != n:
        raise ValidationError(f"{name}: must have shape (B, {n}); received shape {tok.shape}")
    if not np.issubdtype(tok.dtype, np.integer):
        raise ValidationError(f"{name}: must be integers; received dtype {tok.dtype}")
    tok = tok.astype(np.int64)
    qs = np.asarray(shape, dtype=np.int64)
    bad = ((tok < 0) | (tok > q) | ((tok >= qs) & (tok != q))).nonzero()
    if bad[0].size:
        r, c = int(bad[0][0]), int(bad[1][0])
        raise ValidationError(
            f"{name}: entry ({r}, {c}) must be a value in range({shape[c]}) or the mask {q}; "
            f"received {int(tok[r, c])}"
        )
    return tok


def row_major_strides(shape: Sequence[int]) -> np.ndarray:
    """The int64 row-major (C order) strides, in entries, of an array of ``shape``.

    Examples
    --------
    >>> row_major_strides([2, 3, 4]).tolist()
    [12, 4, 1]
    """
    strides = np.ones(len(shape), dtype=np.int64)
    for i in range(len(shape) - 2, -1, -1):
        strides[i] = strides[i + 1] * shape[i + 1]
    return strides


def _constants(dist: Distribution) -> LawConstants:
    """The :class:`LawConstants` of ``dist``, made once and kept on it."""
    if dist._derived.law_constants is None:
        be = dist.backend
        shape = np.asarray(dist.shape, dtype=np.int64)
        strides = row_major_strides([s + 1 for s in dist.shape])
        values = np.arange(dist.q, dtype=np.int64)
        valid = values[None, :] < shape[:, None]  # (N, q)
        delta = (np.minimum(values[None, :], shape[:, None] - 1) - shape[:, None]) * strides[
            :, None
        ]
        sizes = np.broadcast_to(shape[:, None], valid.shape).astype(np.float64)
        valid_n = be.asarray(valid.astype(np.float64)[None])
        # 1 / q_i as a quotient of backend arrays, so that the symbolic backend keeps it exact
        uniform = valid_n / be.asarray(sizes[None])
        dist._derived.law_constants = LawConstants(strides, delta, valid_n, uniform)
    return dist._derived.law_constants  # type: ignore[no-any-return]


def exact_conditionals(dist: Distribution, tokens: Any) -> Any:
    """π's conditionals for a batch of partially masked sequences (the exact denoiser).

    Parameters
    ----------
    dist
        The law π.
    tokens
        Int array ``(B, N)`` (numpy, or a torch tensor on any device); masked positions hold
        ``q = max q_i``.

    Returns
    -------
    Native array ``(B, N, q)``: row ``(b, i)`` is ``π(x_i = · | unmasked of tokens[b])`` for a
    masked ``i`` and the one-hot of ``tokens[b, i]`` otherwise; values ``>= q_i`` get 0.
    Contexts of probability zero give the uniform law (:data:`ZERO_CONTEXT_POLICY`).

    On the symbolic backend the rows are exact sympy expressions (an object array); a context
    is of probability zero only when its probability is *exactly* 0, and one that is not
    identically 0 is treated as positive (the positivity assumption of
    :mod:`exactmd.symbolic`).

    Examples
    --------
    >>> import sympy
    >>> from exactmd.law.distribution import as_distribution
    >>> t = sympy.Symbol("t", positive=True)
    >>> d = as_distribution(sympy.Array([[t / 2, 0, (1 - t) / 2], [0, 0, sympy.Rational(1, 2)]]))
    >>> exact_conditionals(d, np.array([[3, 1]]))[0, 0].tolist()  # x_1 = 1 has probability 0
    [1/2, 1/2, 0]
    >>> exact_conditionals(d, np.array([[0, 3]]))[0, 1].tolist()  # π(x_1 | x_0 = 0)
    [t, 0, 1 - t]
    """
    be = dist.backend
    tok = check_tokens(
        be.to_numpy(tokens) if not isinstance(tokens, np.ndarray) else tokens, dist.shape
    )
    n, q = dist.n, dist.q
    mtensor = masked_tensor(dist)  # exact on the symbolic backend, its corner exactly 1
    const = _constants(dist)
    strides, delta, valid, uniform = const.strides, const.delta, const.valid, const.uniform
    shape = np.asarray(dist.shape, dtype=np.int64)
    masked = tok == q
    base = np.where(masked, shape[None, :], tok) @ strides  # (B,): the index of y
    num = be.take_flat_sum(mtensor, base[:, None, None], delta[None, :, :])  # (B, N, q)
    den = be.reshape(be.take_flat(mtensor, base), (len(base), 1, 1))
    zero = be.nonpositive(den)  # contexts of probability 0, found on the device
    cond = (num / (den + zero)) * (1 - zero) + uniform * zero
    rows, cols = np.nonzero(~masked)
    onehot = be.indicator((len(base), n, q), (rows * n + cols) * q + tok[rows, cols])
    weights = (1 - be.reshape(be.sum(onehot, axis=2), (len(base), n, 1))) * valid  # masked i
    return cond * weights + onehot


def conditional(dist: Distribution, i: int, given: Mapping[int, int] | None = None) -> np.ndarray:
    """π(x_i = · | x_S = given) as a float64 vector of length q_i.

    On a context of probability zero it follows :data:`ZERO_CONTEXT_POLICY` (uniform). For a
    symbolic law it is an object vector of exact sympy expressions (see
    :func:`exact_conditionals`).

    Examples
    --------
    >>> from exactmd.law.distribution import as_distribution
    >>> d = as_distribution([[0.5, 0.0], [0.25, 0.25]])
    >>> conditional(d, 1, {0: 1}).tolist()
    [0.5, 0.5]
    """
    if not is_index(i):
        raise ValidationError(
            f"i: must be an int or a numpy integer (not a float or bool); received {describe(i)}"
        )
    if given is not None and not isinstance(given, Mapping):
        raise ValidationError(
            f"given: must be a mapping {{variable index: value}}; received {describe(given)}"
        )
    given = dict(given or {})
    check_indices([i, *given], dist.n, "i and given")
    i = int(i)
    tokens = np.full((1, dist.n), dist.q, dtype=np.int64)
    for j, v in given.items():
        if not (is_index(v) and 0 <= v < dist.shape[j]):
            raise ValidationError(
                f"given: the value of variable {j} must be an int (or numpy integer, not a "
                f"float or bool) in range({dist.shape[j]}); received {describe(v)}"
            )
        tokens[0, j] = v
    probs = exact_conditionals(dist, tokens)
    return dist.backend.host(probs[0, i, : dist.shape[i]])
