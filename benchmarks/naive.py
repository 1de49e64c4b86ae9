"""Naive enumeration baselines: one concatenation per axis, −m log m, per-axis reduction.

This is the straightforward way to get all subset entropies: grow the masked-marginal tensor
by appending, for every axis, the sum along that axis (``numpy.concatenate`` / ``torch.cat``),
apply ``−m log m`` to the whole ``(q+1)^N`` tensor, then reduce every axis to two slots
("masked" and "sum over values"). It holds several copies of the full masked tensor.
"""

from __future__ import annotations

from math import comb, prod
from typing import Any

import numpy as np

__all__ = [
    "naive_entropies_numpy",
    "naive_entropies_torch",
    "naive_bytes",
    "profile_from_entropies",
    "random_binary_joint",
]


def random_binary_joint(n: int, seed: int = 0) -> np.ndarray:
    """A random binary joint on N variables (Dirichlet(1) weights), float64."""
    rng = np.random.default_rng(seed)
    p = rng.random(2**n)
    return (p / p.sum()).reshape((2,) * n)


def naive_bytes(shape: tuple[int, ...], itemsize: int = 8) -> int:
    """Peak bytes of the naive path: four masked-size arrays are alive at once.

    In ``−m · log m`` the masked tensor ``m``, ``−m``, ``log m`` and their product coexist
    (numpy and torch alike); the concatenations and the reductions need less (``m`` plus at
    most 5/3 of it).
    """
    return 4 * prod(q + 1 for q in shape) * itemsize


def naive_entropies_numpy(p: np.ndarray) -> np.ndarray:
    """All subset entropies (nats) of ``p``, shape ``(2,)*N``, by the naive numpy path."""
    m = np.asarray(p, dtype=np.float64)
    for i in range(m.ndim):
        m = np.concatenate([m, m.sum(axis=i, keepdims=True)], axis=i)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(m > 0, -m * np.log(m), 0.0)
    del m
    for i, q in enumerate(p.shape):
        lead = (slice(None),) * i
        masked_slot, values = (*lead, slice(q, q + 1)), (*lead, slice(0, q))
        t = np.concatenate(
            [t[masked_slot], t[values].sum(axis=i, keepdims=True)],
            axis=i,
        )
    return t


def naive_entropies_torch(p: Any) -> Any:
    """All subset entropies of a torch tensor ``p`` by the naive path (``torch.cat`` per axis)."""
    import torch

    m = p
    shape = tuple(p.shape)
    for i in range(m.dim()):
        m = torch.cat([m, m.sum(dim=i, keepdim=True)], dim=i)
    t = torch.where(m > 0, -m * torch.log(m), torch.zeros((), dtype=m.dtype, device=m.device))
    del m
    for i, q in enumerate(shape):
        lead = (slice(None),) * i
        masked_slot, values = (*lead, slice(q, q + 1)), (*lead, slice(0, q))
        t = torch.cat(
            [t[masked_slot], t[values].sum(dim=i, keepdim=True)],
            dim=i,
        )
    return t


def profile_from_entropies(h: np.ndarray) -> np.ndarray:
    """The information profile f(i) = h̄(i) − h̄(i+1) from all subset entropies ``h``."""
    n = h.ndim
    sizes = np.zeros((2,) * n, dtype=np.int64)
    for i in range(n):
        sizes += np.arange(2).reshape((1,) * i + (2,) + (1,) * (n - i - 1))
    totals = np.bincount(sizes.reshape(-1), weights=h.reshape(-1), minlength=n + 1)
    hbar = totals / np.array([comb(n, k) for k in range(n + 1)], dtype=np.float64)
    return np.asarray(hbar[:-1] - hbar[1:], dtype=np.float64)
