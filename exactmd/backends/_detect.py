"""Recognising arrays without importing torch: torch tensors, CUDA devices, host copies.

These helpers sit below every backend (:mod:`exactmd.backends._torch` uses them too), so that
no backend module has to import the package that lists it.

Examples
--------
>>> import numpy as np
>>> is_torch_tensor(np.zeros(2)), to_host([[1, 2]]).shape
(False, (1, 2))
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

__all__ = ["is_torch_tensor", "on_cuda", "to_host"]


def is_torch_tensor(x: object) -> bool:
    """Return True when ``x`` is a ``torch.Tensor`` (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def on_cuda(backend: Any) -> bool:
    """True when ``backend`` (anything with a torch-like ``device``) works on a CUDA device.

    Examples
    --------
    >>> from exactmd.backends import get_backend
    >>> on_cuda(get_backend(name="numpy"))
    False
    """
    return getattr(getattr(backend, "device", None), "type", "cpu") == "cuda"


def to_host(x: Any, dtype: Any = None) -> np.ndarray:
    """``x`` as a numpy array on the host: a torch tensor is detached and copied to the CPU,
    anything else goes through :func:`numpy.asarray` (torch is never imported).

    Parameters
    ----------
    x
        A torch tensor, a numpy array, or anything :func:`numpy.asarray` reads.
    dtype
        Passed to :func:`numpy.asarray` (None: keep the input's dtype).

    Examples
    --------
    >>> to_host([[1, 2]]).shape
    (1, 2)
    >>> to_host([0.5], dtype=object).dtype
    dtype('O')
    """
    if is_torch_tensor(x):
        x = x.detach().cpu().numpy()  # type: ignore[attr-defined]
    return np.asarray(x, dtype=dtype)
