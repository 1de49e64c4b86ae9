"""Bookkeeping of the sampler states (revealed set S, revealed values x_S), grouped by level.

A *level* holds revealed sets of one size ``a``. Its sets are grouped by *signature*, the tuple
``(q_i for i in S)`` in increasing position order, so that every set of a group has the same
number of value vectors ``Π_{i∈S} q_i`` (no padding of mixed alphabets). A group's states are
laid out row-major: row ``l * size + x`` is set ``sets[l]`` with the value vector of mixed-radix
index ``x`` (digits in the order of the positions of S). Sets are found by their colex rank
``Σ_j C(S_j, j + 1)``.

This module is pure index arithmetic (numpy) plus :func:`exact_rows`, which reads π's
conditionals of a group's states straight from the masked-marginal tensor.

Examples
--------
>>> lev = full_level((2, 3, 2), 2)
>>> [(g.signature, g.sets.tolist()) for g in lev.groups]
[((2, 2), [[0, 2]]), ((2, 3), [[0, 1]]), ((3, 2), [[1, 2]])]
>>> lev.locate(np.array([[1, 2], [0, 2]]))
(array([2, 0]), array([0, 0]))
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from math import comb, prod
from typing import Any

import numpy as np

from exactmd.backends._memory import require_fits
from exactmd.enumeration.conditionals import row_major_strides
from exactmd.enumeration.masked import masked_build_bytes, masked_tensor
from exactmd.errors import ValidationError
from exactmd.law.distribution import Distribution

__all__ = [
    "Group",
    "Level",
    "full_level",
    "single_level",
    "colex_rank",
    "removal_ranks",
    "level_states",
    "row_digits",
    "group_tokens",
    "exact_rows",
    "exact_table",
    "masked_bytes",
    "check_fits",
]


@lru_cache(maxsize=64)
def _binomials(n: int) -> np.ndarray:
    return np.array([[comb(i, j) for j in range(n + 2)] for i in range(n + 1)], dtype=np.int64)


def colex_rank(sets: np.ndarray, n: int) -> np.ndarray:
    """Colex ranks ``Σ_j C(S_j, j + 1)`` of sorted sets given as rows of ``sets``."""
    a = sets.shape[1]
    if a == 0:
        return np.zeros(sets.shape[0], dtype=np.int64)
    table = _binomials(n)
    return np.asarray(table[sets, np.arange(1, a + 1)[None, :]].sum(axis=1), dtype=np.int64)


def removal_ranks(sets: np.ndarray, n: int, s: int) -> Any:
    """A function giving, for a tuple ``r`` of ``s`` column positions, the colex ranks of the
    rows of ``sets`` (sorted sets) with the columns ``r`` removed.

    Removing ``r`` moves column ``i`` to ``i − #{x ∈ r : x < i}``, so each rank is a sum of
    precomputed columns ``C(sets[:, i], i − k + 1)`` (``k`` the shift): one vector add per
    kept column, no fancy indexing per pattern.

    Examples
    --------
    >>> sets = np.array([[0, 2, 3], [1, 2, 4]])
    >>> drop = removal_ranks(sets, 5, 1)
    >>> drop((1,)).tolist() == colex_rank(sets[:, [0, 2]], 5).tolist()
    True
    """
    sets = np.asarray(sets, dtype=np.int64)
    b = sets.shape[1]
    table = _binomials(n)
    cols: dict[tuple[int, int], np.ndarray] = {}  # filled on first use

    def ranks(r: tuple[int, ...]) -> np.ndarray:
        if (
            len(r) != s
            or any(x >= y for x, y in itertools.pairwise(r))
            or (r and not 0 <= r[0] <= r[-1] < b)
        ):
            raise ValidationError(
                f"patterns: must be {s} strictly increasing positions in range({b}); received {r!r}"
            )
        out = np.zeros(sets.shape[0], dtype=np.int64)
        shift = 0
        for i in range(b):
            if shift < len(r) and r[shift] == i:
                shift += 1
                continue
            if (i, shift) not in cols:
                cols[(i, shift)] = np.ascontiguousarray(table[sets[:, i], i - shift + 1])
            out += cols[(i, shift)]
        return out

    return ranks


@dataclass(frozen=True)
class Group:
    """Sets of one level sharing one signature; ``comps`` are their masked positions."""

    signature: tuple[int, ...]
    sets: np.ndarray
    comps: np.ndarray

    @property
    def size(self) -> int:
        """Value vectors per set, ``Π signature``."""
        return prod(self.signature)

    @property
    def rows(self) -> int:
        """States in the group, ``len(sets) * size``."""
        return int(self.sets.shape[0]) * self.size


class Level:
    """The revealed sets of size ``a`` (all, or those a deterministic planner visits).

    ``key`` names the level in a level program (``Revealed``): ``a`` for all the sets of size
    ``a``, the sorted set itself for a level of one set; engines key their caches by it.
    """

    def __init__(
        self, shape: tuple[int, ...], sets: np.ndarray, key: int | tuple[int, ...] | None = None
    ) -> None:
        self.shape = shape
        self.n = len(shape)
        sets = np.asarray(sets, dtype=np.int64)
        self.a = int(sets.shape[1])
        self.key: int | tuple[int, ...] = self.a if key is None else key
        q = np.asarray(shape, dtype=np.int64)
        sigs = q[sets]
        keys = sorted({tuple(int(v) for v in s) for s in sigs}) if len(sets) else []
        self.groups: list[Group] = []
        ranks_all, gid_all, loc_all = [], [], []
        for gid, key in enumerate(keys):
            members = sets[np.all(sigs == np.asarray(key, dtype=np.int64), axis=1)]
            ranks = colex_rank(members, self.n)
            order = np.argsort(ranks, kind="stable")
            members, ranks = members[order], ranks[order]
            free = np.ones((len(members), self.n), dtype=bool)
            free[np.arange(len(members))[:, None], members] = False
            comps = np.nonzero(free)[1].reshape(len(members), self.n - self.a)
            self.groups.append(Group(key, members, comps))
            ranks_all.append(ranks)
            gid_all.append(np.full(len(members), gid, dtype=np.int64))
            loc_all.append(np.arange(len(members), dtype=np.int64))
        ranks_cat = np.concatenate(ranks_all) if ranks_all else np.zeros(0, dtype=np.int64)
        order = np.argsort(ranks_cat, kind="stable")
        self._ranks = ranks_cat[order]
        self._gid = np.concatenate(gid_all)[order] if gid_all else self._ranks
        self._loc = np.concatenate(loc_all)[order] if loc_all else self._ranks
        # every set of size a is present: the colex rank is the position in ``_ranks``
        self._dense = bool(np.array_equal(self._ranks, np.arange(comb(self.n, self.a))))

    @property
    def states(self) -> int:
        """Number of states (set, values) of the level."""
        return sum(g.rows for g in self.groups)

    def locate(self, sets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(group id, index in group)`` of each row of ``sets`` (sorted sets of size a)."""
        return self.locate_ranks(colex_rank(np.asarray(sets, dtype=np.int64), self.n))

    def locate_ranks(self, ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(group id, index in group)`` of the sets of colex ranks ``ranks``."""
        if self._dense:  # a full level: no search
            if len(ranks) and (ranks.min() < 0 or ranks.max() >= len(self._ranks)):
                raise ValidationError("levels: a set is not in this level (internal error)")
            return self._gid[ranks], self._loc[ranks]
        where = np.searchsorted(self._ranks, ranks)
        where = np.minimum(where, len(self._ranks) - 1)
        if len(ranks) and not np.array_equal(self._ranks[where], ranks):
            raise ValidationError("levels: a set is not in this level (internal error)")
        return self._gid[where], self._loc[where]


def full_level(shape: tuple[int, ...], a: int) -> Level:
    """The level of all ``C(N, a)`` revealed sets of size ``a``."""
    sets = list(itertools.combinations(range(len(shape)), a))
    return Level(shape, np.array(sets, dtype=np.int64).reshape(len(sets), a), a)


def single_level(shape: tuple[int, ...], subset: tuple[int, ...]) -> Level:
    """A level holding the one set ``subset``."""
    ordered = tuple(sorted(int(i) for i in subset))
    return Level(shape, np.array([ordered], dtype=np.int64).reshape(1, len(subset)), ordered)


def level_states(shape: tuple[int, ...]) -> list[int]:
    """``e_a``, the number of states (S, x_S) with ``|S| = a``, for a = 0..N."""
    e = [1] + [0] * len(shape)
    for q in shape:
        for a in range(len(shape), 0, -1):
            e[a] += e[a - 1] * q
    return e


def row_digits(signature: tuple[int, ...], x: np.ndarray) -> np.ndarray:
    """Mixed-radix digits ``(R, a)`` of value indices ``x`` (row-major over ``signature``)."""
    sig = np.asarray(signature, dtype=np.int64)
    strides = row_major_strides(signature)
    return np.asarray((x[:, None] // strides[None, :]) % sig[None, :], dtype=np.int64)


def group_tokens(shape: tuple[int, ...], group: Group, rows: np.ndarray) -> np.ndarray:
    """Contract tokens ``(R, N)`` (mask value ``max q_i``) of the group's states ``rows``."""
    local, x = np.divmod(rows, group.size)
    tokens = np.full((len(rows), len(shape)), max(shape), dtype=np.int64)
    if group.sets.shape[1]:
        tokens[np.arange(len(rows))[:, None], group.sets[local]] = row_digits(group.signature, x)
    return tokens


def exact_rows(dist: Distribution, group: Group, rows: np.ndarray) -> tuple[Any, Any]:
    """π's conditionals at the group's states ``rows``, read from the masked tensor.

    Returns
    -------
    cond, den
        Native arrays: ``cond[r, j, v] = π(x_{comps[j]} = v | x_S)`` of shape ``(R, N−a, q)``
        (0 for ``v >= q_i``; uniform on a context of probability 0, as
        :func:`~exactmd.enumeration.conditionals.exact_conditionals`), and ``den[r] = π(x_S)``
        of shape ``(R,)``.
    """
    be = dist.backend
    shape = np.asarray(dist.shape, dtype=np.int64)
    q = dist.q
    mt = masked_tensor(dist)
    st = row_major_strides([s + 1 for s in dist.shape])  # of the masked tensor
    local, x = np.divmod(rows, group.size)
    y = np.full(len(rows), int(np.dot(shape, st)), dtype=np.int64)
    if group.sets.shape[1]:
        sets = group.sets[local]
        y += ((row_digits(group.signature, x) - shape[sets]) * st[sets]).sum(axis=1)
    comps = group.comps[local]  # (R, m)
    qi = shape[comps][:, :, None]
    values = np.arange(q, dtype=np.int64)[None, None, :]
    delta = (np.minimum(values, qi - 1) - qi) * st[comps][:, :, None]
    y_at = be.as_index(y)  # copied to the device once, used by both gathers
    num = be.take_flat_sum(mt, y_at[:, None, None], delta)
    den = be.take_flat(mt, y_at)
    den3 = be.reshape(den, (len(rows), 1, 1))
    valid = values < qi
    zero = be.nonpositive(den3)  # contexts of probability 0, found on the device
    if valid.all():  # one alphabet size: no per-entry arrays to copy to the device
        return (num / (den3 + zero)) * (1 - zero) + zero * be.quotient(1.0, q), den
    uniform = be.asarray(be.quotient(valid, qi))  # exact 1 / q_i on exact backends
    cond = (num / (den3 + zero)) * (1 - zero) + uniform * zero
    return cond * be.asarray(valid.astype(np.float64)), den


def exact_table(dist: Distribution, group: Group, entries: int | None = None) -> Any:
    """π's conditionals at every state of ``group``, laid out for row gathers.

    Parameters
    ----------
    dist, group
        The law and a group of one of its levels.
    entries
        Table entries per chunk (default ``be.tuning.table_chunk_entries``); the
        temporaries of a chunk are a few arrays of that many entries.

    Returns
    -------
    Native array ``(n_sets * m, q * size)``: row ``l * m + j`` holds, for every value ``v``
    and value vector ``x`` of set ``l`` (row-major), ``π(x_{comps[l, j]} = v | x_S)``; the same
    numbers as :func:`exact_rows` (0 for ``v >= q_i``, uniform on contexts of probability 0).

    Only index vectors of ``k · size`` and ``k · m · q`` integers per chunk of ``k`` sets are
    made on the host; the gather index, the zero contexts and the conditionals are formed on
    the backend's device, with no host round trip.
    """
    be = dist.backend
    shape = np.asarray(dist.shape, dtype=np.int64)
    q, size = dist.q, group.size
    mt = masked_tensor(dist)
    st = row_major_strides([s + 1 for s in dist.shape])  # of the masked tensor
    digits = row_digits(group.signature, np.arange(size, dtype=np.int64))  # (size, a)
    values = np.arange(q, dtype=np.int64)
    n_sets, m = group.comps.shape
    chunk = be.tuning.table_chunk_entries if entries is None else int(entries)
    per = max(1, chunk // max(1, m * size * q))
    qi_all = shape[group.comps][:, :, None]  # (n_sets, m, 1)
    valid_all = values[None, None, :] < qi_all  # (n_sets, m, q)
    # per-group constants on the device, sliced per chunk: the uniform rows of the zero
    # contexts, and the mask of values >= q_i (read at a clipped index, they get 0)
    uniform_all = be.asarray(be.quotient(valid_all, qi_all)[:, :, :, None])
    valid_dev = None if valid_all.all() else be.asarray(valid_all[:, :, :, None].astype(np.float64))
    out = be.zeros((n_sets * m, q * size))
    digit_cols = be.as_index(np.ascontiguousarray(digits.T))  # (a, size), on the device once
    for lo in range(0, n_sets, per):
        sets, comps = group.sets[lo : lo + per], group.comps[lo : lo + per]
        k = len(sets)
        # the masked-tensor index of every state, formed where the gathers run from k·a
        # strides and the group's digit columns (copied once): no (k, size) host array
        coef = be.as_index(st[sets])  # (k, a)
        y_at = be.as_index(int(np.dot(shape, st)) - (shape[sets] * st[sets]).sum(axis=1))
        y_at = be.reshape(y_at, (k, 1))
        for i in range(group.sets.shape[1]):
            y_at = y_at + coef[:, i : i + 1] * digit_cols[i : i + 1]  # (k, size)
        qi = qi_all[lo : lo + k]  # (k, m, 1)
        delta = (np.minimum(values[None, None, :], qi - 1) - qi) * st[comps][:, :, None]
        num = be.take_flat_sum(mt, y_at[:, None, None, :], delta[:, :, :, None])  # (k, m, q, size)
        den = be.reshape(be.take_flat(mt, be.reshape(y_at, (-1,))), (k, 1, 1, size))
        zero = be.nonpositive(den)  # contexts of probability 0: the uniform law on X_i
        num *= (1 - zero) / (den + zero)  # in place: num is a fresh gather
        num += uniform_all[lo : lo + k] * zero
        if valid_dev is not None:
            num *= valid_dev[lo : lo + k]
        out[lo * m : (lo + k) * m] = be.reshape(num, (k * m, q * size))
    return out


def masked_bytes(dist: Distribution) -> int:
    """Bytes the masked-marginal tensor adds to a computation reading it.

    0 when it is already cached on ``dist``; otherwise the peak of building it, as
    :func:`~exactmd.enumeration.masked.plan_masked` counts: one array of ``Π (q_i + 1)`` entries on
    the
    numpy and torch backends (built in place, and kept cached) plus numpy's copies of
    overlapping operands, two arrays elsewhere.

    Examples
    --------
    >>> from exactmd.law.distribution import as_distribution
    >>> d = as_distribution(np.full((2, 3), 1 / 6))
    >>> masked_bytes(d), (masked_tensor(d) is not None) and masked_bytes(d)
    (144, 0)
    """
    if dist._derived.masked is not None:
        return 0
    return masked_build_bytes(dist)


def check_fits(dist: Distribution, what: str, parts: dict[str, int]) -> int:
    """Sum the byte counts ``parts``; raise :class:`~exactmd.errors.MemoryPlanError` (naming
    the bytes needed, each part, and the bytes available) when the backend has less.

    Examples
    --------
    >>> from exactmd.law.distribution import as_distribution
    >>> check_fits(as_distribution([0.5, 0.5]), "demo", {"states": 16, "tables": 8})
    24
    """
    return require_fits(sum(parts.values()), dist.backend, f"p: {what}", parts)
