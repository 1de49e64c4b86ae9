"""Type aliases shared by exactmd modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["ArrayLike", "FloatArray", "IntArray", "SizesLike", "PartitionLike", "Array"]

#: Anything a contract function accepts as a law: numpy array, torch tensor, nested lists,
#: a :class:`~exactmd.law.distribution.Distribution`, or a model loader's result.
ArrayLike = Any
#: A backend-native array (numpy ``ndarray`` or ``torch.Tensor``).
Array = Any
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
SizesLike = Sequence[int]
PartitionLike = Sequence[Sequence[int]]
