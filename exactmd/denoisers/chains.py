"""Exact denoisers of chain-structured laws at any N, without enumeration.

Both follow the denoiser contract (docs/design.md, "Denoiser contract"): int tokens ``(B, N)``
whose masked positions hold the mask id q → float64 probabilities ``(B, N, q)``; numpy tokens
give numpy, torch tokens give torch on the tokens' device. Unmasked positions get the one-hot
of their value and contexts of probability 0 the uniform law
(:data:`~exactmd.enumeration.ZERO_CONTEXT_POLICY`), as for the enumerated denoiser.

**Markov chain** (:class:`MarkovChainDenoiser`). Given the revealed set S, the masked ``X_i``
depends only on its nearest revealed neighbours ``l < i < r``:

    π(x_i = v | x_S) ∝ (P^{i−l})[x_l, v] · (P^{r−i})[v, x_r],

with ``(μ P^i)[v]`` for the left factor when there is no ``l`` and no right factor when there
is no ``r``. The powers ``P^0..P^N`` and the marginals ``μ P^i`` are computed once
(``O(N q³)`` time, ``O(N q²)`` memory; 128 KiB for q = 4, N = 1024) and every call is a few
gathers over ``(B, N, q)``. A context has probability 0 when one of its links
``(P^{j−l})[x_l, x_j]`` (or ``(μ P^j)[x_j]`` for the first revealed j) is 0.

**HMM** (:class:`HMMDenoiser`). Forward–backward over the hidden chain with the emission
likelihood as evidence at the revealed positions (1 at the masked ones): one forward and one
backward pass, each normalised at every step (scaling), serve every masked position at once,

    π(y_i = v | y_S) = Σ_h γ_i(h) E[h, v],   γ_i ∝ α_i β_i,

so nothing underflows at N = 1024. Cost ``O(B N q_h (q_h + q))`` per call.

Examples
--------
>>> import numpy as np
>>> from exactmd.models.chains import MarkovChainLaw
>>> den = MarkovChainDenoiser(MarkovChainLaw([0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]], 1024))
>>> tokens = np.full((1, 1024), 2)
>>> tokens[0, 0], tokens[0, 2] = 0, 0
>>> den(tokens)[0, 1].round(6).tolist()  # ∝ (0.9·0.9, 0.1·0.1)
[0.987805, 0.012195]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exactmd.backends import get_backend, is_torch_tensor
from exactmd.backends._memory import require_fits
from exactmd.errors import ValidationError, describe
from exactmd.models.chains import HMMLaw, MarkovChainLaw
from exactmd.typing import FloatArray

__all__ = ["MarkovChainDenoiser", "HMMDenoiser", "chain_denoiser"]


class _Ops:
    """The few array operations the two denoisers need, on numpy or on torch (one device)."""

    def __init__(self, tokens: Any) -> None:
        self.torch = is_torch_tensor(tokens)
        if self.torch:
            import torch

            self.t = torch
            self.device = tokens.device

    def asarray(self, a: Any) -> Any:
        if self.torch:
            return self.t.tensor(np.array(a), device=self.device)
        return np.asarray(a)

    def arange(self, n: int) -> Any:
        return self.t.arange(n, device=self.device) if self.torch else np.arange(n)

    def cummax(self, a: Any) -> Any:
        return self.t.cummax(a, dim=1).values if self.torch else np.maximum.accumulate(a, axis=1)

    def rev_cummin(self, a: Any) -> Any:
        """The minimum of ``a[:, j]`` over ``j >= i``, for each i."""
        if self.torch:
            return self.t.flip(self.t.cummin(self.t.flip(a, (1,)), dim=1).values, (1,))
        return np.minimum.accumulate(a[:, ::-1], axis=1)[:, ::-1]

    def take(self, a: Any, idx: Any) -> Any:
        """``a[b, idx[b, i]]`` (a gather along axis 1)."""
        if self.torch:
            return self.t.gather(a, 1, idx)
        return np.take_along_axis(a, idx, axis=1)

    def pad_mask(self, tok: Any, q: int) -> Any:
        """``tok`` with a column of ``q`` before and after: ``(B, N + 2)``."""
        if self.torch:
            col = self.t.full((tok.shape[0], 1), q, dtype=tok.dtype, device=self.device)
            return self.t.cat([col, tok, col], dim=1)
        pad = np.full((tok.shape[0], 1), q, dtype=tok.dtype)
        return np.concatenate([pad, tok, pad], axis=1)

    def shift_right(self, a: Any, fill: int) -> Any:
        """``a`` shifted one column to the right, ``fill`` in column 0."""
        if self.torch:
            col = self.t.full((a.shape[0], 1), fill, dtype=a.dtype, device=self.device)
            return self.t.cat([col, a[:, :-1]], dim=1)
        return np.concatenate([np.full((a.shape[0], 1), fill, dtype=a.dtype), a[:, :-1]], axis=1)

    def any_rows(self, a: Any) -> Any:
        return a.any(dim=1) if self.torch else a.any(axis=1)

    def clip_min(self, a: Any, low: int) -> Any:
        return self.t.clamp(a, min=low) if self.torch else np.maximum(a, low)

    def empty_like_rows(self, b: int, n: int, q: int) -> Any:
        if self.torch:
            return self.t.empty((b, n, q), dtype=self.t.float64, device=self.device)
        return np.empty((b, n, q))


def _tokens(tokens: Any, n: int, q: int) -> Any:
    """Check int tokens ``(B, N)`` with values in ``range(q)`` or the mask ``q``, where they
    are (numpy or torch on its device); return them as int64."""
    ops = _Ops(tokens)
    if ops.torch:
        tok = tokens
        integer = not tok.is_floating_point() and not tok.is_complex() and tok.dtype != ops.t.bool
    else:
        try:
            tok = np.asarray(tokens)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                f"tokens: must be an int array (B, N); received {describe(tokens)}"
            ) from exc
        integer = np.issubdtype(tok.dtype, np.integer)
    if tok.ndim != 2 or tok.shape[1] != n:
        raise ValidationError(
            f"tokens: must have shape (B, {n}); received shape {tuple(tok.shape)}"
        )
    if not integer:
        raise ValidationError(f"tokens: must be integers; received dtype {tok.dtype}")
    tok = tok.long() if ops.torch else tok.astype(np.int64)
    bad = (tok < 0) | (tok > q)
    if bool(bad.any()):
        host = tok.cpu().numpy() if ops.torch else tok
        r, c = (int(v) for v in np.argwhere((host < 0) | (host > q))[0])
        raise ValidationError(
            f"tokens: entry ({r}, {c}) must be a value in range({q}) or the mask {q}; "
            f"received {int(host[r, c])}"
        )
    return tok


def _plan(entries: int, name: str) -> None:
    """Refuse matrix powers that would not fit, through the one memory check."""
    require_fits(
        8 * entries,
        get_backend(name="numpy"),
        f"{name}: the exact chain denoiser's matrix powers",
        needs="need about",
    )


class _ChainBase:
    """What the two denoisers share: the law, its shape, constants cached per device."""

    law: Any

    def __init__(self) -> None:
        self._cache: dict[str, tuple[Any, ...]] = {}

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the law the denoiser was built for, ``(q,) * N``."""
        return tuple(self.law.shape)

    def _constants(self, ops: _Ops) -> tuple[Any, ...]:
        key = str(ops.device) if ops.torch else "numpy"
        if key not in self._cache:
            self._cache[key] = tuple(ops.asarray(a) for a in self._host_constants())
        return self._cache[key]

    def _host_constants(self) -> tuple[np.ndarray, ...]:
        raise NotImplementedError

    @staticmethod
    def _finish(ops: _Ops, tok: Any, prob: Any, zero: Any, q: int, onehot: bool = True) -> Any:
        """Normalise the masked rows (uniform where the context has probability 0) and, with
        ``onehot``, put the one-hot of the value at unmasked positions (else ``prob`` holds
        it there already)."""
        w = ops.t.where if ops.torch else np.where
        total = prob.sum(-1, keepdim=True) if ops.torch else prob.sum(axis=-1, keepdims=True)
        masked = (tok == q)[:, :, None]
        uniform = (zero[:, None, None] & masked) | (total == 0)
        rows = w(uniform, 1.0 / q, prob / w(total > 0, total, 1.0))
        if not onehot:
            return rows
        values = ops.arange(q)
        hot = tok[:, :, None] == values[None, None, :]
        revealed = (tok != q)[:, :, None]
        if ops.torch:
            return ops.t.where(revealed, hot.to(rows.dtype), rows)
        return np.where(revealed, hot.astype(np.float64), rows)


class MarkovChainDenoiser(_ChainBase):
    """The exact denoiser of a :class:`~exactmd.models.chains.MarkovChainLaw` (module notes).

    Examples
    --------
    >>> import numpy as np
    >>> from exactmd.models.chains import MarkovChainLaw
    >>> den = MarkovChainDenoiser(MarkovChainLaw([1.0, 0.0], [[0.5, 0.5], [0.0, 1.0]], 3))
    >>> den(np.array([[2, 2, 2]]))[0].tolist()  # μ P^i
    [[1.0, 0.0], [0.5, 0.5], [0.25, 0.75]]
    """

    def __init__(self, law: MarkovChainLaw) -> None:
        super().__init__()
        self.law = law
        _plan(2 * (law.n + 1) * (law.q + 1) * law.q, "law")
        self._left, self._right = self._build()

    def __repr__(self) -> str:
        return f"MarkovChainDenoiser(q={self.law.q}, n={self.law.n})"

    def _build(self) -> tuple[FloatArray, FloatArray]:
        """The left and right factors as two tables of rows over v, indexed by
        ``g · (q + 1) + a`` for a gap g = 0..N and a neighbour's value a, a = q meaning none:
        left ``P^g[a, ·]`` (``μ P^{g−1}`` for a = q, the first factor of position g − 1),
        right ``P^g[·, a]`` (all ones for a = q). With g = 0 at a revealed position both are
        the one-hot of its value, so revealed rows come out one-hot."""
        law = self.law
        q, n, p = law.q, law.n, law.transition
        left = np.zeros((n + 1, q + 1, q))
        right = np.ones((n + 1, q + 1, q))
        power, marginal = np.eye(q), law.init.copy()
        for g in range(n + 1):
            left[g, :q] = power
            right[g, :q] = power.T
            if g:
                left[g, q] = marginal
                marginal = marginal @ p
            power = power @ p
        return left.reshape(-1, q), right.reshape(-1, q)

    def _host_constants(self) -> tuple[np.ndarray, ...]:
        return self._left, self._right, self._left.reshape(-1)

    def __call__(self, tokens: Any) -> Any:
        law = self.law
        n, q = law.n, law.q
        tok = _tokens(tokens, n, q)
        ops = _Ops(tok)
        left_tab, right_tab, left_flat = self._constants(ops)
        b = tok.shape[0]
        if b == 0:
            return ops.empty_like_rows(0, n, q)
        pos = ops.arange(n)[None, :]
        revealed = tok != q
        w = ops.t.where if ops.torch else np.where
        left = ops.cummax(w(revealed, pos, -1))  # the last revealed <= i (< i when i is masked)
        right = ops.rev_cummin(w(revealed, pos, n))  # the first revealed >= i
        # the tokens between two mask columns: index j + 1 is position j, 0 and N + 1 "none"
        padded = ops.pad_mask(tok, q)
        # π(x_i | x_S) ∝ P^{i−l}[x_l, ·] P^{r−i}[·, x_r] (module notes), one gather each
        lf = left_tab[(pos - left) * (q + 1) + ops.take(padded, left + 1)]
        rf = right_tab[(right - pos) * (q + 1) + ops.take(padded, right + 1)]
        # the context's probability is 0 iff a link between consecutive revealed values is 0:
        # (P^{j−l})[x_l, x_j], or (μ P^j)[x_j] for the first revealed j
        prev = ops.shift_right(left, -1)  # the last revealed < j
        here = w(revealed, tok, 0)
        link = left_flat[((pos - prev) * (q + 1) + ops.take(padded, prev + 1)) * q + here]
        zero = ops.any_rows(revealed & (link == 0))
        return self._finish(ops, tok, lf * rf, zero, q, onehot=False)


class HMMDenoiser(_ChainBase):
    """The exact denoiser of an :class:`~exactmd.models.chains.HMMLaw` (module notes).

    Examples
    --------
    >>> import numpy as np
    >>> from exactmd.models.chains import HMMLaw
    >>> law = HMMLaw([1.0, 0.0], [[0.5, 0.5], [0.5, 0.5]], [[1.0, 0.0], [0.0, 1.0]], 3)
    >>> HMMDenoiser(law)(np.array([[2, 2, 2]]))[0].tolist()
    [[1.0, 0.0], [0.5, 0.5], [0.5, 0.5]]
    """

    def __init__(self, law: HMMLaw) -> None:
        super().__init__()
        self.law = law

    def __repr__(self) -> str:
        return f"HMMDenoiser(q={self.law.q}, q_hidden={self.law.q_hidden}, n={self.law.n})"

    def _host_constants(self) -> tuple[np.ndarray, ...]:
        law = self.law
        # the emission likelihood of each token, the mask's being 1: (q + 1, q_h)
        evidence = np.vstack([law.emission.T, np.ones((1, law.q_hidden))])
        return law.init, law.transition, law.emission, evidence

    def __call__(self, tokens: Any) -> Any:
        law = self.law
        n, q, qh = law.n, law.q, law.q_hidden
        tok = _tokens(tokens, n, q)
        ops = _Ops(tok)
        init, trans, emission, evidence = self._constants(ops)
        b = tok.shape[0]
        if b == 0:
            return ops.empty_like_rows(0, n, q)
        ev = evidence[tok]  # (B, N, q_h)
        w = ops.t.where if ops.torch else np.where
        alpha = ops.empty_like_rows(b, n, qh)
        beta = ops.empty_like_rows(b, n, qh)
        zero = (tok[:, 0] < 0) if ops.torch else np.zeros(b, dtype=bool)

        def scaled(a: Any) -> tuple[Any, Any]:
            total = a.sum(-1, keepdim=True) if ops.torch else a.sum(axis=-1, keepdims=True)
            return a / w(total > 0, total, 1.0), total[:, 0] == 0

        a, z = scaled(init[None, :] * ev[:, 0])
        alpha[:, 0], zero = a, zero | z
        for t in range(1, n):
            a, z = scaled((a @ trans) * ev[:, t])
            alpha[:, t], zero = a, zero | z
        c = ops.asarray(np.ones((1, qh)))
        c = c.expand(b, qh) if ops.torch else np.broadcast_to(c, (b, qh))
        beta[:, n - 1] = c
        for t in range(n - 2, -1, -1):
            c, _ = scaled((ev[:, t + 1] * c) @ trans.T)
            beta[:, t] = c
        gamma = alpha * beta  # ∝ π(h_i | y_S) at masked i (their evidence is 1)
        return self._finish(ops, tok, gamma @ emission, zero, q)


def chain_denoiser(law: Any) -> MarkovChainDenoiser | HMMDenoiser | None:
    """The exact denoiser of a parameter-only chain law, or None for any other object.

    Examples
    --------
    >>> from exactmd.models.chains import MarkovChainLaw
    >>> chain_denoiser(MarkovChainLaw([1.0], [[1.0]], 5))
    MarkovChainDenoiser(q=1, n=5)
    >>> chain_denoiser([0.5, 0.5]) is None
    True
    """
    if isinstance(law, MarkovChainLaw):
        return MarkovChainDenoiser(law)
    if isinstance(law, HMMLaw):
        return HMMDenoiser(law)
    return None
