"""The genuine ``diffusers.BlockRefinementScheduler`` against ``block_refinement``'s exact law.

No model object and no hub download: the "model" is π's exact conditionals, handed to the
scheduler as logits ``log p`` (float64, ``-inf`` on impossible values; the mask id, one past the
largest alphabet, has zero mass). The loop is written the way ``LLaDA2Pipeline.__call__``
(diffusers 0.42.1) drives the scheduler: ``set_timesteps(min(steps, gen_length // 1),
block_length=...)``, blocks in order (leading blocks without masks prefilled), a model call at
the top of every iteration, ``step(..., timestep=step_idx, mask_token_id=..., generator=...)``,
the committed tokens written back, ``step_idx`` advanced while the block had masks, and the
scheduler's own ``check_block_should_continue`` deciding when the block ends. Editing is off
(``editing_threshold=None``) and there is no EOS. Many sequences run as one batch (each
sequence's law is that of a run alone: a finished block is never changed again, and the shared
``step_idx`` equals each unfinished sequence's own); each sequence's number of model calls is
counted as a run alone would make them.

Our denoiser sees all N positions (the pipeline's model sees the window up to the current
block, which hides only masks when the prompt is a prefix, as it is here).

Importing diffusers (``from diffusers import BlockRefinementScheduler``) takes about 5 s here
and loads about 2,500 modules: torch (with ``torch._dynamo``, pulled in by
``diffusers.utils.torch_utils``), huggingface_hub, safetensors, PIL, requests, filelock, yaml
and tqdm; not transformers, and it emits no warning.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import random_law

import exactmd
import exactmd.samplers
from exactmd.denoisers.calls import denoiser_rows
from exactmd.denoisers.exact import ExactDenoiser
from exactmd.law.distribution import as_distribution
from exactmd.samplers import block_refinement, exact_run
from exactmd.testing import assert_samples_match

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")
from diffusers import BlockRefinementScheduler  # noqa: E402


def logits_of(d, den, x):
    """π's conditionals at the sequences ``x`` as float64 logits over the vocabulary + mask."""
    rows = denoiser_rows(den, x.numpy(), d)  # (M, N, q), one-hot at revealed positions
    with np.errstate(divide="ignore"):
        logp = np.log(rows)
    full = np.concatenate([logp, np.full((*rows.shape[:2], 1), -np.inf)], axis=-1)
    return torch.from_numpy(full)


def run_diffusers(
    p, steps, block_length, threshold, temperature, top_k=None, top_p=None, *, m, seed, prompt=None
):
    """(outputs (M, N), calls per sequence (M,)) of the genuine scheduler in the pipeline's loop."""
    d = as_distribution(p)
    den = ExactDenoiser(d)
    n, mask_id = p.ndim, max(p.shape)
    scheduler = BlockRefinementScheduler(
        block_length=block_length,
        num_inference_steps=steps,
        threshold=threshold,
        editing_threshold=None,
        minimal_topk=1,
    )
    num_inference_steps = min(steps, n // 1)  # LLaDA2Pipeline: min(steps, gen_length // topk)
    scheduler.set_timesteps(num_inference_steps, block_length=block_length)
    x = torch.full((m, n), mask_id, dtype=torch.long)
    for i, v in (prompt or {}).items():
        x[:, i] = v
    generator = torch.Generator().manual_seed(seed)
    calls = torch.zeros(m, dtype=torch.long)
    num_blocks = n // block_length
    prefill = 0
    while (
        prefill < num_blocks
        and not (x[:, prefill * block_length : (prefill + 1) * block_length] == mask_id).any()
    ):
        prefill += 1
    for num_block in range(prefill, num_blocks):
        lo, hi = num_block * block_length, (num_block + 1) * block_length
        step_idx, post_steps, should_continue = 0, 0, True
        alive = torch.ones(m, dtype=torch.bool)  # a sequence run alone would still loop
        own_steps = torch.zeros(m, dtype=torch.long)
        while should_continue:
            block_tokens = x[:, lo:hi].clone()
            masks_remaining = bool((block_tokens == mask_id).any())
            own_masks = (block_tokens == mask_id).any(dim=1)
            if not masks_remaining:
                post_steps += 1
            logits = logits_of(d, den, x)  # the model call
            calls += alive.long()
            out = scheduler.step(
                model_output=logits[:, lo:hi, :],
                timestep=step_idx,
                sample=block_tokens,
                mask_token_id=mask_id,
                temperature=temperature,
                top_p=top_p,
                top_k=top_k,
                sampling_method="multinomial",  # the pipeline's default (argmax at T = 0)
                threshold=threshold,
                editing_threshold=None,
                minimal_topk=1,
                prompt_mask=torch.zeros(block_length, dtype=torch.bool),
                generator=generator,
                return_dict=True,
            )
            final_transfer = out.transfer_index | out.editing_transfer_index
            if final_transfer.any():
                x[:, lo:hi] = torch.where(final_transfer, out.prev_sample, block_tokens)
            if masks_remaining:
                step_idx += 1
            # each sequence's own stop rule (the same check, on its own masks and steps)
            own_steps += own_masks.long()
            alive &= own_masks & (own_steps < scheduler.num_inference_steps)
            should_continue = scheduler.check_block_should_continue(
                step_idx=step_idx,
                masks_remaining=masks_remaining,
                editing_enabled=False,
                editing_transfer_index=out.editing_transfer_index,
                post_steps=post_steps,
                max_post_steps=16,
                finished=torch.zeros(m, dtype=torch.bool),
            )
        assert not alive.any()
    return x.numpy(), calls.numpy()


def check_calls(calls, law_of_calls):
    top = max(max(law_of_calls), int(calls.max()))
    law = np.zeros(top + 1)
    for c, w in law_of_calls.items():
        law[c] = w
    if np.count_nonzero(law) == 1:
        assert np.all(calls == int(np.argmax(law)))
    else:
        assert_samples_match(calls[:, None], law)


@pytest.mark.parametrize(
    ("shape", "seed", "args", "prompt"),
    [
        ((2, 3, 2, 2), 28, (3, 2, 0.55, 1.0, None, None), None),
        ((3, 2, 2, 2), 22, (2, 4, 0.4, 0.8, 2, 0.9), None),
        ((2, 3, 2, 2), 23, (2, 2, 0.5, 1.3, None, None), {0: 1}),
    ],
)
def test_genuine_scheduler_matches_the_exact_law(shape, seed, args, prompt):
    steps, length, tau, temperature, top_k, top_p = args
    p = random_law(shape, seed=seed, zeros=0.2)
    sched = block_refinement(steps, length, tau, temperature, top_p, top_k)  # ties: "error"
    run = exact_run(as_distribution(p), sched, None, prompt)
    if prompt is not None:  # the public prompt keeps the pipeline's blocks from position 0
        public = exactmd.output_distribution(p, sched, prompt=prompt)
        np.testing.assert_array_equal(public, run.law)
        assert exactmd.samplers.nfe_distribution(p, sched, prompt=prompt) == {
            k: w / sum(run.calls.values()) for k, w in run.calls.items()
        }
    m = 10_000  # sequences of the genuine scheduler
    x, calls = run_diffusers(p, *args, m=m, seed=seed, prompt=prompt)
    assert_samples_match(x, run.law)
    check_calls(calls, run.calls)
    # the comparison has power: the law at the scheduler's default threshold 0.95 is rejected
    other = block_refinement(steps, length, 0.95, temperature, top_p, top_k, ties="split")
    with pytest.raises(AssertionError, match="inconsistent with the exact law"):
        assert_samples_match(x, exact_run(as_distribution(p), other, None, prompt).law)


@pytest.mark.parametrize(
    ("shape", "seed", "args", "prompt"),
    [
        ((2, 3, 2, 2), 24, (2, 2, 0.5, 0.0, None, None), None),
        ((3, 2, 2, 3, 2, 2), 25, (3, 3, 0.3, 0.0, None, None), None),
        ((2, 3, 2, 2), 26, (4, 4, 0.95, 0.0, 2, 0.5), {2: 0}),  # filters unused at T = 0
    ],
)
def test_genuine_scheduler_at_temperature_zero_is_the_point_mass(shape, seed, args, prompt):
    p = random_law(shape, seed=seed, zeros=0.3)
    steps, length, tau, _, top_k, top_p = args
    run = exact_run(
        as_distribution(p), block_refinement(steps, length, tau, 0.0, top_p, top_k), None, prompt
    )
    (point,) = np.argwhere(run.law == 1.0)
    x, calls = run_diffusers(p, *args, m=8, seed=seed, prompt=prompt)
    assert np.all(x == point[None, :])
    assert run.calls == {int(calls[0]): 1.0} and np.all(calls == calls[0])
