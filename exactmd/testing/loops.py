"""The field's sampling loops, re-written the way their code is written, to run under the oracle.

Each function follows one public implementation step by step (the same tensor operations, the
same dtypes, the same size and time rules, the same quirks), with two changes only: every
random draw takes a ``torch.Generator``, and heavy imports (``transformers``, ``lightning``)
and options that need a real model (classifier-free guidance, KV caches, EOS ids above
126000) are left out. The model is called in its real convention: build it with
:class:`~exactmd.denoisers.torch_module.ExactDenoiserModule` and the matching ``style``, and
compare the samples with the exact law of the matching schedule of :mod:`exactmd.samplers`
(:func:`~exactmd.testing.assert_samples_match`).

======================  =============================================  ==================
function                source (SAMPLERS.md §0)                        model style
======================  =============================================  ==================
:func:`generate_llada`  ML-GSAI/LLaDA ``generate.py`` ``generate``     ``"llada"``
:func:`generate_fast`   NVlabs/Fast-dLLM ``llada/generate.py``         ``"fast_dllm"``
:func:`sample_dream`    Dream ``generation_utils.py`` ``_sample``      ``"dream"``
:func:`sample_mdlm`     kuleshov-group/mdlm ``diffusion.py``           ``"mdlm_backbone"``
:func:`generate_eb`     nkalyanv99/UNI-D2 ``eb_sampler.py``            ``"mdlm"``
======================  =============================================  ==================

The code of those repositories is not copied here; the algorithms are re-written from
``SAMPLERS.md`` and the sources it cites. Implementations consume random numbers differently
from the originals (SAMPLERS.md §10.1), so equal seeds give different samples under the same
law: compare laws, not seeds.

Examples
--------
>>> import numpy as np, torch
>>> from exactmd.denoisers.torch_module import ExactDenoiserModule
>>> model = ExactDenoiserModule(np.array([[0.4, 0.1], [0.1, 0.4]]), style="llada", mask_id=5)
>>> prompt = torch.zeros((3, 0), dtype=torch.long)
>>> x = generate_llada(model, prompt, steps=2, gen_length=2, block_length=2, mask_id=5,
...                    temperature=0.0)
>>> x.tolist()
[[0, 0], [0, 0], [0, 0]]
"""

from __future__ import annotations

from typing import Any

from exactmd._validate import check_choice, check_int, check_real
from exactmd.errors import ValidationError, describe

__all__ = [
    "generate_llada",
    "generate_fast",
    "sample_dream",
    "sample_mdlm",
    "generate_eb",
    "LLADA_SOURCE",
    "FAST_DLLM_SOURCE",
    "DREAM_SOURCE",
    "MDLM_SOURCE",
    "EB_SOURCE",
]

#: (repository, file, commit) each loop follows (SAMPLERS.md §0).
LLADA_SOURCE = ("ML-GSAI/LLaDA", "generate.py", "b7e6c3565f194352da44b38dd12b6970597309f3")
FAST_DLLM_SOURCE = (
    "NVlabs/Fast-dLLM",
    "llada/generate.py",
    "f6b35ec3f1b16e1b3d3357938046559ae2d350fa",
)
DREAM_SOURCE = (
    "ZHZisZZ/dllm",
    "dllm/pipelines/dream/models/generation_utils.py",
    "ca176752fbceec49c6b4777a2c18ae88e4eb10ed",
)
MDLM_SOURCE = ("kuleshov-group/mdlm", "diffusion.py", "c112c526d193436838c98d81455ee51f90309470")
EB_SOURCE = (
    "nkalyanv99/UNI-D2",
    "src/discrete_diffusion/sampling/eb_sampler.py",
    "b630127a41173af9e6322790e2bfe6af6d005b15",
)

#: MDLM's and UNI-D2's ``neg_infinity``.
_NEG_INFINITY = -1_000_000.0


def _generator(generator: Any, device: Any) -> Any:
    """``generator`` checked: None, or a ``torch.Generator`` on ``device``'s type."""
    import torch

    if generator is None:
        return None
    if not isinstance(generator, torch.Generator):
        raise ValidationError(
            f"generator: must be None or a torch.Generator; received {describe(generator)}"
        )
    if torch.device(generator.device).type != torch.device(device).type:
        raise ValidationError(
            f"generator: must live on the model's device {device} "
            f"(torch.Generator(device={str(device)!r})); received a generator on "
            f"{generator.device}"
        )
    return generator


def _model_device(model: Any) -> Any:
    """``model.device`` (the attribute LLaDA, Fast-dLLM, Dream, MDLM and UNI-D2 read)."""
    device = getattr(model, "device", None)
    if device is None:
        raise ValidationError(
            f"model: must have a .device attribute (the real code places its tensors there); "
            f"received {describe(model)}"
        )
    return device


def _tokens(value: Any, name: str, device: Any) -> Any:
    """A ``(B, L)`` long tensor on ``device``."""
    import torch

    t = torch.as_tensor(value, device=device)
    if t.ndim != 2 or t.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise ValidationError(
            f"{name}: must be an integer tensor (B, L); received shape {tuple(t.shape)}, "
            f"dtype {t.dtype}"
        )
    return t.long()


# -- LLaDA and Fast-dLLM ------------------------------------------------------------------------


def _add_gumbel_noise(logits: Any, temperature: float, generator: Any) -> Any:
    """LLaDA's ``add_gumbel_noise``: ``exp(l) / (−log U)^T`` with U uniform float64; T = 0
    returns the logits (then the argmax is the argmax of the logits)."""
    import torch

    if temperature == 0:
        return logits
    logits64 = logits.to(torch.float64)
    noise = torch.rand(
        logits64.shape, dtype=torch.float64, device=logits64.device, generator=generator
    )
    return logits64.exp() / (-torch.log(noise)) ** temperature


def _num_transfer_tokens(mask_index: Any, steps: int) -> Any:
    """LLaDA's ``get_num_transfer_tokens``: per row, ``m // steps`` per step and the remainder
    on the earliest steps."""
    import torch

    mask_num = mask_index.sum(dim=1, keepdim=True)
    base, remainder = mask_num // steps, mask_num % steps
    steps_index = torch.arange(steps, device=mask_index.device)[None, :]
    return base + (steps_index < remainder).to(torch.int64)


def _blocks(gen_length: int, block_length: int, steps: int) -> tuple[int, int]:
    """(number of blocks, steps per block) with LLaDA's two assertions as errors."""
    if gen_length % block_length:
        raise ValidationError(
            f"block_length: must divide gen_length = {gen_length} (the code asserts "
            f"gen_length % block_length == 0); received {block_length}"
        )
    blocks = gen_length // block_length
    if steps % blocks:
        raise ValidationError(
            f"steps: must be a multiple of the number of blocks {blocks} (the code asserts "
            f"steps % num_blocks == 0); received {steps}"
        )
    return blocks, steps // blocks


def _confidence(logits: Any, x0: Any, remasking: str, generator: Any, float64: bool) -> Any:
    """The score of each drawn value: its untempered probability, or a uniform float32 draw."""
    import torch

    if remasking == "low_confidence":
        p = torch.softmax(logits.to(torch.float64) if float64 else logits, dim=-1)
        return torch.gather(p, -1, x0.unsqueeze(-1)).squeeze(-1)
    return torch.rand(x0.shape, device=x0.device, generator=generator)


def generate_llada(
    model: Any,
    prompt: Any,
    steps: int = 128,
    gen_length: int = 128,
    block_length: int = 128,
    temperature: float = 0.0,
    remasking: str = "low_confidence",
    mask_id: int = 126336,
    *,
    attention_mask: Any = None,
    generator: Any = None,
) -> Any:
    """LLaDA's ``generate`` (ML-GSAI/LLaDA ``generate.py`` at b7e6c356, SAMPLERS.md §2).

    The sequence is the prompt followed by ``gen_length`` masks, cut into blocks of
    ``block_length`` with ``steps / num_blocks`` steps each. At a block's start its masks are
    counted and spread over its steps (``get_num_transfer_tokens``: the remainder on the
    earliest steps). Each step calls ``model(x, attention_mask=...).logits`` on the full
    sequence, draws a value at every position by ``argmax(exp(l) / (−log U)^T)`` (U float64,
    ``add_gumbel_noise``; the logits themselves at T = 0), scores it by the **untempered**
    ``softmax(l)`` in the model's dtype (``"low_confidence"``) or a float32 uniform
    (``"random"``), gives −inf to unmasked positions and to those at or after the block's
    end, and writes the ``k`` best per row (``torch.topk``). Every step calls the model, even
    one with ``k = 0``. Classifier-free guidance and the EOS/EoT options are left out.

    Parameters
    ----------
    model
        ``model.device`` and ``model(x, attention_mask=None).logits`` ``(B, L, V)``, ``V >
        mask_id`` (an :class:`~exactmd.denoisers.torch_module.ExactDenoiserModule` with
        ``style="llada"``).
    prompt
        Long tensor ``(B, Lp)`` (``Lp = 0`` for none).
    steps, gen_length, block_length
        As LLaDA's (``gen_length % block_length == 0``, ``steps % num_blocks == 0``).
    temperature
        ``T >= 0`` of the value draw.
    remasking
        ``"low_confidence"`` or ``"random"``.
    mask_id
        The mask token id.
    attention_mask
        None, or ``(B, Lp)``; extended with ones over the generated part and passed on.
    generator
        None, or a ``torch.Generator`` on the model's device.

    Returns
    -------
    torch.Tensor
        ``(B, Lp + gen_length)`` long, the prompt included.
    """
    import torch

    device = _model_device(model)
    g = _generator(generator, device)
    prompt = _tokens(prompt, "prompt", device)
    steps = check_int(steps, "steps")
    gen_length = check_int(gen_length, "gen_length")
    block_length = check_int(block_length, "block_length")
    temperature = check_real(temperature, "temperature", minimum=0.0)
    check_choice(remasking, "remasking", ("low_confidence", "random"))
    blocks, per_block = _blocks(gen_length, block_length, steps)
    rows, lp = prompt.shape
    x = torch.full((rows, lp + gen_length), mask_id, dtype=torch.long, device=device)
    x[:, :lp] = prompt
    if attention_mask is not None:
        attention_mask = torch.cat(
            [
                torch.as_tensor(attention_mask, device=device),
                torch.ones((rows, gen_length), dtype=torch.long, device=device),
            ],
            dim=-1,
        )
    for b in range(blocks):
        start = lp + b * block_length
        end = start + block_length
        sizes = _num_transfer_tokens(x[:, start:end] == mask_id, per_block)
        for i in range(per_block):
            mask_index = x == mask_id
            logits = model(x, attention_mask=attention_mask).logits
            x0 = torch.argmax(_add_gumbel_noise(logits, temperature, g), dim=-1)
            x0_p = _confidence(logits, x0, remasking, g, float64=False)
            x0_p[:, end:] = -torch.inf
            x0 = torch.where(mask_index, x0, x)
            confidence = torch.where(mask_index, x0_p, -torch.inf)
            transfer = torch.zeros_like(x0, dtype=torch.bool)
            for j in range(rows):
                _, chosen = torch.topk(confidence[j], k=int(sizes[j, i]))
                transfer[j, chosen] = True
            x[transfer] = x0[transfer]
    return x


def _fast_transfer(
    logits: Any,
    temperature: float,
    remasking: str,
    mask_index: Any,
    x: Any,
    sizes: Any,
    threshold: float | None,
    generator: Any,
) -> tuple[Any, Any]:
    """Fast-dLLM's ``get_transfer_index``: top-k, or with ``threshold`` every candidate
    sorted by score, the best always kept and each other one dropped when its score is
    ``< threshold``."""
    import torch

    x0 = torch.argmax(_add_gumbel_noise(logits, temperature, generator), dim=-1)
    x0_p = _confidence(logits, x0, remasking, generator, float64=True)
    x0 = torch.where(mask_index, x0, x)
    confidence = torch.where(mask_index, x0_p, -torch.inf)
    transfer = torch.zeros_like(x0, dtype=torch.bool)
    if threshold is not None:
        sizes = mask_index.sum(dim=1)
    for j in range(confidence.shape[0]):
        k = int(sizes[j])
        _, chosen = torch.topk(confidence[j], k=k)
        transfer[j, chosen] = True
        if threshold is not None:
            for r in range(1, k):
                if confidence[j, chosen[r]] < threshold:
                    transfer[j, chosen[r]] = False
    return x0, transfer


def _fast_transfer_dynamic(
    logits: Any,
    temperature: float,
    remasking: str,
    mask_index: Any,
    x: Any,
    factor: float,
    generator: Any,
) -> tuple[Any, Any]:
    """Fast-dLLM's ``get_transfer_index_dynamic`` (the ``factor`` rule, SAMPLERS.md §3(a)).

    The candidates' scores sorted in decreasing order ``c_(1) >= ... >= c_(m)`` meet the
    thresholds ``1 − factor / (n + 1)`` (rank ``n``, the first replaced by −1); the walk
    stops at the first rank that fails and the ranks before it are revealed — except that a
    walk ending on the last rank (``m`` itself failing, or nothing failing) reveals all ``m``,
    the code's last-rank quirk. A row without candidates is left as it is (the genuine code
    raises IndexError there: it writes the first threshold of an empty list).
    """
    import torch

    x0 = torch.argmax(_add_gumbel_noise(logits, temperature, generator), dim=-1)
    x0_p = _confidence(logits, x0, remasking, generator, float64=True)
    x0 = torch.where(mask_index, x0, x)
    confidence = torch.where(mask_index, x0_p, -torch.inf)
    transfer = torch.zeros_like(x0, dtype=torch.bool)
    counts = mask_index.sum(dim=1)
    for j in range(confidence.shape[0]):
        m = int(counts[j])
        if m == 0:
            continue
        thresholds = [1 - factor / (n + 1) for n in range(1, m + 1)]
        thresholds[0] = -1.0
        ranked = torch.sort(confidence[j][mask_index[j]], descending=True)[0]
        stop = 0
        for stop in range(m):  # the loop variable outlives the loop, as in the code
            if ranked[stop] < thresholds[stop]:
                break
        if stop == 0 or stop == m - 1:
            stop += 1
        _, chosen = torch.topk(confidence[j], k=stop)
        transfer[j, chosen] = True
    return x0, transfer


def generate_fast(
    model: Any,
    prompt: Any,
    steps: int = 128,
    gen_length: int = 128,
    block_length: int = 128,
    temperature: float = 0.0,
    remasking: str = "low_confidence",
    mask_id: int = 126336,
    threshold: float | None = None,
    factor: float | None = None,
    *,
    generator: Any = None,
) -> tuple[Any, int]:
    """Fast-dLLM's ``generate`` without cache (NVlabs/Fast-dLLM ``llada/generate.py`` at
    f6b35ec3, SAMPLERS.md §3).

    Blocks as in LLaDA, but each block repeats steps **until no row has a mask left in it**
    (``while True``; the model is called once per step for the whole batch). Candidates are the
    masks before the block's end; values by ``add_gumbel_noise`` (float64) and scores by the
    untempered softmax **in float64**. The size rule is LLaDA's top-k schedule (neither
    ``threshold`` nor ``factor``), ``threshold`` (every candidate scoring ``>= threshold``,
    and the best one always; ``get_transfer_index``) or ``factor`` (the prefix rule with its
    last-rank quirk; ``get_transfer_index_dynamic``, see ``_fast_transfer_dynamic``).

    Parameters
    ----------
    model
        ``model.device`` and ``model(x).logits`` ``(B, L, V)`` (an
        :class:`~exactmd.denoisers.torch_module.ExactDenoiserModule` with
        ``style="fast_dllm"``).
    prompt, steps, gen_length, block_length, temperature, remasking, mask_id
        As :func:`generate_llada` (``steps`` only sets the top-k schedule).
    threshold, factor
        The adaptive rules; ``factor`` takes precedence, as in the code.
    generator
        None, or a ``torch.Generator`` on the model's device.

    Returns
    -------
    tuple
        ``(x, nfe)``: the tokens ``(B, Lp + gen_length)`` and the number of model calls the
        batch made (the slowest row's).
    """
    import torch

    device = _model_device(model)
    g = _generator(generator, device)
    prompt = _tokens(prompt, "prompt", device)
    steps = check_int(steps, "steps")
    gen_length = check_int(gen_length, "gen_length")
    block_length = check_int(block_length, "block_length")
    temperature = check_real(temperature, "temperature", minimum=0.0)
    check_choice(remasking, "remasking", ("low_confidence", "random"))
    if threshold is not None:
        threshold = check_real(threshold, "threshold")
    if factor is not None:
        factor = check_real(factor, "factor")
    blocks, per_block = _blocks(gen_length, block_length, steps)
    rows, lp = prompt.shape
    x = torch.full((rows, lp + gen_length), mask_id, dtype=torch.long, device=device)
    x[:, :lp] = prompt
    nfe = 0
    for b in range(blocks):
        start = lp + b * block_length
        end = start + block_length
        sizes = _num_transfer_tokens(x[:, start:end] == mask_id, per_block)
        i = 0
        while True:
            nfe += 1
            mask_index = x == mask_id
            logits = model(x).logits
            mask_index[:, end:] = False
            if factor is None:
                size = sizes[:, i] if threshold is None else None
                x0, transfer = _fast_transfer(
                    logits, temperature, remasking, mask_index, x, size, threshold, g
                )
            else:
                x0, transfer = _fast_transfer_dynamic(
                    logits, temperature, remasking, mask_index, x, factor, g
                )
            x[transfer] = x0[transfer]
            i += 1
            if int((x[:, start:end] == mask_id).sum()) == 0:
                break
    return x, nfe


# -- Dream --------------------------------------------------------------------------------------


def _top_p_logits(logits: Any, top_p: float) -> Any:
    """Dream's ``top_p_logits``: drop the tokens after the one whose sorted cumulative mass
    crosses ``top_p`` (that one is kept), with the dtype's minimum."""
    import torch

    sorted_logits, order = torch.sort(logits, descending=True)
    cumulative = torch.cumsum(torch.softmax(sorted_logits, dim=-1), dim=-1)
    remove = cumulative > top_p
    remove[..., 1:] = remove[..., :-1].clone()
    remove[..., 0] = False
    drop = torch.zeros_like(logits, dtype=torch.bool).scatter_(-1, order, remove)
    return logits.masked_fill(drop, torch.finfo(logits.dtype).min)


def _top_k_logits(logits: Any, top_k: int) -> Any:
    """Dream's ``top_k_logits``: drop the logits below the k-th largest (ties at it stay)."""
    import torch

    k = min(top_k, logits.size(-1))
    kth = torch.topk(logits, k)[0][..., -1, None]
    return logits.masked_fill(logits < kth, torch.finfo(logits.dtype).min)


def _sample_tokens(
    logits: Any,
    temperature: float,
    top_p: float | None,
    top_k: int | None,
    margin: bool,
    neg_entropy: bool,
    generator: Any,
) -> tuple[Any, Any]:
    """Dream's ``sample_tokens`` on rows ``(n, V)``: (confidence, value)."""
    import torch

    if temperature > 0:
        logits = logits / temperature
    if top_p is not None and top_p < 1:
        logits = _top_p_logits(logits, top_p)
    if top_k is not None:
        logits = _top_k_logits(logits, top_k)
    probs = torch.softmax(logits, dim=-1)
    if temperature > 0 and probs.shape[0] > 0:
        # Categorical(probs).sample() is torch.multinomial(probs, 1, True) on the global RNG
        x0 = torch.multinomial(probs, 1, replacement=True, generator=generator)[:, 0]
        confidence = torch.gather(probs, -1, x0.unsqueeze(-1)).squeeze(-1)
    else:
        confidence, x0 = probs.max(dim=-1)
    if margin:
        top = torch.sort(probs, dim=-1, descending=True)[0]
        confidence = top[:, 0] - top[:, 1]
    if neg_entropy:
        confidence = torch.sum(probs * torch.log(probs + 1e-10), dim=-1)
    return confidence, x0


def sample_dream(
    model: Any,
    input_ids: Any,
    max_length: int,
    mask_token_id: int,
    steps: int = 512,
    eps: float = 1e-3,
    alg: str = "origin",
    alg_temp: float | None = None,
    temperature: float = 0.0,
    top_p: float | None = None,
    top_k: int | None = None,
    *,
    attention_mask: Any = None,
    generator: Any = None,
) -> Any:
    """Dream's ``DreamGenerationMixin._sample`` (``generation_utils.py`` as vendored in
    ZHZisZZ/dllm at ca176752, cross-checked with NVlabs/Fast-dLLM 24cc59e7; SAMPLERS.md §4).

    ``x`` is ``input_ids`` right-padded with masks to ``max_length``; the time grid is
    ``linspace(1, eps, steps + 1)`` in float32, ``t = t_i``, ``s = t_{i+1}``. Each step calls
    ``model(x, attention_mask, tok_idx).logits`` (``"full"`` and None without padding),
    **right-shifts** it (position ``j`` reads index ``j − 1``, position 0 its own), and uses
    the masked positions' rows through ``sample_tokens`` (divide by T if T > 0, top-p keeping
    the crossing token, top-k keeping ties, softmax; a draw at T > 0 with its probability as
    the confidence, the argmax and the max probability at T = 0; margin ``top1 − top2`` or
    ``Σ p log(p + 1e-10)`` for ``topk_margin`` / ``entropy``):

    - ``alg="origin"``: each masked position is revealed with probability ``1 − s/t`` (1 at
      the last step), by a float32 uniform, with a sampled value;
    - ``"maskgit_plus"``, ``"topk_margin"``, ``"entropy"``: ``k = int(mean masks per row ·
      (1 − s/t))`` in float32 (``int(mean masks)`` at the last step), the ``k`` best
      confidences per row (``torch.topk``; ``alg_temp > 0``: ``torch.multinomial`` without
      replacement on ``softmax(confidence / alg_temp)``).

    The hooks are left out (the identity). Categorical draws use ``torch.multinomial`` with
    ``generator`` (Dream's ``Categorical(probs).sample()`` draws the same law from the global
    RNG, and falls back to the argmax if it raises; here an empty batch of rows skips it).

    Parameters
    ----------
    model
        ``model.device`` and ``model(x, attention_mask, tok_idx).logits`` (an
        :class:`~exactmd.denoisers.torch_module.ExactDenoiserModule` with ``style="dream"``).
    input_ids
        The prompt ``(B, Lp)``.
    max_length
        Total length ``> Lp``.
    mask_token_id, steps, eps, alg, alg_temp, temperature, top_p, top_k
        As the generation config's.
    attention_mask
        None, or ``(B, Lp)`` (with zeros: ``tok_idx`` and a ``(B, 1, L, L)`` mask are built).
    generator
        None, or a ``torch.Generator`` on the model's device.

    Returns
    -------
    torch.Tensor
        ``(B, max_length)`` long.
    """
    import torch
    import torch.nn.functional as F

    device = _model_device(model)
    g = _generator(generator, device)
    input_ids = _tokens(input_ids, "input_ids", device)
    max_length = check_int(max_length, "max_length", minimum=input_ids.shape[1] + 1)
    steps = check_int(steps, "steps")
    eps = check_real(eps, "eps", minimum=0.0, maximum=1.0, open_min=True, open_max=True)
    check_choice(alg, "alg", ("origin", "maskgit_plus", "topk_margin", "entropy"))
    temperature = check_real(temperature, "temperature", minimum=0.0)
    if alg_temp is not None:
        alg_temp = check_real(alg_temp, "alg_temp", minimum=0.0)
    if top_p is not None:
        top_p = check_real(top_p, "top_p", minimum=0.0, maximum=1.0, open_min=True)
    if top_k is not None:
        top_k = check_int(top_k, "top_k")
    x = F.pad(input_ids, (0, max_length - input_ids.shape[1]), value=mask_token_id)
    tok_idx: Any = None
    if attention_mask is not None and bool(torch.any(torch.as_tensor(attention_mask) == 0)):
        am = F.pad(
            torch.as_tensor(attention_mask, device=device),
            (0, max_length - input_ids.shape[1]),
            value=1,
        )
        tok_idx = am.long().cumsum(-1) - 1
        tok_idx.masked_fill_(am == 0, 1)
        attention_mask = torch.logical_and(am[:, None, None, :] != 0, am[:, None, :, None] != 0)
    else:
        attention_mask = "full"
    timesteps = torch.linspace(1, eps, steps + 1, device=device)  # float32
    rows = x.shape[0]
    for i in range(steps):
        mask_index = x == mask_token_id
        logits = model(x, attention_mask, tok_idx).logits
        logits = torch.cat([logits[:, :1], logits[:, :-1]], dim=1)
        mask_logits = logits[mask_index]
        t, s = timesteps[i], timesteps[i + 1]
        if alg == "origin":
            p_transfer = 1 - s / t if i < steps - 1 else 1
            x0 = torch.full_like(x[mask_index], mask_token_id)
            moved = torch.rand(x0.shape, device=device, generator=g) < p_transfer
            _, x0[moved] = _sample_tokens(
                mask_logits[moved], temperature, top_p, top_k, False, False, g
            )
            x[mask_index] = x0
            continue
        confidence, x0 = _sample_tokens(
            mask_logits,
            temperature,
            top_p,
            top_k,
            alg == "topk_margin",
            alg == "entropy",
            g,
        )
        mean_masks = mask_index.sum() / rows  # a float32 tensor
        k = int(mean_masks * (1 - s / t)) if i < steps - 1 else int(mean_masks)
        full = torch.full(x.shape, -torch.inf, dtype=logits.dtype, device=device)
        full[mask_index] = confidence
        if k > 0:
            if alg_temp is None or alg_temp == 0:
                _, chosen = torch.topk(full, k)
            else:
                weights = torch.softmax(full / alg_temp, dim=-1)
                chosen = torch.multinomial(weights, num_samples=k, generator=g)
            proposal = torch.full_like(x, mask_token_id)
            proposal[mask_index] = x0
            row = torch.arange(rows, device=device)[:, None].expand_as(chosen)
            x[row, chosen] = proposal[row, chosen]
    return x


# -- MDLM ---------------------------------------------------------------------------------------


def _sample_categorical(probs: Any, generator: Any, dtype: Any = None) -> Any:
    """MDLM's ``_sample_categorical``: ``argmax(probs / (1e-10 − log(U + 1e-10)))``, U uniform
    in ``dtype`` (the probabilities' by default)."""
    import torch

    dtype = probs.dtype if dtype is None else dtype
    u = torch.rand(probs.shape, dtype=dtype, device=probs.device, generator=generator)
    gumbel_norm = 1e-10 - (u + 1e-10).log()
    return (probs / gumbel_norm).argmax(dim=-1)


def _loglinear_sigma(t: Any, eps: float = 1e-3) -> Any:
    """MDLM's ``LogLinearNoise`` total noise ``σ(t) = −log(1 − (1 − ε) t)``."""
    import torch

    return -torch.log1p(-(1 - eps) * t)


def sample_mdlm(
    backbone: Any,
    batch_size: int,
    length: int,
    mask_index: int,
    steps: int = 128,
    eps: float = 1e-5,
    noise_removal: bool = True,
    *,
    time_conditioning: bool = False,
    dtype: Any = "float32",
    generator: Any = None,
) -> Any:
    """MDLM's ``Diffusion._sample`` with the ``ddpm_cache`` predictor (kuleshov-group/mdlm
    ``diffusion.py`` at c112c526, SAMPLERS.md §5).

    ``x`` starts all masked; ``timesteps = linspace(1, eps, steps + 1)`` (float32), ``dt =
    (1 − eps) / steps``. Step ``i`` (``t = timesteps[i]``) is ``_ddpm_caching_update``:
    ``p_x0 = exp(forward(x, σ(t)))`` unless cached, the weights ``p_x0 · (t − s)`` on the
    values and ``s = t − dt`` on the mask, one draw per position by ``_sample_categorical``,
    unmasked positions copied. ``forward`` is MDLM's: σ zeroed without time conditioning, the
    backbone's logits, then SUBS (mask column += −1e6, log-softmax, unmasked rows one-hot in
    log space). The cache is kept while ``x`` does not change (``torch.allclose`` over the
    batch) and the model is not time-conditioned. Noise removal: ``argmax`` of
    ``forward(x, σ(timesteps[-1]))`` at every position (unmasked ones keep their token).

    Parameters
    ----------
    backbone
        ``backbone.device`` and ``backbone(indices, sigma)`` → logits ``(B, L, V)`` (an
        :class:`~exactmd.denoisers.torch_module.ExactDenoiserModule` with
        ``style="mdlm_backbone"``).
    batch_size, length
        ``config.loader.eval_batch_size`` and ``config.model.length``.
    mask_index
        The mask id (a column of the logits).
    steps, eps, noise_removal
        ``config.sampling.steps``, the time grid's end, ``config.sampling.noise_removal``.
    time_conditioning
        Whether σ is passed to the backbone (else zeros) — it also disables the cache.
    dtype
        ``"float32"`` (MDLM's forward runs under a float32 autocast: ``p_x0`` and the Gumbel
        draw are float32, SAMPLERS.md §5(d)) or ``"float64"``.
    generator
        None, or a ``torch.Generator`` on the backbone's device.

    Returns
    -------
    torch.Tensor
        ``(batch_size, length)`` long (masks can remain when ``noise_removal`` is False).
    """
    import torch

    device = _model_device(backbone)
    g = _generator(generator, device)
    batch_size = check_int(batch_size, "batch_size")
    length = check_int(length, "length")
    steps = check_int(steps, "steps")
    eps = check_real(eps, "eps", minimum=0.0, maximum=1.0, open_min=True, open_max=True)
    check_choice(dtype, "dtype", ("float32", "float64"))
    work = getattr(torch, dtype)

    def forward(x: Any, sigma: Any) -> Any:
        if sigma.ndim > 1:
            sigma = sigma.squeeze(-1)
        if not time_conditioning:
            sigma = torch.zeros_like(sigma)
        logits = backbone(x, sigma).to(work)
        logits[:, :, mask_index] += _NEG_INFINITY
        logits = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
        unmasked = x != mask_index
        logits[unmasked] = _NEG_INFINITY
        logits[unmasked, x[unmasked]] = 0.0
        return logits

    x = torch.full((batch_size, length), mask_index, dtype=torch.long, device=device)
    timesteps = torch.linspace(1, eps, steps + 1, device=device)
    dt = (1 - eps) / steps
    p_x0: Any = None
    for i in range(steps):
        t = timesteps[i] * torch.ones(batch_size, 1, device=device)
        if p_x0 is None:
            p_x0 = forward(x, _loglinear_sigma(t)).exp()
        move_t = t[:, :, None]
        move_s = (t - dt)[:, :, None]
        q_xs = p_x0 * (move_t - move_s)
        q_xs[:, :, mask_index] = move_s[:, :, 0]
        drawn = _sample_categorical(q_xs, g)
        copy = (x != mask_index).to(x.dtype)
        x_next = copy * x + (1 - copy) * drawn
        if not torch.allclose(x_next, x) or time_conditioning:
            p_x0 = None
        x = x_next
    if noise_removal:
        t = timesteps[-1] * torch.ones(batch_size, 1, device=device)
        x = forward(x, _loglinear_sigma(t)).argmax(dim=-1)
    return x


# -- the EB-sampler -----------------------------------------------------------------------------


def generate_eb(
    model: Any,
    num_samples: int,
    length: int,
    mask_id: int,
    num_steps: int | None = None,
    *,
    gamma: float = 0.0,
    error_proxy: str = "entropy",
    temperature: float = 1.0,
    use_float64: bool = False,
    generator: Any = None,
) -> Any:
    """UNI-D2's ``EBSampler.generate`` (nkalyanv99/UNI-D2
    ``src/discrete_diffusion/sampling/eb_sampler.py`` at b630127a, SAMPLERS.md §8).

    ``x`` starts all masked (``prior_sample``; no BOS). At most ``num_steps`` (default
    ``length``) iterations, stopping when no mask is left: ``logits = model(x, σ = 0)``, the
    mask column set to −1e6, ``log_probs = log_softmax(logits / T)``; the error proxy
    (``"entropy"``, ``"confidence"`` = −max prob, ``"margin"`` = −(top1 − top2)) orders the
    masked positions (``argsort``, unmasked ones last), the entropies in that order give the
    budget ``cumsum − cummax <= gamma``, ``k`` = the number of prefixes within it, clamped to
    ``[1, #masks]``; the ``k`` first positions get values drawn from ``exp(log_probs)`` (the
    tempered law) by MDLM's Gumbel ``sample_categorical`` in the logits' dtype. Nucleus
    filtering (``p_nucleus``) is left out.

    Parameters
    ----------
    model
        ``model.device`` and ``model(x, sigma)`` → logits ``(B, L, V)`` (an
        :class:`~exactmd.denoisers.torch_module.ExactDenoiserModule`, ``style="mdlm"``).
    num_samples, length, mask_id
        The batch, the sequence length (``model.num_tokens``) and the mask id.
    num_steps
        The most iterations (masks can remain after them); None for ``length``.
    gamma, error_proxy, temperature
        The entropy budget ``>= 0``, the ordering, ``T > 0``.
    use_float64
        ``config.sampling.use_float64``: cast the logits to float64.
    generator
        None, or a ``torch.Generator`` on the model's device.

    Returns
    -------
    torch.Tensor
        ``(num_samples, length)`` long.
    """
    import torch

    device = _model_device(model)
    g = _generator(generator, device)
    num_samples = check_int(num_samples, "num_samples")
    length = check_int(length, "length")
    max_steps = length if num_steps is None else check_int(num_steps, "num_steps")
    gamma = check_real(gamma, "gamma", minimum=0.0)
    check_choice(error_proxy, "error_proxy", ("entropy", "confidence", "margin"))
    temperature = check_real(temperature, "temperature", minimum=0.0, open_min=True)
    x = torch.full((num_samples, length), mask_id, dtype=torch.long, device=device)
    sigma = torch.zeros((num_samples, 1), device=device)
    for _ in range(max(max_steps, 1)):
        masked = x.eq(mask_id)
        if not bool(masked.any()):
            break
        logits = model(x, sigma)
        if use_float64:
            logits = logits.to(torch.float64)
        logits = logits.clone()
        logits[:, :, mask_id] = _NEG_INFINITY
        log_probs = torch.log_softmax(logits / temperature, dim=-1)
        probs = log_probs.exp()
        entropy = -(probs * log_probs).sum(dim=-1)
        if error_proxy == "entropy":
            err = entropy
        elif error_proxy == "confidence":
            err = -probs.max(dim=-1).values
        else:
            top2 = probs.topk(k=2, dim=-1).values
            err = -(top2[..., 0] - top2[..., 1])
        err = err.masked_fill(~masked, float("inf"))
        order = err.argsort(dim=-1)
        ranked = entropy.gather(1, order)
        within = (ranked.cumsum(dim=-1) - ranked.cummax(dim=-1).values) <= gamma
        count = masked.sum(dim=-1)
        k = torch.minimum(within.sum(dim=-1), count)
        k = torch.where(count > 0, torch.clamp(k, min=1), k)
        ranks = torch.empty_like(order)
        ranks.scatter_(1, order, torch.arange(length, device=device).expand(num_samples, length))
        reveal = (ranks < k[:, None]) & masked
        x = torch.where(reveal, _sample_categorical(probs, g), x)
    return x
