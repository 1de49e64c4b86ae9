"""Shared fixtures: the one parametrised backend fixture and random laws with zeros."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


BACKENDS = [
    "numpy",
    pytest.param(
        "torch", marks=pytest.mark.skipif(not _torch_available(), reason="torch not installed")
    ),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend name: every test that takes it runs once per backend."""
    return str(request.param)


@pytest.fixture
def as_backend(backend: str) -> Callable[[Any], Any]:
    """Convert a numpy table to the input type of the current backend (a torch tensor or not)."""
    if backend == "numpy":
        return lambda x: np.asarray(x, dtype=np.float64)
    import torch

    return lambda x: torch.as_tensor(np.asarray(x, dtype=np.float64))


def random_law(
    shape: tuple[int, ...], seed: int = 0, zeros: float = 0.3, alpha: float = 1.0
) -> np.ndarray:
    """A Dirichlet random joint with about a fraction ``zeros`` of exact zeros."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(int(np.prod(shape)), alpha)).reshape(shape)
    if zeros > 0:
        mask = rng.random(shape) < zeros
        if mask.all():
            mask.flat[0] = False
        p = np.where(mask, 0.0, p)
    return p / p.sum()


@pytest.fixture
def make_law() -> Callable[..., np.ndarray]:
    """Factory fixture for :func:`random_law`."""
    return random_law
