"""Reader distillation: the loss, the batches, and teacher logits aligned with the windows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from assistant.errors import ConfigError
from assistant.nlp.training.distill import (
    PAD_LOGIT,
    WindowCollator,
    attach_teacher_logits,
    check_same_vocabulary,
    distillation_loss,
)


def test_loss_is_zero_for_the_teachers_own_logits_and_ignores_padding() -> None:
    teacher = torch.tensor([[2.0, 0.5, -1.0, 0.0], [0.1, 3.0, 0.2, 0.0]])
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 0]])
    assert distillation_loss(teacher, teacher, mask, 2.0).item() == pytest.approx(0.0, abs=1e-6)
    # Whatever sits at a padded position does not count.
    noisy_pad = teacher.clone()
    noisy_pad[:, 3] = 50.0
    assert distillation_loss(noisy_pad, teacher, mask, 2.0).item() == pytest.approx(0.0, abs=1e-6)
    # A student that disagrees pays, and more when it disagrees more.
    flipped = teacher.flip(-1)
    worse = teacher.flip(-1) * 3
    assert 0 < distillation_loss(flipped, teacher, mask, 2.0) < distillation_loss(worse, teacher,
                                                                                   mask, 2.0)


def test_collator_pads_windows_labels_and_teacher_logits() -> None:
    features = [
        {"input_ids": [101, 7, 102], "attention_mask": [1, 1, 1], "start_positions": 1,
         "end_positions": 1, "teacher_start": np.array([0.5, 2.0, 0.1], dtype=np.float16),
         "teacher_end": np.array([0.5, 1.0, 0.1], dtype=np.float16)},
        {"input_ids": [101, 8, 9, 10, 102], "attention_mask": [1] * 5, "start_positions": 0,
         "end_positions": 0, "teacher_start": np.zeros(5, dtype=np.float16),
         "teacher_end": np.zeros(5, dtype=np.float16)},
    ]
    batch = WindowCollator(pad_token_id=0)(features)
    assert batch["input_ids"].tolist() == [[101, 7, 102, 0, 0], [101, 8, 9, 10, 102]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0, 0], [1] * 5]
    assert batch["start_positions"].tolist() == [1, 0]
    assert batch["teacher_start"][0, :3].tolist() == pytest.approx([0.5, 2.0, 0.1], abs=1e-3)
    assert batch["teacher_start"][0, 3:].tolist() == [PAD_LOGIT, PAD_LOGIT]
    # Without teachers the batch is a plain training batch.
    plain = WindowCollator(0)([{k: v for k, v in f.items() if not k.startswith("teacher")}
                               for f in features])
    assert "teacher_start" not in plain and plain["input_ids"].shape == (2, 5)


def test_a_teacher_with_another_vocabulary_is_refused(tmp_path: Path) -> None:
    from transformers import AutoTokenizer, BertTokenizerFast

    from assistant.nlp.models import base_model_path

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\na\n")
    BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(tmp_path / "other")
    student = AutoTokenizer.from_pretrained(base_model_path())
    with pytest.raises(ConfigError, match="another vocabulary"):
        check_same_vocabulary(student, str(tmp_path / "other"))
    check_same_vocabulary(student, base_model_path())  # the same base: accepted


@pytest.mark.slow
def test_teacher_logits_line_up_with_the_training_windows(data_dir: Path) -> None:
    """The bundled reader, read over real SQuAD windows in length order, must point at the
    labelled answer token of most windows: logits attached to the wrong window would not."""
    from transformers import AutoTokenizer

    from assistant.nlp.models import resolve_model
    from assistant.nlp.training.qa_features import train_features
    from assistant.nlp.training.train_reader import load_training_examples

    reader = resolve_model(None, "reader")
    train = str(data_dir / "qa" / "extra" / "squad-v2.0-train-first10articles.json")
    examples, _ = load_training_examples([train], 60, 0.0, seed=3)
    tokenizer = AutoTokenizer.from_pretrained(reader)
    features = train_features(examples, tokenizer, 128, 32)
    stats = attach_teacher_logits(features, [reader], tokenizer, batch_size=16)
    assert stats["windows"] == len(features) > 60  # 128-token windows: several per paragraph
    answered = [f for f in features if f["start_positions"] > 0]
    hits = sum(int(np.argmax(f["teacher_start"])) == f["start_positions"] for f in answered)
    assert len(answered) >= 20 and hits >= 0.6 * len(answered)
    assert all(f["teacher_end"].shape == (len(f["input_ids"]),) for f in features)


@pytest.mark.slow
def test_distil_a_few_steps_from_the_bundled_reader(data_dir: Path, tmp_path: Path) -> None:
    from assistant.cli import main
    from assistant.nlp.models import resolve_model

    out = tmp_path / "student"
    train = str(data_dir / "qa" / "extra" / "squad-v2.0-train-first10articles.json")
    teacher = resolve_model(None, "reader")
    code = main(["train", "reader", "--train", train, "--out", str(out), "--limit-train", "16",
                 "--max-steps", "2", "--batch-size", "8", "--max-length", "128", "--stride",
                 "32", "--threads", "2", "--teacher", teacher, "--distill-alpha", "0.7"])
    assert code == 0
    summary = json.loads((out / "training_summary.json").read_text())
    distill = summary["data"]["distillation"]
    assert distill["teachers"] == [teacher] and distill["alpha"] == 0.7
    assert distill["windows"] == summary["data"]["windows"]
    assert summary["steps"] == 2 and np.isfinite(summary["train_loss"])
    card = (out / "README.md").read_text()
    assert "Distilled from the mean start/end logits of 1 teacher" in card


def test_config_rejects_bad_distillation_values(tmp_path: Path) -> None:
    from assistant.nlp.training.train_reader import ReaderTrainConfig

    ok = {"train_files": ["x.json"], "base": "b", "out_dir": str(tmp_path)}
    for bad in ({"distill_alpha": 1.5}, {"distill_temperature": 0}):
        with pytest.raises(ConfigError):
            ReaderTrainConfig(**{**ok, **bad})
