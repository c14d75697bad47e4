"""Average the weights of several readers fine-tuned from one base (a "model soup").

Fine-tunes of the same pretrained encoder with different seeds tend to stay in one basin of the
loss, so the mean of their weights is itself a reader, often better than each of them
(Wortsman et al. 2022, "Model soups"), and it costs nothing at inference, unlike an ensemble
that would read every passage once per member. The soup is also a good start for a student
distilled from the same readers (``train reader --base SOUP --teacher ...``). The average is
uniform unless weights are given: a reader that is itself an average of n readers weighs n
when it is averaged with new ones.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from assistant.errors import ConfigError
from assistant.nlp.models import read_model_settings, update_model_settings
from assistant.nlp.training.artifacts import save_fp16
from assistant.nlp.training.train_reader import READER_CARD_HEADER


def average_state_dicts(state_dicts: Sequence[dict],
                        weights: Sequence[float] | None = None) -> dict:
    """The element-wise mean (fp32) of state dicts with the same keys and shapes, weighted by
    ``weights`` (positive, one per state dict, normalised to sum to 1) when given.

    Raises ``ConfigError`` when keys or shapes differ (such models do not share a base) or the
    weights do not fit.
    """
    import torch

    if not state_dicts:
        raise ConfigError("Give at least one reader to average.")
    shares = normalised_weights(weights, len(state_dicts))
    first = state_dicts[0]
    for other in state_dicts[1:]:
        if other.keys() != first.keys():
            raise ConfigError("The readers have different layers; average only fine-tunes "
                              "of the same base.")
        for key, tensor in first.items():
            if other[key].shape != tensor.shape:
                raise ConfigError(f"Weight {key} has shape {tuple(other[key].shape)} in one "
                                  f"reader and {tuple(tensor.shape)} in another.")
    mean = {}
    for key, tensor in first.items():
        if not tensor.is_floating_point():  # e.g. position_ids buffers: identical, keep one
            mean[key] = tensor.clone()
            continue
        total = torch.zeros_like(tensor, dtype=torch.float32)
        for sd, share in zip(state_dicts, shares, strict=True):
            total += share * sd[key].float()
        mean[key] = total
    return mean


def normalised_weights(weights: Sequence[float] | None, count: int) -> list[float]:
    """``weights`` scaled to sum to 1 (uniform when ``None``); ``ConfigError`` unless there is
    one finite, positive weight per reader."""
    if weights is None:
        return [1.0 / count] * count
    if len(weights) != count:
        raise ConfigError(f"Give one weight per reader: {count} readers, {len(weights)} weights.")
    if not all(math.isfinite(w) and w > 0 for w in weights):
        raise ConfigError(f"Weights must be positive numbers, got {list(weights)}.")
    total = sum(weights)
    return [w / total for w in weights]


def soup_readers(reader_dirs: Sequence[str], out_dir: str, dev_file: str | None = None,
                 dev_limit: int | None = None, command: str = "",
                 weights: Sequence[float] | None = None) -> dict:
    """Write the weight average of ``reader_dirs`` (uniform, or by ``weights``) to ``out_dir``
    as a reader and return a summary (with ``dev`` EM/F1 when ``dev_file`` is given, measured
    like ``train reader``)."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from assistant.nlp.training.distill import check_same_vocabulary

    if len(reader_dirs) < 2:
        raise ConfigError("A soup needs at least two readers.")
    shares = normalised_weights(weights, len(reader_dirs))  # checked before any loading
    started = time.monotonic()
    tokenizer = AutoTokenizer.from_pretrained(reader_dirs[0], use_fast=True)
    for d in reader_dirs[1:]:
        check_same_vocabulary(tokenizer, d)
    models = [AutoModelForQuestionAnswering.from_pretrained(d, dtype=torch.float32)
              for d in reader_dirs]
    mean = average_state_dicts([m.state_dict() for m in models], shares)
    soup = models[0]
    soup.load_state_dict(mean)
    del models
    out = Path(out_dir)
    save_fp16(soup, tokenizer, out)
    # The window size the first reader was trained with, and its span length prior (a small
    # per-token amount: F1 barely moves between 0.03 and 0.06, so a near value does no harm).
    # Thresholds and passage weights are on each reader's own scale and a wrong one makes
    # the app abstain on everything: none is carried over, calibrate the average again (the
    # README's order: `evaluate reader --calibrate`, then `evaluate ask --calibrate`).
    first = read_model_settings(reader_dirs[0])
    window = {k: first[k] for k in ("max_length", "stride", "span_length_penalty")
              if k in first}
    update_model_settings(out, lambda settings: settings.update(
        {**window, "no_answer_threshold": 0.0, "calibrated_on": None}))
    summary: dict = {"soup_of": [str(d) for d in reader_dirs],
                     "weights": [round(w, 6) for w in shares],
                     "ingredients_dev": [_dev_of(d) for d in reader_dirs],
                     "command": command,
                     "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    if dev_file:
        from assistant.nlp.training.evaluate_reader import evaluate_reader

        summary["dev"] = evaluate_reader(str(out), dev_file, limit=dev_limit)
    summary["seconds"] = round(time.monotonic() - started, 1)
    (out / "training_summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    _write_card(out, summary)
    return summary


def _dev_of(reader_dir: str) -> dict | None:
    """The dev scores a reader's own training run recorded, if any."""
    path = Path(reader_dir) / "training_summary.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("dev")
    except (OSError, ValueError):
        return None


def _write_card(out: Path, summary: dict) -> None:
    def scores(dev: dict | None) -> str:
        return (f"EM {dev['em']:.2f} / F1 {dev['f1']:.2f} ({dev['questions']} questions of "
                f"`{dev['file']}`)" if dev else "not measured")

    rows = "\n".join(f"| `{Path(d).name}` | {share:.3f} | {scores(dev)} |"
                     for d, share, dev in zip(summary["soup_of"], summary["weights"],
                                              summary["ingredients_dev"], strict=True))
    card = READER_CARD_HEADER + f"""# Answerspan reader (weight average of {len(summary['soup_of'])} readers)

The element-wise mean of the weights of readers fine-tuned from the same base by
`answerspan train reader` (a model soup), with the weights below: one reader's size and speed.

- Date: {summary['date']}
- Command: `{summary['command']}`

| reader | weight | dev at the end of its training |
|---|---|---|
{rows}
| **this average** | 1 | {scores(summary.get('dev'))} |
"""
    (out / "README.md").write_text(card, encoding="utf-8")
