"""Denoisers: the contract ``tokens (B, N) -> probabilities (B, N, q)``, π's exact denoiser,
a perturbed one for tests, and the checked call.

- :mod:`exactmd.denoisers.exact` — :func:`exact_denoiser`, :func:`perturbed_denoiser`,
  :func:`as_denoiser`;
- :mod:`exactmd.denoisers.calls` — :func:`evaluate_denoiser`: bounded batches, private
  read-only tokens, and the check of every returned row;
- :mod:`exactmd.denoisers.torch_module` — :class:`ExactDenoiserModule`, π's conditionals as a
  ``torch.nn.Module`` returning logits (imported on first access: it needs torch).
"""

from exactmd.denoisers.calls import evaluate_denoiser as evaluate_denoiser
from exactmd.denoisers.exact import as_denoiser as as_denoiser
from exactmd.denoisers.exact import exact_denoiser as exact_denoiser
from exactmd.denoisers.exact import perturbed_denoiser as perturbed_denoiser

__all__ = [
    "ExactDenoiserModule",
    "as_denoiser",
    "evaluate_denoiser",
    "exact_denoiser",
    "perturbed_denoiser",
]


def __getattr__(name: str) -> object:
    """:class:`ExactDenoiserModule` on first access (it imports torch)."""
    if name == "ExactDenoiserModule":
        from exactmd.denoisers.torch_module import ExactDenoiserModule

        return ExactDenoiserModule
    raise AttributeError(f"module 'exactmd.denoisers' has no attribute {name!r}")
