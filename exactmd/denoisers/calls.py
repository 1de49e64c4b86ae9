"""Calling a denoiser safely: the law it was built for, the token type, bounded batches, and
the checks on every row it returns (see :mod:`exactmd.denoisers.exact` for the output rules).

:func:`evaluate_denoiser` is what the sampler and the test oracle use to call any denoiser (a
native array of the law's backend); :func:`denoiser_rows` is the same call for the host-side
callers (E_learn, the Monte Carlo sampler, the adaptive enumeration), returning float64 numpy
rows; :func:`check_denoiser_output` is the row check on its own.

Examples
--------
>>> import numpy as np
>>> from exactmd.denoisers.exact import exact_denoiser
>>> p = np.array([[0.5, 0.0], [0.25, 0.25]])
>>> evaluate_denoiser(exact_denoiser(p), np.array([[1, 2]]), p)[0, 1].tolist()
[0.5, 0.5]
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from exactmd.backends import Backend, is_torch_tensor
from exactmd.denoisers.exact import (
    DEFAULT_BATCH_ELEMENTS,
    DENOISER_ATOL,
    DENOISER_ATOL_LOW,
    BatchedDenoiser,
    ExactDenoiser,
    PerturbedDenoiser,
    _device,
    _is_torch_module,
)
from exactmd.enumeration.conditionals import check_tokens
from exactmd.errors import DenoiserError, ValidationError, describe
from exactmd.law.distribution import Distribution, as_distribution

__all__ = [
    "contract_callable",
    "invoke",
    "private_tokens",
    "check_denoiser_law",
    "check_denoiser_output",
    "denoiser_law_shape",
    "denoiser_rows",
    "evaluate_denoiser",
]


def denoiser_law_shape(denoiser: Any) -> tuple[int, ...] | None:
    """The shape of the law a denoiser was built for, when it exposes one, else None.

    Known: :class:`ExactDenoiser`, :class:`PerturbedDenoiser`,
    :class:`~exactmd.denoisers.torch_module.ExactDenoiserModule` and its bound methods (e.g.
    ``module.probabilities``), and any of these wrapped by :func:`as_denoiser`.

    Examples
    --------
    >>> import numpy as np
    >>> from exactmd.denoisers.exact import as_denoiser, exact_denoiser
    >>> denoiser_law_shape(as_denoiser(exact_denoiser(np.full((2, 3), 1 / 6))))
    (2, 3)
    >>> denoiser_law_shape(lambda t: t) is None
    True
    """
    fn = denoiser
    for _ in range(8):  # unwrap a few layers (as_denoiser, bound methods)
        if isinstance(fn, BatchedDenoiser):
            fn = fn.fn
        elif isinstance(fn, PerturbedDenoiser):
            return fn.exact.dist.shape
        elif isinstance(fn, ExactDenoiser):
            return fn.dist.shape
        else:
            module = sys.modules.get("exactmd.denoisers.torch_module")  # loaded if a module exists
            if module is not None and isinstance(fn, module.ExactDenoiserModule):
                return tuple(int(q) for q in fn.shape)
            owner = getattr(fn, "__self__", None)  # a bound method: look at its object
            if owner is None or owner is fn:
                return None
            fn = owner
    return None


def check_denoiser_law(denoiser: Any, shape: tuple[int, ...], name: str = "denoiser") -> None:
    """Refuse a denoiser built for a law of another shape than ``shape`` (see
    :func:`denoiser_law_shape`), with :class:`~exactmd.errors.DenoiserError`.

    Examples
    --------
    >>> import numpy as np
    >>> from exactmd.denoisers.exact import exact_denoiser
    >>> check_denoiser_law(exact_denoiser(np.full((2, 2), 0.25)), (2, 3))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.DenoiserError: denoiser: must be built for a law of the shape of p, (2, 3); ...
    """
    built = denoiser_law_shape(denoiser)
    if built is not None and tuple(built) != tuple(shape):
        raise DenoiserError(
            f"{name}: must be built for a law of the shape of p, {tuple(shape)}; received "
            f"{describe(denoiser)}, built for shape {tuple(built)}"
        )


def _token_kind(den: Any, be: Backend) -> tuple[str, Any]:
    """``("numpy", None)`` or ``("torch", device)``: how to hand tokens to ``den``."""
    if isinstance(den, BatchedDenoiser):
        kind, device, fn = den.tokens, den.device, den.fn
    else:
        kind, device, fn = "auto", None, den
    if kind == "auto":
        if _is_torch_module(fn):
            module: Any = fn
            first = next(iter(list(module.parameters()) + list(module.buffers())), None)
            return "torch", first.device if first is not None else _device(be)
        kind = "torch" if be.name == "torch" else "numpy"
    if kind == "torch":
        return "torch", device if device is not None else _device(be)
    return "numpy", None


def _to_host(out: Any, name: str) -> tuple[np.ndarray, bool]:
    """Return ``(float64 numpy array, low_precision)`` from any denoiser output."""
    if is_torch_tensor(out):
        import torch

        if out.is_complex() or out.dtype == torch.bool:
            raise DenoiserError(
                f"{name}: must return real probabilities (a float or int dtype); received a "
                f"tensor of dtype {out.dtype}"
            )
        low = out.dtype in (torch.float32, torch.float16, torch.bfloat16)
        return out.detach().to(dtype=torch.float64).cpu().numpy(), low
    try:
        arr = np.asarray(out)
    except (TypeError, ValueError) as exc:
        raise DenoiserError(
            f"{name}: must return an array of probabilities (B, N, q); received "
            f"{describe(out)} ({exc})"
        ) from exc
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise DenoiserError(
            f"{name}: must return real probabilities (a float or int dtype, not complex, bool "
            f"or object); received an array of dtype {arr.dtype}: {describe(out)}"
        )
    low = arr.dtype in (np.float32, np.float16)
    return np.asarray(arr, dtype=np.float64), low


def check_denoiser_output(
    out: Any, tokens: np.ndarray, shape: tuple[int, ...], name: str = "denoiser", offset: int = 0
) -> np.ndarray:
    """Check one denoiser output against the contract; return it cleaned, float64 numpy.

    Rows of unmasked positions are ignored (returned as zeros). Raises
    :class:`~exactmd.errors.DenoiserError` naming the row (``offset`` + index in the batch),
    its tokens, the position and the value received.
    """
    host, low = _to_host(out, name)
    b, n = tokens.shape
    q = max(shape)
    if host.shape != (b, n, q):
        raise DenoiserError(
            f"{name}: must return shape (B, N, q) = {(b, n, q)} for tokens of shape {(b, n)}; "
            f"received shape {host.shape}"
        )
    atol = DENOISER_ATOL_LOW if low else DENOISER_ATOL
    masked = tokens == q
    valid = np.arange(q)[None, :] < np.asarray(shape)[:, None]  # (N, q)

    def fail(r: int, i: int, rule: str, value: str) -> DenoiserError:
        return DenoiserError(
            f"{name}: row {offset + r} (tokens {tokens[r].tolist()}), position {i}: {rule}; "
            f"received {value}"
        )

    rows = np.where(masked[:, :, None], host, 0.0)
    bad = np.argwhere(~np.isfinite(rows))
    if bad.size:
        r, i, v = (int(t) for t in bad[0])
        raise fail(r, i, "probabilities must be finite", f"{host[r, i, v]} for value {v}")
    bad = np.argwhere(rows < 0)
    if bad.size:
        r, i, v = (int(t) for t in bad[0])
        raise fail(r, i, "probabilities must be >= 0", f"{host[r, i, v]} for value {v}")
    outside = np.where(valid[None], 0.0, rows)
    bad = np.argwhere(outside > atol)
    if bad.size:
        r, i, v = (int(t) for t in bad[0])
        raise fail(
            r,
            i,
            f"values >= q_i = {shape[i]} must have probability 0",
            f"{host[r, i, v]} for value {v}",
        )
    inside = np.where(valid[None], rows, 0.0)
    sums = inside.sum(axis=2)
    bad = np.argwhere(masked & (np.abs(sums - 1.0) > atol))
    if bad.size:
        r, i = (int(t) for t in bad[0])
        raise fail(
            r, i, f"probabilities must sum to 1 within {atol:g}", f"a sum of {sums[r, i]:.12g}"
        )
    safe = np.where(masked, sums, 1.0)
    return np.asarray(inside / safe[:, :, None], dtype=np.float64)


def _checked_pieces(
    denoiser: Any, tokens: np.ndarray, d: Distribution, be: Backend, name: str
) -> tuple[list[tuple[Any, bool]], tuple[int, int, int]]:
    """Call ``denoiser`` in bounded batches: ``[(piece, trusted)]`` and the shape ``(B, N, q)``.

    A trusted piece is our own exact (or perturbed) denoiser's output as it returned it (a
    native array, not re-checked); any other piece is the float64 host array
    :func:`check_denoiser_output` returned.
    """
    tok = check_tokens(tokens, d.shape)
    if denoiser is None:
        denoiser = ExactDenoiser(d)
    if not callable(denoiser):
        raise DenoiserError(f"{name}: must be callable; received {describe(denoiser)}")
    check_denoiser_law(denoiser, d.shape, name)
    n, q = d.n, d.q
    batch = getattr(denoiser, "batch_size", None) or max(1, DEFAULT_BATCH_ELEMENTS // (n * q))
    kind, device = _token_kind(denoiser, be)
    call = contract_callable(denoiser)
    # only our exact denoiser's output is trusted as it is; every other one is checked
    trusted = isinstance(denoiser, ExactDenoiser) and denoiser.dist.shape == d.shape
    pieces: list[tuple[Any, bool]] = []
    for start in range(0, len(tok), batch):
        chunk = tok[start : start + batch]
        arg = private_tokens(chunk, kind, device)
        try:
            out = invoke(call, arg, name)
        except DenoiserError:
            raise
        except TypeError as exc:
            if kind != "torch":
                raise
            # typically a numpy callable handed a tensor it cannot convert (one on CUDA)
            raise DenoiserError(
                f"{name}: raised TypeError on int64 torch tokens on {arg.device} (the law's "
                f"device, tokens='auto'); for a numpy callable use "
                f"exactmd.as_denoiser(fn, tokens='numpy'). It raised: {exc}"
            ) from exc
        except ValidationError as exc:  # e.g. an exactmd call inside it, for another law
            raise DenoiserError(
                f"{name}: rejected valid tokens (rows {start}..{start + len(chunk) - 1}: values "
                f"in range(q_i) or the mask q = {q}, for p of shape {d.shape}); was it built "
                f"for another law? It raised {type(exc).__name__}: {exc}"
            ) from exc
        if trusted and tuple(out.shape) == (len(chunk), n, q):
            pieces.append((out, True))
        else:
            check = be.check_exact_rows if be.exact else check_denoiser_output  # exact: no floats
            pieces.append((check(out, chunk, d.shape, name, start), False))
    return pieces, (len(tok), n, q)


def private_tokens(tokens: np.ndarray, kind: str = "numpy", device: Any = None) -> Any:
    """The tokens handed to a user's callable: a private copy it cannot use to corrupt ours.

    numpy: a read-only copy (a callable that writes into it gets numpy's "assignment
    destination is read-only" error, which the callers turn into a
    :class:`~exactmd.errors.DenoiserError`); torch: a fresh int64 tensor on ``device``
    (torch has no read-only flag; writes only change the callable's own copy).

    Examples
    --------
    >>> t = private_tokens(np.array([[0, 2]]))
    >>> t.flags.writeable
    False
    """
    if kind == "torch":
        import torch

        return torch.tensor(tokens, dtype=torch.int64, device=device)
    out = np.array(tokens, dtype=np.int64, copy=True)
    out.setflags(write=False)
    return out


def invoke(call: Any, tokens: Any, name: str = "denoiser") -> Any:
    """``call(tokens)``; a callable that writes into its (read-only, :func:`private_tokens`)
    tokens gets a :class:`~exactmd.errors.DenoiserError` saying so, naming ``name``."""
    try:
        return call(tokens)
    except ValueError as exc:
        if isinstance(exc, ValidationError) or "read-only" not in str(exc):
            raise
        raise DenoiserError(
            f"{name}: must not write into its tokens argument (exactmd hands every callable a "
            f"read-only copy, so that a callable cannot change the computation); it raised "
            f"ValueError: {exc}"
        ) from exc


def contract_callable(denoiser: Any) -> Any:
    """The callable that returns the contract's probabilities for ``denoiser``.

    :class:`~exactmd.denoisers.torch_module.ExactDenoiserModule` returns logits when called (MDLM's
    convention); handed in as a denoiser (directly or through :func:`as_denoiser`), its
    ``probabilities`` method is called instead. Anything else is called as it is.
    """
    fn = denoiser.fn if isinstance(denoiser, BatchedDenoiser) else denoiser
    module = sys.modules.get("exactmd.denoisers.torch_module")  # loaded if a module exists
    if module is not None and isinstance(fn, module.ExactDenoiserModule):
        return fn.probabilities
    return denoiser


def denoiser_rows(
    denoiser: Any,
    tokens: np.ndarray,
    p: Any,
    backend: Backend | None = None,
    *,
    name: str = "denoiser",
) -> np.ndarray:
    """The checked rows of ``denoiser`` at ``tokens`` as a float64 numpy array ``(B, N, q)``.

    The same call and checks as :func:`evaluate_denoiser` (``backend`` only decides how the
    tokens are handed over: numpy, or torch on its device), for callers that work on the host:
    the rows stay where the checks left them, with no trip through the backend (nor its
    rounding to float32 for a float32 law).

    Examples
    --------
    >>> from exactmd.denoisers.exact import exact_denoiser
    >>> p = np.array([[0.5, 0.0], [0.25, 0.25]])
    >>> rows = denoiser_rows(exact_denoiser(p), np.array([[2, 2], [0, 2]]), p)
    >>> rows.dtype, rows[1, 1].tolist()
    (dtype('float64'), [1.0, 0.0])
    """
    d = as_distribution(p)
    be = backend if backend is not None else d.backend
    pieces, shape = _checked_pieces(denoiser, tokens, d, be, name)
    read = be.host if be.exact else (lambda out: _to_host(out, name)[0])
    host = [read(out) if trusted else out for out, trusted in pieces]
    if not host:
        return np.zeros(shape)
    return host[0] if len(host) == 1 else np.concatenate(host, axis=0)


def evaluate_denoiser(
    denoiser: Any,
    tokens: np.ndarray,
    p: Any,
    backend: Backend | None = None,
    *,
    name: str = "denoiser",
) -> Any:
    """Call ``denoiser`` on ``tokens`` in bounded batches and check what it returns.

    Parameters
    ----------
    denoiser
        Any contract callable, a :class:`BatchedDenoiser`, or None for the exact denoiser.
    tokens
        int array ``(B, N)`` with mask value ``q = max q_i``.
    p
        The law (gives the alphabets; and the exact denoiser when ``denoiser`` is None).
    backend
        Backend of the result (default: the law's).

    Raises
    ------
    DenoiserError
        When ``denoiser`` is not callable, was built for a law of another shape (see
        :func:`check_denoiser_law`), raises a :class:`~exactmd.errors.ValidationError` on the
        (valid) tokens, or returns rows that break the contract.

    Returns
    -------
    Native array ``(B, N, q)`` of ``backend``: checked, cleaned rows for masked positions
    (see the module notes); rows of unmasked positions carry no meaning (zeros, or the
    one-hot for our own exact and perturbed denoisers, which are trusted and not re-checked).
    Callers that need the rows on the host use :func:`denoiser_rows` instead (no round trip
    through the backend).
    """
    d = as_distribution(p)
    be = backend if backend is not None else d.backend
    pieces, shape = _checked_pieces(denoiser, tokens, d, be, name)
    if not pieces:
        return be.zeros(shape)
    native = [be.asarray(out) for out, _ in pieces]
    return native[0] if len(native) == 1 else be.concat(native, axis=0)
