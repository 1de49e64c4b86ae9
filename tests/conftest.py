"""Shared fixtures: the one parametrised backend fixture and a factory of random laws."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers import random_law


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


@pytest.fixture
def make_law() -> Callable[..., np.ndarray]:
    """Factory fixture for :func:`random_law`."""
    return random_law
