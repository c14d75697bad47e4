"""Start/end logits of an extractive QA model over token windows.

One implementation for the app's reader (``assistant.nlp.reader``) and for reading teacher
readers during distillation (``assistant.nlp.training.distill``): windows are batched longest
first, so each batch pads little and the first batch shows the peak memory, and padded with
numpy (faster than ``tokenizer.pad`` on lists).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

Window = Mapping[str, Sequence[int] | None]  # input_ids and, for BERT, token_type_ids


def pad_windows(windows: Sequence[Window], pad_id: int) -> dict[str, torch.Tensor]:
    """Model inputs of ``windows`` right-padded to the longest one, as tensors."""
    import torch

    n = max(len(w["input_ids"]) for w in windows)
    ids = np.full((len(windows), n), pad_id, dtype=np.int64)
    mask = np.zeros((len(windows), n), dtype=np.int64)
    types = np.zeros((len(windows), n), dtype=np.int64)
    for row, w in enumerate(windows):
        k = len(w["input_ids"])
        ids[row, :k] = w["input_ids"]
        mask[row, :k] = 1
        if w.get("token_type_ids") is not None:
            types[row, :k] = w["token_type_ids"]
    batch = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
    if windows[0].get("token_type_ids") is not None:
        batch["token_type_ids"] = torch.from_numpy(types)
    return batch


def span_logits(
    model,
    windows: Sequence[Window],
    pad_id: int,
    batch_size: int = 64,
    bf16_autocast: bool = False,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(start_logits, end_logits)`` per window, fp32 numpy, each as long as its window.

    Args:
        model: a ``*ForQuestionAnswering`` model in eval mode; inputs go to its device.
        windows: token windows (``input_ids``, optional ``token_type_ids``).
        pad_id: the tokenizer's padding id.
        batch_size: windows per forward pass.
        bf16_autocast: run under bf16 autocast (for fp32 weights on a GPU).
    """
    import torch

    device = next(model.parameters()).device
    out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(windows)
    order = sorted(range(len(windows)), key=lambda i: -len(windows[i]["input_ids"]))
    for lo in range(0, len(order), batch_size):
        idx = order[lo : lo + batch_size]
        batch = {k: v.to(device) for k, v in pad_windows([windows[i] for i in idx], pad_id).items()}
        with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16,
                                                    enabled=bf16_autocast):
            res = model(**batch)
        starts = res.start_logits.float().cpu().numpy()
        ends = res.end_logits.float().cpu().numpy()
        for row, i in enumerate(idx):
            n = len(windows[i]["input_ids"])
            out[i] = (starts[row, :n], ends[row, :n])
    return out  # type: ignore[return-value]
