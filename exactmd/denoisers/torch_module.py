"""The exact denoiser as a ``torch.nn.Module``, in the calling convention of each public sampler.

:class:`ExactDenoiserModule` wraps π's exact conditionals so that sampling code written for
a trained masked-diffusion model can call it unchanged. ``style=`` chooses the convention
(``SAMPLERS.md`` §2(b)–§6(b), §9, §12.3):

===================  ============================================  ============================
style                call, and what it returns                     the code's processing
===================  ============================================  ============================
``"mdlm"``           ``m(x, *ignored)``: logits ``(B, N, V)``      softmax (MDLM's forward
                                                                   output: SUBS already done)
``"llada"``          ``m(x, attention_mask=None).logits``          softmax (LLaDA ``generate``)
``"fast_dllm"``      ``m(x).logits``                               softmax (Fast-dLLM)
``"dream"``          ``m(x, attention_mask, tok_idx).logits``,     Dream's right shift, then
                     shifted left by one                           softmax
``"mdlm_backbone"``  ``m(indices, sigma)``: logits                 SUBS: mask column −1e6,
                                                                   log-softmax, carry-over
``"sedd"``           ``m(indices, sigma)``: log-scores             ``exp(score) · (e^σ − 1)``
                     ``(B, N, mask_id + 1)``                       on the values
``"logits"``         ``m(x)``: raw logits ``(B, N, V)``            softmax (diffusers'
                                                                   ``BlockRefinementScheduler``)
===================  ============================================  ============================

After the processing in the last column, every style gives π's exact conditionals at the
masked positions (``m.device`` is the buffer's device, which LLaDA, Fast-dLLM and Dream read
to place their tensors; for diffusers' ``step``, slice the block out of the ``"logits"``
output).

- **Input**: a ``torch.long`` tensor ``(B, N)`` (or a numpy int array) whose masked positions
  hold ``mask_id`` (default ``q = max q_i``, the contract's convention; any ``mask_id >= q``
  may be chosen, e.g. a large id as real models use). Values are checked: ``range(q_i)`` or
  ``mask_id``. Extra arguments (an attention mask, MDLM's σ, Dream's ``tok_idx``) are accepted
  and ignored, except SEDD's σ, which the scores depend on.
- **Logits**: ``log π(x_i = v | context)`` for a masked position i; for an unmasked position,
  0 at its token (MDLM's "carry-over unmasking"). **Zero probabilities** (impossible values,
  values ``>= q_i``, the mask column, padding up to ``vocab_size``) get the finite logit
  :data:`NEG_LOGIT` ``= -1e6``, MDLM's ``neg_infinity``: ``softmax`` and ``exp`` give exactly
  0 there in float32 and float64, while ``log_softmax``, entropies and KL terms stay finite (no
  ``0 · inf = nan``). The other logits are ``log p >= log(smallest positive float64)``, so
  ``|logit| < 746``: LLaDA's ``add_gumbel_noise`` exponentiates them without overflow.
- **Dream** (§4): Dream's code gives position ``j >= 1`` the model's output at ``j - 1`` and
  position 0 its own, so the module returns at index ``j`` the conditional of position
  ``j + 1`` (and at index ``N - 1`` that of position ``N - 1``, which Dream drops). Index 0
  serves position 1, unless position 0 is masked: then it serves position 0, and position 1
  must be unmasked — when positions 0 and 1 are both masked (an empty prompt) Dream hands them
  the same logits and no model can give each its own conditional, so the module refuses the
  input (start the sequence with a prompt token).
- **SEDD** (§6): ``log s(y) = log p(y) − log(e^σ − 1)`` for a masked position and
  ``y < mask_id`` (σ of shape ``(B,)`` or ``(B, 1)``, > 0), 0 in the mask column; an unmasked
  position has 0 at its own token and :data:`NEG_LOGIT` elsewhere (the real model writes 0 at
  the own entry; SEDD's samplers never move an unmasked position). ``vocab_size`` is
  ``mask_id + 1`` (the absorbing graph's V values and the mask, last).
- **MDLM backbone** (§5): the logits above are already SUBS-normalised, so MDLM's SUBS maps
  them to themselves (to rounding); the mask column holds :data:`NEG_LOGIT` before SUBS adds
  its own −1e6.
- **All outputs** are float64 (the buffer's dtype: ``.float()`` gives float32), with zero mass
  on the mask id. Contexts of probability 0 follow
  :data:`exactmd.enumeration.ZERO_CONTEXT_POLICY` (uniform).

The law is held as a float64 buffer, on the law's device (a law on a torch backend) or the
CPU (numpy, symbolic), so ``.to(device)`` and ``.double()`` / ``.float()`` behave as for any
module, and ``module.device`` is the buffer's device (LLaDA, Fast-dLLM and Dream place their
tensors there); the conditionals are computed in float64 on that device.

Examples
--------
>>> import torch
>>> m = ExactDenoiserModule([[0.5, 0.0], [0.25, 0.25]])
>>> x = torch.tensor([[1, 2]])  # x0 = 1, x1 masked (mask id 2)
>>> torch.softmax(m(x), -1)[0, 1].tolist()
[0.5, 0.5, 0.0]
>>> m.mask_id, m.vocab_size, m.device.type
(2, 3, 'cpu')
>>> dream = ExactDenoiserModule([[0.5, 0.0], [0.25, 0.25]], style="dream", mask_id=4)
>>> logits = dream(torch.tensor([[1, 4]]), "full", None).logits
>>> shifted = torch.cat([logits[:, :1], logits[:, :-1]], dim=1)  # what Dream does
>>> torch.softmax(shifted, -1)[0, 1, :2].tolist()
[0.5, 0.5]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from exactmd._validate import check_choice, check_int
from exactmd.backends import get_backend
from exactmd.enumeration.conditionals import exact_conditionals
from exactmd.errors import ValidationError, describe
from exactmd.law.distribution import Distribution, as_distribution

__all__ = ["ExactDenoiserModule", "DenoiserOutput", "NEG_LOGIT", "STYLES"]

#: The logit given to values of probability 0 (MDLM's ``neg_infinity``).
NEG_LOGIT = -1e6

#: The calling conventions (see the module notes).
STYLES = ("mdlm", "llada", "fast_dllm", "dream", "mdlm_backbone", "sedd", "logits")

_WRAPPED = ("llada", "fast_dllm", "dream")  # styles returning an object with .logits


@dataclass
class DenoiserOutput:
    """A Hugging Face–style output holding ``logits`` (styles ``"llada"``, ``"fast_dllm"``,
    ``"dream"``)."""

    logits: torch.Tensor


def _law_device(d: Distribution) -> torch.device:
    """The device of ``d``'s table: its torch backend's device, the CPU for other backends."""
    if d.backend.name == "torch":
        return torch.device(d.backend.device)  # type: ignore[attr-defined]
    return torch.device("cpu")


def _host_tokens(tokens: Any) -> np.ndarray:
    """``tokens`` (a torch tensor on any device, numpy, lists) as a host numpy array."""
    if isinstance(tokens, torch.Tensor):
        return tokens.detach().cpu().numpy()
    try:
        return np.asarray(tokens)
    except (TypeError, ValueError) as exc:  # ragged lists
        raise ValidationError(
            f"tokens: must be an int array (B, N); received {describe(tokens)}"
        ) from exc


class ExactDenoiserModule(torch.nn.Module):
    """π's exact conditionals as a module, in the calling convention ``style``.

    Parameters
    ----------
    p
        The law π (anything :func:`exactmd.as_distribution` accepts). The module's float64
        buffer starts on the law's device when its backend is torch (a CUDA tensor or
        ``as_distribution(p, backend="torch", device="cuda")`` gives a CUDA module), on the
        CPU otherwise.
    style
        One of :data:`STYLES` (the table of the module notes): ``"mdlm"`` (the logits
        tensor, the default), ``"llada"``, ``"fast_dllm"``, ``"dream"`` (a
        :class:`DenoiserOutput`), ``"mdlm_backbone"``, ``"sedd"``, ``"logits"`` (tensors).
    vocab_size
        Number of columns, at least ``mask_id + 1`` (values, padding, the mask id); default
        ``mask_id + 1``. SEDD's is always ``mask_id + 1``.
    mask_id
        The id of the mask token in the inputs (and its column), an integer ``>= q``;
        default ``q = max q_i``.

    Examples
    --------
    >>> import torch
    >>> module = ExactDenoiserModule([[0.5, 0.0], [0.25, 0.25]])
    >>> logits = module(torch.tensor([[1, 2]]))  # x_0 = 1 revealed, x_1 masked (id q = 2)
    >>> logits.shape, torch.softmax(logits[0, 1], -1)[:2].tolist()
    (torch.Size([1, 2, 3]), [0.5, 0.5])
    >>> llada = ExactDenoiserModule([[0.5, 0.0], [0.25, 0.25]], style="llada", mask_id=7)
    >>> llada(torch.tensor([[7, 7]])).logits.shape, llada.vocab_size
    (torch.Size([1, 2, 8]), 8)
    """

    table: torch.Tensor

    def __init__(
        self,
        p: Any,
        style: str = "mdlm",
        vocab_size: int | None = None,
        *,
        mask_id: int | None = None,
    ) -> None:
        super().__init__()
        d = as_distribution(p)
        check_choice(style, "style", STYLES)
        q = d.q
        mid = q if mask_id is None else check_int(mask_id, "mask_id", minimum=q)
        word = "q" if mid == q else "mask_id"
        if vocab_size is None:
            v = mid + 1
        else:
            v = check_int(vocab_size, "vocab_size")
            if v < mid + 1:
                raise ValidationError(
                    f"vocab_size: must be at least {word} + 1 = {mid + 1} (values and the mask "
                    f"id); received {describe(vocab_size)}"
                )
            if style == "sedd" and v != mid + 1:
                raise ValidationError(
                    f"vocab_size: must be mask_id + 1 = {mid + 1} for style 'sedd' (the "
                    f"absorbing graph's values, then the mask, last); received "
                    f"{describe(vocab_size)}"
                )
        self.style = style
        self.shape = d.shape
        self.mask_id = mid
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

    @property
    def device(self) -> torch.device:
        """The device of the module's buffer (where its outputs live)."""
        return self.table.device

    def _distribution(self) -> Any:
        key = self.table.device
        if self._key != key:
            self._dist = self._base.with_backend(get_backend(name="torch", device=key))
            self._key = key
        return self._dist

    def _contract_tokens(self, input_ids: Any) -> np.ndarray:
        """The host tokens with the mask written as ``q`` (the contract), after checking that
        every entry is a value in ``range(q_i)`` or ``mask_id``."""
        tok = _host_tokens(input_ids)
        n = len(self.shape)
        if tok.ndim != 2 or tok.shape[1] != n:
            raise ValidationError(f"tokens: must have shape (B, {n}); received shape {tok.shape}")
        if not np.issubdtype(tok.dtype, np.integer):
            raise ValidationError(f"tokens: must be integers; received dtype {tok.dtype}")
        tok = tok.astype(np.int64)
        qs = np.asarray(self.shape, dtype=np.int64)
        masked = tok == self.mask_id
        bad = (((tok < 0) | (tok >= qs)) & ~masked).nonzero()
        if bad[0].size:
            r, c = int(bad[0][0]), int(bad[1][0])
            raise ValidationError(
                f"tokens: entry ({r}, {c}) must be a value in range({self.shape[c]}) or the "
                f"mask {self.mask_id}; received {int(tok[r, c])}"
            )
        return np.where(masked, max(self.shape), tok)

    def _conditionals(self, tokens: np.ndarray) -> torch.Tensor:
        """π's conditionals ``(B, N, q)`` (one-hot at unmasked positions), float64, on device."""
        probs = exact_conditionals(self._distribution(), tokens)
        return torch.as_tensor(probs).to(device=self.table.device, dtype=torch.float64)

    def _log_table(self, probs: torch.Tensor) -> torch.Tensor:
        """``log probs`` in ``vocab_size`` columns, :data:`NEG_LOGIT` where the mass is 0."""
        out = torch.full(
            (*probs.shape[:2], self.vocab_size),
            NEG_LOGIT,
            dtype=torch.float64,
            device=self.table.device,
        )
        positive = probs > 0
        out[..., : probs.shape[2]] = torch.where(
            positive, torch.log(torch.where(positive, probs, 1.0)), NEG_LOGIT
        )
        return out

    def forward(self, input_ids: Any, *args: Any, **kwargs: Any) -> Any:
        """The output of ``style`` for ``input_ids`` ``(B, N)`` (see the module notes).

        ``input_ids`` is a torch tensor (or a numpy int array) of values in ``range(q_i)`` and
        the mask id ``mask_id``. Other arguments are ignored, except σ for ``style="sedd"``
        (the second positional argument or ``sigma=``).
        """
        tokens = self._contract_tokens(input_ids)
        masked = torch.as_tensor(tokens == max(self.shape), device=self.table.device)
        logits = self._log_table(self._conditionals(tokens))
        if self.style == "dream":
            logits = self._dream_shift(logits, masked)
        elif self.style == "sedd":
            sigma = kwargs.get("sigma", args[0] if args else None)
            logits = self._sedd_scores(logits, masked, sigma)
        logits = logits.to(self.table.dtype)
        return DenoiserOutput(logits) if self.style in _WRAPPED else logits

    def _dream_shift(self, logits: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
        """Index ``j`` holds position ``j + 1``'s row; index 0 position 0's when it is masked."""
        n = logits.shape[1]
        if n == 1:
            return logits
        both = masked[:, 0] & masked[:, 1]
        if bool(both.any()):
            row = int(torch.nonzero(both)[0, 0])
            raise ValidationError(
                f"tokens: row {row} has positions 0 and 1 both masked; Dream's right shift "
                "gives them the same logits (position 0 keeps its own output, position 1 "
                "reads index 0), so no model can give each its exact conditional: start the "
                "sequence with a prompt token"
            )
        out = torch.cat([logits[:, 1:], logits[:, -1:]], dim=1)
        out[:, 0] = torch.where(masked[:, :1], logits[:, 0], logits[:, 1])
        return out

    def _sedd_scores(self, logits: torch.Tensor, masked: torch.Tensor, sigma: Any) -> torch.Tensor:
        """SEDD's absorbing log-scores from the log-conditionals (module notes)."""
        rows = logits.shape[0]
        if sigma is None:
            raise ValidationError(
                "sigma: style 'sedd' needs the noise level σ of shape (B,) as the second "
                "argument (model(indices, sigma)); received None"
            )
        s = torch.as_tensor(sigma).detach().to(device=self.table.device, dtype=torch.float64)
        if s.numel() == 1:
            s = s.reshape(1).expand(rows)
        s = s.reshape(-1)
        if s.shape[0] != rows or not bool(torch.all(torch.isfinite(s) & (s > 0))):
            raise ValidationError(
                f"sigma: must hold {rows} finite values > 0 (shape (B,) or (B, 1)); received "
                f"{describe(sigma)}"
            )
        # log(e^σ − 1) = σ + log(1 − e^{−σ}), stable for small and large σ
        log_em1 = s + torch.log(-torch.expm1(-s))
        shifted = torch.where(logits > NEG_LOGIT, logits - log_em1[:, None, None], NEG_LOGIT)
        shifted[..., self.mask_id] = 0.0
        return torch.where(masked[..., None], shifted, logits)

    def probabilities(self, input_ids: Any) -> torch.Tensor:
        """The contract form: probabilities ``(B, N, q)`` (values only, no mask column).

        ``input_ids`` follow the **contract** (masked positions hold ``q = max q_i``, whatever
        ``mask_id`` is), as exactmd's functions hand them: this is the denoiser to give them
        (``output_distribution(p, schedule, module.probabilities)``), in every style.

        Examples
        --------
        >>> import numpy as np
        >>> m = ExactDenoiserModule(np.full((2, 2), 0.25))
        >>> m.probabilities(torch.tensor([[2, 2]])).tolist()
        [[[0.5, 0.5], [0.5, 0.5]]]
        """
        tok = _host_tokens(input_ids)
        return self._conditionals(tok)

    def extra_repr(self) -> str:
        return (
            f"shape={self.shape}, style={self.style!r}, mask_id={self.mask_id}, "
            f"vocab_size={self.vocab_size}"
        )
