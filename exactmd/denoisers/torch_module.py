"""The exact denoiser as a ``torch.nn.Module`` returning logits (MDLM / LLaDA conventions).

:class:`ExactDenoiserModule` wraps π's exact conditionals so that sampling code written for
a trained masked-diffusion model can call it unchanged:

- **Input**: ``input_ids``, a ``torch.long`` tensor ``(B, N)`` whose masked positions hold the
  mask id ``q = max q_i`` (the contract's convention). Extra positional or keyword arguments
  (MDLM's ``sigma`` / time, an ``attention_mask``…) are accepted and ignored: the exact
  denoiser does not depend on time.
- **Output**: logits ``(B, N, V)`` with ``V = q + 1`` by default (the values and the mask
  token; ``vocab_size`` pads more columns). ``style="mdlm"`` returns the tensor;
  ``style="llada"`` returns an object with a ``.logits`` attribute, as Hugging Face models do.
- **Logits**: ``log π(x_i = v | context)`` for a masked position i; for an unmasked position,
  0 at its token (MDLM's "carry-over unmasking"). **Zero probabilities** (impossible values,
  values ``>= q_i``, the mask column, padding) get the finite logit :data:`NEG_LOGIT`
  ``= -1e6``, MDLM's ``neg_infinity``: ``softmax`` gives exactly 0 there in float32 and
  float64, while ``log_softmax`` and KL terms stay finite (no ``0 · inf = nan``).
- Contexts of probability 0 follow :data:`exactmd.enumeration.ZERO_CONTEXT_POLICY` (uniform).

The law is held as a float64 buffer, on the law's device (a law on a torch backend) or the
CPU (numpy, symbolic), so ``.to(device)`` and ``.double()`` / ``.float()`` behave as
for any module; the conditionals are computed in float64 on the buffer's device and the
logits are returned in the buffer's dtype.

Examples
--------
>>> import torch
>>> m = ExactDenoiserModule([[0.5, 0.0], [0.25, 0.25]])
>>> x = torch.tensor([[1, 2]])  # x0 = 1, x1 masked (mask id 2)
>>> torch.softmax(m(x), -1)[0, 1].tolist()
[0.5, 0.5, 0.0]
>>> m.mask_id, m.vocab_size
(2, 3)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from exactmd._validate import check_choice
from exactmd.backends import get_backend
from exactmd.enumeration.conditionals import exact_conditionals
from exactmd.errors import ValidationError, describe
from exactmd.law.distribution import Distribution, as_distribution

__all__ = ["ExactDenoiserModule", "DenoiserOutput", "NEG_LOGIT"]

#: The logit given to values of probability 0 (MDLM's ``neg_infinity``).
NEG_LOGIT = -1e6


@dataclass
class DenoiserOutput:
    """A Hugging Face–style output holding ``logits`` (``style="llada"``)."""

    logits: torch.Tensor


def _law_device(d: Distribution) -> torch.device:
    """The device of ``d``'s table: its torch backend's device, the CPU for other backends."""
    if d.backend.name == "torch":
        return torch.device(d.backend.device)  # type: ignore[attr-defined]
    return torch.device("cpu")


class ExactDenoiserModule(torch.nn.Module):
    """π's exact conditionals as a module returning logits.

    Parameters
    ----------
    p
        The law π (anything :func:`exactmd.as_distribution` accepts). The module's float64
        buffer starts on the law's device when its backend is torch (a CUDA tensor or
        ``as_distribution(p, backend="torch", device="cuda")`` gives a CUDA module), on the
        CPU otherwise.
    style
        ``"mdlm"`` (return the logits tensor) or ``"llada"`` (return ``DenoiserOutput``).
    vocab_size
        Number of logit columns, at least ``q + 1`` (values, then the mask id ``q``).

    Examples
    --------
    >>> import torch
    >>> module = ExactDenoiserModule([[0.5, 0.0], [0.25, 0.25]])
    >>> logits = module(torch.tensor([[1, 2]]))  # x_0 = 1 revealed, x_1 masked (id q = 2)
    >>> logits.shape, torch.softmax(logits[0, 1], -1)[:2].tolist()
    (torch.Size([1, 2, 3]), [0.5, 0.5])
    """

    table: torch.Tensor

    def __init__(self, p: Any, style: str = "mdlm", vocab_size: int | None = None) -> None:
        super().__init__()
        d = as_distribution(p)
        check_choice(style, "style", ("mdlm", "llada"))
        v = d.q + 1 if vocab_size is None else int(vocab_size)
        if v < d.q + 1:
            raise ValidationError(
                f"vocab_size: must be at least q + 1 = {d.q + 1} (values and the mask id); "
                f"received {describe(vocab_size)}"
            )
        self.style = style
        self.shape = d.shape
        self.mask_id = d.q
        self.vocab_size = v
        # the validated law as a float64 numpy master copy (no re-validation on device moves);
        # the buffer starts on the law's device and follows .to() and dtype casts
        self._base: Distribution = d.with_backend(get_backend(name="numpy"))
        self.register_buffer(
            "table",
            torch.tensor(self._base.numpy(), dtype=torch.float64, device=_law_device(d)),
        )
        self._dist: Any = None
        self._key: Any = None

    def _distribution(self) -> Any:
        key = self.table.device
        if self._key != key:
            self._dist = self._base.with_backend(get_backend(name="torch", device=key))
            self._key = key
        return self._dist

    def forward(self, input_ids: Any, *args: Any, **kwargs: Any) -> Any:
        """Logits ``(B, N, vocab_size)`` for ``input_ids`` ``(B, N)``; extra arguments ignored.

        ``input_ids`` is a torch tensor (or a numpy int array); it is checked as the contract's
        tokens (values in ``range(q_i)`` or the mask id ``q``).
        """
        # exact_conditionals reads the tokens on the host (the law's backend's to_numpy)
        probs = exact_conditionals(self._distribution(), input_ids)
        probs = torch.as_tensor(probs).to(device=self.table.device, dtype=torch.float64)
        logits = torch.full(
            (*probs.shape[:2], self.vocab_size),
            NEG_LOGIT,
            dtype=torch.float64,
            device=self.table.device,
        )
        positive = probs > 0
        logits[..., : probs.shape[2]] = torch.where(
            positive, torch.log(torch.where(positive, probs, 1.0)), NEG_LOGIT
        )
        logits = logits.to(self.table.dtype)
        return DenoiserOutput(logits) if self.style == "llada" else logits

    def probabilities(self, input_ids: Any) -> torch.Tensor:
        """The contract form: probabilities ``(B, N, q)`` (values only, no mask column).

        This is the denoiser to hand to exactmd's functions
        (``output_distribution(p, schedule, module.probabilities)``).

        Examples
        --------
        >>> import numpy as np
        >>> m = ExactDenoiserModule(np.full((2, 2), 0.25))
        >>> m.probabilities(torch.tensor([[2, 2]])).tolist()
        [[[0.5, 0.5], [0.5, 0.5]]]
        """
        out = self.forward(input_ids)
        logits = out.logits if isinstance(out, DenoiserOutput) else out
        return torch.softmax(logits.to(torch.float64), dim=-1)[..., : self.mask_id]

    def extra_repr(self) -> str:
        return f"shape={self.shape}, mask_id={self.mask_id}, vocab_size={self.vocab_size}"
