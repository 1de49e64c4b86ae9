"""A zoo of named laws the theory talks about, each enumerated exactly.

Every builder returns a validated :class:`~exactmd.law.distribution.Distribution` (numpy by
default; ``backend="torch"``/``device=`` move the result), checks the memory a joint needs
before allocating it (:class:`~exactmd.errors.ModelSizeError` otherwise), and records its
name and parameters in ``dist.model`` (a :class:`~exactmd.law.records.ModelInfo`); read
a Markov chain's ``(init, transition)`` with :func:`markov_chain_parameters`.
``with_backend`` conversions keep ``dist.model`` and drop the backend-specific arrays.

**Chains at any N.** :func:`markov_chain` and :func:`hmm` take ``table=``: ``True`` (the
default) enumerates the q^N table as every builder does, and refuses it when it would not fit
(:class:`~exactmd.errors.ModelSizeError`, with a hint); ``False`` returns the
parameter-only law (:class:`~exactmd.models.chains.MarkovChainLaw`,
:class:`~exactmd.models.chains.HMMLaw`) at any N, whose exact denoiser, ``markov_profile`` and
draws need no table, and which :func:`exactmd.as_distribution` (so every function that needs
the table) refuses with a :class:`~exactmd.errors.MemoryPlanError`. The default stays ``True``
so that a call returns one type whatever the machine's memory.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, overload

import numpy as np

from exactmd._validate import check_flag, check_seed
from exactmd.backends import get_backend
from exactmd.backends._memory import require_fits
from exactmd.errors import ModelError, ValidationError, describe
from exactmd.law.distribution import Distribution, as_distribution
from exactmd.law.records import ModelInfo
from exactmd.models._base import (
    ModelSizeError,
    _big,
    finish,
    plan_build,
    plan_repeat,
    positive_int,
    prob_vector,
    real_parameter,
    resolve_backend,
    stochastic_matrix,
)
from exactmd.models.chains import HMMLaw, MarkovChainLaw
from exactmd.models.pgmpy_models import contract_factors

__all__ = [
    "markov_chain",
    "markov_chain_parameters",
    "hmm",
    "block_copy",
    "parity",
    "random_xorsat",
    "iid",
    "random_joint",
    "mixture",
]


def _done(
    table: np.ndarray,
    params: dict[str, Any],
    backend: str | None,
    device: Any,
    names: Sequence[str] | None = None,
) -> Distribution:
    # the parameters are laws within 1e-8 (prob_vector, stochastic_matrix): the law they
    # define is the normalised product, so the table sums to 1 to rounding
    table /= table.sum()
    d = finish(table, resolve_backend(backend, device), names, name=str(params["name"]))
    d.model = ModelInfo(str(params["name"]), {k: v for k, v in params.items() if k != "name"})
    return d


def _chain(init: Any, transition: Any) -> tuple[np.ndarray, np.ndarray]:
    """``init`` as a probability vector on q states and ``transition`` as a q × q stochastic
    matrix (the parameters of :func:`markov_chain` and of the hidden chain of :func:`hmm`)."""
    p0 = prob_vector(init, "init")
    q = p0.size
    t = stochastic_matrix(transition, "transition", rows=q)
    if t.shape != (q, q):
        raise ModelError(f"transition: must be a {q}x{q} matrix; received shape {t.shape}")
    return p0, t


_TABLE_HINT = (
    "; pass table=False for the parameter-only law (no q^N table: exact_denoiser, "
    "markov_profile for a chain, estimate_profile and law.sample work at any N)"
)


def _plan_table(q: int, n: int, backend: Any, copies: float, note: str = "") -> None:
    """:func:`plan_repeat` with the hint that ``table=False`` needs no table."""
    try:
        plan_repeat(q, n, backend, copies, "n", note)
    except ModelSizeError as exc:
        raise ModelSizeError(f"{exc}{_TABLE_HINT}") from exc


@overload
def markov_chain(
    init: Any,
    transition: Any,
    n: int,
    *,
    table: Literal[True] = ...,
    backend: str | None = None,
    device: Any = None,
) -> Distribution: ...
@overload
def markov_chain(
    init: Any,
    transition: Any,
    n: int,
    *,
    table: Literal[False],
    backend: str | None = None,
    device: Any = None,
) -> MarkovChainLaw: ...
@overload
def markov_chain(
    init: Any,
    transition: Any,
    n: int,
    *,
    table: bool,
    backend: str | None = None,
    device: Any = None,
) -> Distribution | MarkovChainLaw: ...
def markov_chain(
    init: Any,
    transition: Any,
    n: int,
    *,
    table: bool = True,
    backend: str | None = None,
    device: Any = None,
) -> Distribution | MarkovChainLaw:
    """A homogeneous Markov chain X_0 → X_1 → … → X_{n-1} on q states.

    π(x) = init[x_0] Π_{t=1}^{n-1} T[x_{t-1}, x_t]; axis t is X_t. The parameters are kept:
    ``markov_chain_parameters(dist) == (init, transition)``.

    Parameters
    ----------
    init, transition
        The law of X_0 (q entries) and the q × q transition matrix.
    n
        The number of variables.
    table
        ``True``: the enumerated :class:`~exactmd.law.distribution.Distribution` (refused
        when q^n cells do not fit); ``False``: a
        :class:`~exactmd.models.chains.MarkovChainLaw` holding the parameters only, at any n
        (module notes).
    backend, device
        Where the table lives (``table=True`` only).

    Examples
    --------
    >>> d = markov_chain([0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]], 3)
    >>> float(d.numpy()[0, 0, 0])  # 0.5 * 0.9 * 0.9
    0.405
    >>> markov_chain_parameters(d)[1].tolist()
    [[0.9, 0.1], [0.1, 0.9]]
    >>> markov_chain([0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]], 1024, table=False)
    MarkovChainLaw(q=2, n=1024)
    """
    p0, t = _chain(init, transition)
    q = p0.size
    n = positive_int(n, "n")
    if not check_flag(table, "table", ModelError):
        return MarkovChainLaw(p0, t, n)
    _plan_table(q, n, resolve_backend(backend, device), 2.0)
    joint = p0.copy()
    for _ in range(n - 1):
        joint = joint[..., None] * t
    return _done(
        joint, {"name": "markov_chain", "init": p0, "transition": t, "n": n}, backend, device
    )


def markov_chain_parameters(dist: Distribution) -> tuple[np.ndarray, np.ndarray]:
    """``(init, transition)`` of a law built by :func:`markov_chain`.

    Raises
    ------
    ModelError
        When ``dist`` does not carry them (not built by :func:`markov_chain`).

    Examples
    --------
    >>> init, t = markov_chain_parameters(markov_chain([1.0, 0.0], [[0.5, 0.5], [0.0, 1.0]], 4))
    >>> init.tolist(), t.tolist()
    ([1.0, 0.0], [[0.5, 0.5], [0.0, 1.0]])
    """
    model = dist.model if isinstance(dist, Distribution) else None
    if model is None or model.name != "markov_chain":
        raise ModelError(
            "dist: must be a Distribution built by exactmd.models.markov_chain (its parameters "
            f"are kept in dist.model); received {describe(dist)}"
        )
    return model.params["init"], model.params["transition"]


@overload
def hmm(
    init: Any,
    transition: Any,
    emission: Any,
    n: int,
    *,
    table: Literal[True] = ...,
    backend: str | None = None,
    device: Any = None,
) -> Distribution: ...
@overload
def hmm(
    init: Any,
    transition: Any,
    emission: Any,
    n: int,
    *,
    table: Literal[False],
    backend: str | None = None,
    device: Any = None,
) -> HMMLaw: ...
@overload
def hmm(
    init: Any,
    transition: Any,
    emission: Any,
    n: int,
    *,
    table: bool,
    backend: str | None = None,
    device: Any = None,
) -> Distribution | HMMLaw: ...
def hmm(
    init: Any,
    transition: Any,
    emission: Any,
    n: int,
    *,
    table: bool = True,
    backend: str | None = None,
    device: Any = None,
) -> Distribution | HMMLaw:
    """The law of the observations Y_0..Y_{n-1} of a hidden Markov model.

    π(y) = Σ_h init[h_0] E[h_0, y_0] Π_{t=1}^{n-1} T[h_{t-1}, h_t] E[h_t, y_t], with the hidden
    chain on q_h states (``transition`` q_h × q_h) and ``emission`` q_h × q_o; axis t is Y_t.
    ``table=False`` returns an :class:`~exactmd.models.chains.HMMLaw` holding the parameters
    only, at any n (module notes; see :func:`markov_chain`).

    Examples
    --------
    >>> d = hmm([1.0, 0.0], [[0.5, 0.5], [0.5, 0.5]], [[1.0, 0.0], [0.0, 1.0]], 2)
    >>> d.numpy().tolist()  # y_0 = h_0 = 0, y_1 uniform
    [[0.5, 0.5], [0.0, 0.0]]
    >>> hmm([1.0, 0.0], [[0.5, 0.5], [0.5, 0.5]], [[0.9, 0.1], [0.2, 0.8]], 1024, table=False)
    HMMLaw(q=2, q_hidden=2, n=1024)
    """
    p0, t = _chain(init, transition)
    qh = p0.size
    e = stochastic_matrix(emission, "emission", rows=qh)
    qo = e.shape[1]
    n = positive_int(n, "n")
    if not check_flag(table, "table", ModelError):
        return HMMLaw(p0, t, e, n)
    # the joint is of the n observations; the forward pass builds the table (Y_0..Y_{n-1},
    # H_{n-1}) of qo^n · qh cells, and its step before, so the peak is about 2 qh joints
    # (the size of that table is given as a power of 2 while qo^n would be a huge integer)
    bits = n * math.log2(qo) + math.log2(qh)
    hidden = _big(qo**n * qh) if bits <= 900 else f"2^{bits:.4g}"
    note = (
        f" (the n = {_big(n)} observations Y_0..Y_{{n-1}}; the build also holds an intermediate "
        f"table over (Y_0..Y_{{n-1}}, H_{{n-1}}) of {hidden} cells)"
    )
    _plan_table(qo, n, resolve_backend(backend, device), 2.0 * qh, note)
    alpha = (p0[:, None] * e).T  # (y_0, h_0)
    for _ in range(n - 1):
        alpha = (alpha @ t)[..., None, :] * e.T  # (y.., h_t) -> (y.., y_t, h_t)
    params = {"name": "hmm", "init": p0, "transition": t, "emission": e, "n": n}
    return _done(alpha.sum(axis=-1), params, backend, device)


_BLOCKS_RULE = "must be block sizes (e.g. [2, 2]) or a partition of range(N) (e.g. [[0, 2], [1]])"


def _items(value: Any) -> list[Any] | None:
    """``value`` as a list when it is a sequence (not a string, bytes or mapping), else None."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        return None
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return None
    return list(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _block_sizes(blocks: Any) -> tuple[list[int], list[list[int]] | None]:
    """The sizes of the blocks, and the blocks themselves when given as a partition (None
    when given as sizes: they are formed once the memory plan has passed)."""
    items = _items(blocks)
    if items is None:
        raise ModelError(f"blocks: {_BLOCKS_RULE}; received {describe(blocks)}")
    if not items:
        raise ModelError("blocks: must hold at least one block; received an empty sequence")
    if all(_is_int(b) for b in items):
        return [positive_int(b, "blocks") for b in items], None
    parts = []
    for k, b in enumerate(items):
        block = _items(b)
        if block is None or not all(_is_int(i) for i in block):
            raise ModelError(
                f"blocks: {_BLOCKS_RULE}, every block a size (an integer >= 1) or a list of "
                f"indices (integers >= 0); received {describe(blocks)} (block {k}: "
                f"{describe(b)})"
            )
        parts.append([int(i) for i in block])
    flat = sorted(i for b in parts for i in b)
    if any(len(b) == 0 for b in parts) or flat != list(range(len(flat))):
        raise ModelError(
            f"blocks: a partition must cover range(N) once with non-empty blocks; received "
            f"{describe(blocks)}"
        )
    return [len(b) for b in parts], parts


def block_copy(
    blocks: Any, q: int = 2, *, backend: str | None = None, device: Any = None
) -> Distribution:
    """The worst-case law: equal values inside each block, blocks independent and uniform.

    π(x) = Π_k q^{-1} 1[x_i = x_j for all i, j in block k]. ``blocks`` is a list of sizes
    (contiguous blocks: ``[2, 3]`` is {0,1},{2,3,4}) or a partition of range(N). With the matching
    deterministic schedule, E_fact = KL(π‖p_alg) = (N − K) log q.

    Examples
    --------
    >>> d = block_copy([2, 1], q=2)
    >>> d.numpy()[:, :, 0].tolist()
    [[0.25, 0.0], [0.0, 0.25]]
    >>> d.model.params["blocks"]
    [[0, 1], [2]]
    """
    sizes, given = _block_sizes(blocks)
    q = positive_int(q, "q")
    n = sum(sizes)
    # the size of the joint is q^N, N the number of variables the blocks cover
    plan_repeat(q, n, resolve_backend(backend, device), 2.0, "blocks, q")
    starts = np.cumsum([0, *sizes])
    parts = given or [list(range(int(starts[k]), int(starts[k + 1]))) for k in range(len(sizes))]
    factors = []
    for part in parts:  # (1/q) 1[x_i equal on the block], a "diagonal" tensor per block
        diag = np.zeros((q,) * len(part))
        diag[(np.arange(q),) * len(part)] = 1.0 / q
        factors.append((diag, part))
    table = contract_factors(factors, (q,) * n, get_backend(name="numpy"))
    return _done(table, {"name": "block_copy", "blocks": parts, "q": q}, backend, device)


def parity(n: int, *, backend: str | None = None, device: Any = None) -> Distribution:
    """Fair bits conditioned on an even sum: X_{n-1} is the XOR of n − 1 fair bits.

    π(x) = 2^{-(n-1)} 1[x_0 + … + x_{n-1} even], x ∈ {0,1}^n. For n = 3 this is the XOR of
    two fair bits: TC = log 2, DTC = 2 log 2, D = log 2.

    Examples
    --------
    >>> parity(3).numpy()[1, 1].tolist()
    [0.25, 0.0]
    """
    n = positive_int(n, "n")
    plan_repeat(2, n, resolve_backend(backend, device), 2.0, "n")
    sign = np.ones(())
    for _ in range(n):
        sign = np.multiply.outer(sign, np.array([1.0, -1.0]))  # Π (-1)^{x_i}
    sign += 1.0
    sign *= 0.5**n  # (1 + Π(-1)^{x_i}) / 2^n = 1[even] / 2^{n-1}
    table = sign
    return _done(table, {"name": "parity", "n": n}, backend, device)


def random_xorsat(
    n: int,
    m: int,
    k: int = 3,
    seed: int | None = 0,
    *,
    backend: str | None = None,
    device: Any = None,
) -> Distribution:
    """The uniform law on the solutions of a random planted k-XORSAT instance.

    m clauses, each on k distinct variables drawn uniformly, with right-hand sides that a
    uniform hidden x* satisfies (so the instance is solvable): π(x) ∝ Π_c 1[⊕_{i∈c} x_i = b_c].
    The clauses and x* are kept in ``dist.model.params``.

    Examples
    --------
    >>> d = random_xorsat(4, 2, 2, seed=1)
    >>> int((d.numpy() > 0).sum())  # 2^(4 - rank) solutions
    4
    """
    n = positive_int(n, "n")
    m = positive_int(m, "m", minimum=0)
    k = positive_int(k, "k")
    seed = check_seed(seed)
    if k > n:
        raise ModelError(f"k: a clause needs k <= n = {n} distinct variables; received {k}")
    plan_repeat(2, n, resolve_backend(backend, device), 2.0, "n")
    _plan_clauses(m, k)
    rng = np.random.default_rng(seed)
    planted = rng.integers(0, 2, size=n)
    clauses = [sorted(int(i) for i in rng.choice(n, size=k, replace=False)) for _ in range(m)]
    rhs = [int(planted[c].sum() % 2) for c in clauses]
    table = np.ones((2,) * n)
    parity_k = np.indices((2,) * k).sum(axis=0) % 2
    for c, b in zip(clauses, rhs, strict=True):
        shape = [1] * n
        for i in c:
            shape[i] = 2
        table *= (parity_k == b).astype(np.float64).reshape(shape)
    table /= table.sum()
    params = {
        "name": "random_xorsat",
        "n": n,
        "m": m,
        "k": k,
        "seed": seed,
        "clauses": clauses,
        "rhs": rhs,
        "planted": planted.tolist(),
    }
    return _done(table, params, backend, device)


def _plan_clauses(m: int, k: int) -> None:
    """Refuse ``m`` clauses that would not fit in memory as lists of ``k`` Python ints (about
    ``64 + 8 k`` bytes each, with their right-hand sides), before the loop that draws them."""
    require_fits(
        m * (64 + 8 * k + 8),
        get_backend(name="numpy"),
        f"m: the {_big(m)} clauses of k = {k} variables",
        error=ModelSizeError,
        needs="need about",
        hint="; too many clauses to draw",
    )


def iid(marginal: Any, n: int, *, backend: str | None = None, device: Any = None) -> Distribution:
    """n independent copies of one law: π(x) = Π_i μ(x_i).

    Examples
    --------
    >>> iid([0.25, 0.75], 2).numpy().tolist()
    [[0.0625, 0.1875], [0.1875, 0.5625]]
    """
    mu = prob_vector(marginal, "marginal")
    n = positive_int(n, "n")
    plan_repeat(mu.size, n, resolve_backend(backend, device), 2.0, "n")
    table = np.ones(())
    for _ in range(n):
        table = np.multiply.outer(table, mu)
    return _done(table, {"name": "iid", "marginal": mu, "n": n}, backend, device)


def random_joint(
    shape: Sequence[int],
    alpha: float = 1.0,
    seed: int | None = 0,
    zeros: float = 0.0,
    *,
    backend: str | None = None,
    device: Any = None,
) -> Distribution:
    """A random joint: Dirichlet(alpha, …, alpha) over all cells, with exact zeros on request.

    π(x) = w_x / Σ_y w_y, where the cells get independent weights w_x ~ Gamma(alpha, 1); then
    ``round(zeros · size)`` cells chosen uniformly (at most size − 1) get w_x = 0.

    Examples
    --------
    >>> d = random_joint((2, 3), alpha=0.5, seed=0, zeros=0.5)
    >>> d.shape, int((d.numpy() == 0).sum())
    ((2, 3), 3)
    """
    try:
        dims = tuple(positive_int(s, "shape") for s in shape)
    except TypeError as exc:
        raise ModelError(f"shape: must be a sequence of ints; received {describe(shape)}") from exc
    if not dims:
        raise ModelError("shape: must have at least one axis; received ()")
    alpha = real_parameter(alpha, "alpha", minimum=0, open_min=True)
    zeros = real_parameter(zeros, "zeros", minimum=0, maximum=1, open_max=True)
    seed = check_seed(seed)
    size = plan_build(dims, resolve_backend(backend, device), 2.0, "shape")
    rng = np.random.default_rng(seed)
    w = rng.gamma(alpha, size=size)
    nz = min(round(zeros * size), size - 1)
    if nz:
        w[rng.choice(size, size=nz, replace=False)] = 0.0
    top = float(w.max())
    if not top > 0:  # every Gamma draw underflowed: keep one cell
        w[int(rng.integers(size))] = top = 1.0
    w /= top  # the largest weight is 1: the total cannot overflow (alpha up to 1e308)
    params = {"name": "random_joint", "shape": dims, "alpha": alpha, "seed": seed, "zeros": zeros}
    return _done(w.reshape(dims), params, backend, device)


def mixture(
    laws: Sequence[Any], weights: Any, *, backend: str | None = None, device: Any = None
) -> Distribution:
    """A mixture of laws on the same space: π = Σ_k w_k π_k.

    ``laws`` are tables or Distributions of one shape; ``weights`` non-negative, summing to 1.
    The names of the first Distribution among ``laws`` are kept.

    Examples
    --------
    >>> d = mixture([[1.0, 0.0], [0.0, 1.0]], [0.25, 0.75])
    >>> d.numpy().tolist()
    [0.25, 0.75]
    """
    items = _items(laws)
    if items is None:
        raise ModelError(
            f"laws: must be a sequence of laws (tables or Distributions of one shape); "
            f"received {describe(laws)}"
        )
    w = prob_vector(weights, "weights")
    if not items or len(items) != w.size:
        raise ModelError(
            f"weights: need one weight per law ({len(items)} laws); received {w.size} weights"
        )
    dists = []
    for k, law in enumerate(items):
        try:
            dists.append(as_distribution(law, name=f"laws[{k}]"))
        except ValidationError as exc:
            raise ModelError(f"laws[{k}]: not a valid law: {exc}") from exc
    shape = dists[0].shape
    for k, d in enumerate(dists):
        if d.shape != shape:
            raise ModelError(
                f"laws[{k}]: every law must have the shape {shape} of laws[0]; received {d.shape}"
            )
    plan_build(shape, resolve_backend(backend, device), 3.0, "laws")
    table = np.asarray(sum(wk * d.numpy() for wk, d in zip(w, dists, strict=True)))
    table /= table.sum()  # weights within 1e-8 of a law: the mixture they define
    named = next((law for law in items if isinstance(law, Distribution)), None)
    be = resolve_backend(backend, device)
    out = finish(
        table,
        be,
        named.names if named else None,
        named.state_names if named else None,
        name="mixture",
    )
    out.model = ModelInfo("mixture", {"weights": w})
    return out
