"""Knowledge distillation for the reader: learn from teachers' start/end distributions.

No reader larger than the 22M base is available offline, but an *ensemble* of readers of the
same size is a stronger teacher than any one of them: its averaged start/end logits carry how
plausible every other token is, which one hard label per window does not. The student keeps the
hard-label loss and adds the temperature-softened KL divergence to the ensemble (Hinton et al.
2015, as DistilBERT does for SQuAD):

    loss = (1 - alpha) * CE(labels) + alpha * T^2 * KL(teacher_T || student_T)

Teachers are read once, before training, over exactly the student's training windows, so they
may have been trained with other windows, seeds or data; they must share the student's
vocabulary (all fine-tunes of one base do).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np

from assistant.errors import ConfigError
from assistant.nlp.span_logits import pad_windows, span_logits

log = logging.getLogger(__name__)

# Padding positions get this logit so they carry no probability mass for teacher or student.
PAD_LOGIT = -1e4
TEACHER_KEYS = ("teacher_start", "teacher_end")


def check_same_vocabulary(student_tokenizer, teacher_dir: str) -> None:
    """Raise ``ConfigError`` when ``teacher_dir``'s tokenizer maps words to other ids."""
    from transformers import AutoTokenizer

    teacher_tokenizer = AutoTokenizer.from_pretrained(teacher_dir, use_fast=True)
    if teacher_tokenizer.get_vocab() != student_tokenizer.get_vocab():
        raise ConfigError(
            f"Teacher {teacher_dir} has another vocabulary than the student's base; "
            "distil only from readers fine-tuned from the same base."
        )


def attach_teacher_logits(
    features: list[dict],
    teacher_dirs: Sequence[str],
    student_tokenizer,
    batch_size: int = 256,
) -> dict:
    """Add the teachers' mean start/end logits to every feature (``teacher_start``/``_end``,
    fp16 arrays as long as the window) and return timing stats.

    Runs on the GPU when there is one (bf16 autocast there), else on the CPU.
    """
    import torch
    from transformers import AutoModelForQuestionAnswering

    if not teacher_dirs:
        raise ConfigError("Give at least one teacher reader.")
    for d in teacher_dirs:
        check_same_vocabulary(student_tokenizer, d)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    started = time.monotonic()
    # Sum in fp32 over the teachers, then store the mean as fp16 (half the memory).
    sums = [np.zeros((2, len(f["input_ids"])), dtype=np.float32) for f in features]
    for teacher_dir in teacher_dirs:
        model = AutoModelForQuestionAnswering.from_pretrained(teacher_dir, dtype=torch.float32)
        model.to(device).eval()
        logits = span_logits(model, features, student_tokenizer.pad_token_id, batch_size,
                             bf16_autocast=device.type == "cuda")
        for total, (start, end) in zip(sums, logits, strict=True):
            total[0] += start
            total[1] += end
        del model
        log.info("teacher %s read %d windows", teacher_dir, len(features))
    for f, s in zip(features, sums, strict=True):
        mean = (s / len(teacher_dirs)).astype(np.float16)
        f["teacher_start"], f["teacher_end"] = mean[0], mean[1]
    return {"teachers": list(teacher_dirs), "windows": len(features),
            "seconds": round(time.monotonic() - started, 1)}


class WindowCollator:
    """Pads a batch of training windows (numpy, faster than ``tokenizer.pad`` on lists) and,
    when distilling, the teachers' logits to the same length with ``PAD_LOGIT``."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, features: list[dict]) -> dict:
        import torch

        batch = pad_windows(features, self.pad_token_id)
        n = batch["input_ids"].shape[1]
        for key in ("start_positions", "end_positions"):
            batch[key] = torch.tensor([f[key] for f in features], dtype=torch.long)
        if TEACHER_KEYS[0] in features[0]:
            for key in TEACHER_KEYS:
                logits = np.full((len(features), n), PAD_LOGIT, dtype=np.float32)
                for row, f in enumerate(features):
                    logits[row, : len(f[key])] = f[key]
                batch[key] = torch.from_numpy(logits)
        return batch


def distillation_loss(student_logits, teacher_logits, attention_mask, temperature: float):
    """``T^2 * KL(softmax(teacher/T) || softmax(student/T))``, mean over the batch; padded
    positions are excluded from both distributions."""
    import torch.nn.functional as F

    pad = attention_mask == 0
    student = student_logits.float().masked_fill(pad, PAD_LOGIT) / temperature
    teacher = teacher_logits.float().masked_fill(pad, PAD_LOGIT) / temperature
    return F.kl_div(F.log_softmax(student, -1), F.log_softmax(teacher, -1),
                    reduction="batchmean", log_target=True) * temperature**2


def distilling_trainer(base_class, alpha: float, temperature: float):
    """A subclass of the Trainer class ``base_class`` whose loss mixes the hard labels with the
    teachers' distributions (batches from ``WindowCollator``)."""

    class DistillTrainer(base_class):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            teacher_start = inputs.pop("teacher_start")
            teacher_end = inputs.pop("teacher_end")
            outputs = model(**inputs)
            mask = inputs["attention_mask"]
            soft = (distillation_loss(outputs.start_logits, teacher_start, mask, temperature)
                    + distillation_loss(outputs.end_logits, teacher_end, mask, temperature)) / 2
            loss = (1 - alpha) * outputs.loss + alpha * soft
            return (loss, outputs) if return_outputs else loss

    return DistillTrainer
