"""Fine-tune an encoder into an extractive QA reader with the transformers ``Trainer``.

The same recipe runs on CPU, one GPU, or several (``accelerate launch -m assistant ...``):
Trainer picks the device and the distributed setup. The output directory holds the fp16
safetensors weights (15 MB shards), the tokenizer, ``answerspan.json`` (window size and the
no-answer threshold, 0.0 until ``evaluate reader --calibrate`` sets it) and a ``README.md``
model card with data, command line, metrics, date and hardware.
"""

from __future__ import annotations

import json
import logging
import platform
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from assistant.errors import ConfigError
from assistant.nlp.training.artifacts import save_fp16
from assistant.nlp.training.squad_data import QAExample, load_examples, make_negatives

log = logging.getLogger(__name__)

# The model card's metadata block (Hugging Face model-card YAML), shared by every reader card.
READER_CARD_HEADER = """---
language: en
license: mit
base_model: sentence-transformers/all-MiniLM-L6-v2
pipeline_tag: question-answering
---
"""


@dataclass
class ReaderTrainConfig:
    """Everything that defines a reader training run; validated on construction."""

    train_files: list[str]
    base: str
    out_dir: str
    dev_file: str | None = None
    epochs: float = 1.0
    lr: float = 1e-4
    batch_size: int = 32
    max_length: int = 256
    stride: int = 96
    warmup: float = 0.1
    weight_decay: float = 0.01
    limit_train: int | None = None
    negatives_ratio: float = 0.1
    dev_limit: int | None = 1000
    threads: int | None = None
    max_steps: int = -1
    max_minutes: float | None = None
    checkpoint_dir: str | None = None
    save_steps: int = 500
    seed: int = 42
    bf16: bool = False
    teachers: list[str] = field(default_factory=list)
    distill_alpha: float = 0.5
    distill_temperature: float = 2.0
    command: str = ""

    def __post_init__(self) -> None:
        if not self.train_files:
            raise ConfigError("Give at least one --train file.")
        if not 0 < self.lr < 1:
            raise ConfigError(f"Learning rate must be in (0, 1), got {self.lr}.")
        if self.batch_size < 1 or self.epochs <= 0:
            raise ConfigError("Batch size and epochs must be positive.")
        if not 64 <= self.max_length <= 512:
            raise ConfigError("--max-length must be between 64 and 512 tokens.")
        if not 0 <= self.stride < self.max_length // 2:
            raise ConfigError("--stride must be at least 0 and under half of --max-length.")
        if not 0 <= self.negatives_ratio <= 1:
            raise ConfigError("--negatives-ratio must be between 0 and 1.")
        if not 0 <= self.warmup < 1:
            raise ConfigError("--warmup is a fraction of the steps, in [0, 1).")
        if not 0 <= self.distill_alpha <= 1:
            raise ConfigError("--distill-alpha must be between 0 and 1.")
        if not 0 < self.distill_temperature <= 20:
            raise ConfigError("--distill-temperature must be in (0, 20].")


class _QADataset:
    """A list of feature dicts as a map-style dataset (no ``datasets`` dependency)."""

    def __init__(self, features: list[dict]) -> None:
        self.features = features

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, i: int) -> dict:
        return self.features[i]


def _time_budget_callback(max_minutes: float):
    from transformers import TrainerCallback

    class TimeBudget(TrainerCallback):
        """Stops training cleanly (the model is still saved) when the time budget is spent."""

        def __init__(self) -> None:
            self.started = time.monotonic()
            self.stopped_early_at: int | None = None

        def on_train_begin(self, args, state, control, **kwargs):
            self.started = time.monotonic()

        def on_step_end(self, args, state, control, **kwargs):
            if time.monotonic() - self.started > max_minutes * 60:
                control.should_training_stop = True
                self.stopped_early_at = state.global_step
            return control

    return TimeBudget()


def time_schedule(budget_s: float, warmup: float, clock=time.monotonic):
    """An LR factor that warms up over the first ``warmup`` of the time budget, then decays
    linearly to 0 when the budget is spent.

    On a shared CPU the step rate is unknown in advance; scheduling by elapsed time (not by
    planned steps) lets a time-limited run still end with a fully decayed learning rate.
    """
    started = clock()

    def factor(_step: int) -> float:
        frac = (clock() - started) / budget_s
        if frac < warmup:
            return max(frac / warmup, 1e-3)
        return max(0.0, (1.0 - frac) / (1.0 - warmup))

    return factor


def _trainer_class(budget_s: float | None, warmup: float):
    from torch.optim.lr_scheduler import LambdaLR
    from transformers import Trainer

    if not budget_s:
        return Trainer

    class TimeBudgetTrainer(Trainer):
        """Trainer whose learning-rate schedule runs on the clock (see ``time_schedule``)."""

        def create_scheduler(self, num_training_steps, optimizer=None):
            if self.lr_scheduler is None:
                self.lr_scheduler = LambdaLR(
                    optimizer or self.optimizer, time_schedule(budget_s, warmup)
                )
                self._created_lr_scheduler = True
            return self.lr_scheduler

    return TimeBudgetTrainer


def file_labels(files: Sequence[str]) -> list[str]:
    """Short, distinct names for the model card: the file name, or its last three path parts
    where names repeat (SubjQA's domains all have a ``splits/train.csv``)."""
    names = [Path(f).name for f in files]
    return [n if names.count(n) == 1 else "/".join(Path(f).parts[-3:])
            for f, n in zip(files, names, strict=True)]


def load_training_examples(
    files: Sequence[str], limit: int | None, negatives_ratio: float, seed: int
) -> tuple[list[QAExample], dict]:
    """Examples of all files, a random ``limit`` of them, plus generated negatives."""
    examples: list[QAExample] = []
    per_file = {}
    for f, label in zip(files, file_labels(files), strict=True):
        part = load_examples(f)
        per_file[label] = len(part)
        examples.extend(part)
    rng = random.Random(seed)
    if limit is not None and limit < len(examples):
        # A random subset, not the first N: SQuAD is ordered by article, so the first N would
        # cover only a few topics.
        examples = rng.sample(examples, limit)
    negatives = make_negatives(examples, negatives_ratio, seed)
    stats = {
        "files": per_file,
        "questions": len(examples),
        "unanswerable_in_data": sum(e.is_impossible for e in examples),
        "generated_negatives": len(negatives),
    }
    examples = examples + negatives
    rng.shuffle(examples)
    return examples, stats


def train_reader(config: ReaderTrainConfig) -> dict:
    """Run the fine-tune and write the model directory; returns the run summary."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, TrainingArguments

    from assistant.nlp.models import set_torch_threads
    from assistant.nlp.training.distill import (
        WindowCollator,
        attach_teacher_logits,
        distilling_trainer,
    )
    from assistant.nlp.training.qa_features import train_features

    set_torch_threads(config.threads)
    started = time.monotonic()
    examples, data_stats = load_training_examples(
        config.train_files, config.limit_train, config.negatives_ratio, config.seed
    )
    tokenizer = AutoTokenizer.from_pretrained(config.base, use_fast=True)
    features = train_features(examples, tokenizer, config.max_length, config.stride)
    data_stats["windows"] = len(features)
    data_stats["no_answer_windows"] = sum(f["start_positions"] == 0 for f in features)
    log.info("training data: %s", data_stats)
    if config.teachers:
        data_stats["distillation"] = attach_teacher_logits(features, config.teachers, tokenizer)
        data_stats["distillation"].update(alpha=config.distill_alpha,
                                          temperature=config.distill_temperature)
    # fp32 weights even from an fp16 checkpoint: transformers v5 would otherwise keep fp16 and the
    # optimizer would update half-precision weights (mixed precision needs fp32 masters).
    model = AutoModelForQuestionAnswering.from_pretrained(config.base, dtype=torch.float32)

    out = Path(config.out_dir)
    scratch = Path(config.checkpoint_dir) if config.checkpoint_dir else out / "_trainer"
    args = TrainingArguments(
        output_dir=str(scratch),
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.lr,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        warmup_steps=config.warmup,
        weight_decay=config.weight_decay,
        lr_scheduler_type="linear",
        logging_steps=25,
        save_strategy="steps" if config.checkpoint_dir else "no",
        save_steps=config.save_steps,
        save_total_limit=2,
        report_to="none",
        seed=config.seed,
        train_sampling_strategy="group_by_length",  # less padding: much faster on CPU
        # fp16 autocast on GPU; on CPU, bf16 autocast where asked (AVX512-BF16/AMX CPUs gain).
        fp16=torch.cuda.is_available() and not config.bf16,
        bf16=config.bf16,
        use_cpu=not torch.cuda.is_available() and not torch.backends.mps.is_available(),
        # On a GPU the step is short and padding batches in the main process would leave the
        # GPU waiting; on a CPU workers would only compete with the training threads.
        dataloader_num_workers=2 if torch.cuda.is_available() else 0,
        remove_unused_columns=False,  # the teachers' logits travel with the batch
        disable_tqdm=False,
    )
    callbacks = []
    budget = None
    if config.max_minutes:
        budget = _time_budget_callback(config.max_minutes)
        callbacks.append(budget)
    trainer_cls = _trainer_class(config.max_minutes * 60 if config.max_minutes else None,
                                 config.warmup)
    if config.teachers:
        trainer_cls = distilling_trainer(trainer_cls, config.distill_alpha,
                                         config.distill_temperature)
    trainer = trainer_cls(
        model=model,
        args=args,
        train_dataset=_QADataset(features),
        data_collator=WindowCollator(tokenizer.pad_token_id),
        processing_class=tokenizer,
        callbacks=callbacks,
    )
    train_started = time.monotonic()
    result = trainer.train()
    train_seconds = time.monotonic() - train_started
    steps = trainer.state.global_step
    # Each step consumes batch_size windows per process (the last batch of an epoch may be short).
    windows_seen = min(int(len(features) * config.epochs),
                       steps * config.batch_size * max(args.world_size, 1))
    summary = {
        "data": data_stats,
        "steps": steps,
        "windows_seen": windows_seen,
        "stopped_by_time_budget": bool(budget and budget.stopped_early_at),
        "train_loss": round(float(result.training_loss), 4),
        "train_seconds": round(train_seconds, 1),
        "total_seconds": None,
        "hardware": _hardware(args),
        "config": {k: v for k, v in asdict(config).items() if k != "command"},
        "command": config.command,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if not trainer.is_world_process_zero():
        return summary
    save_reader(trainer.model, tokenizer, out, config)
    if config.dev_file:
        from assistant.nlp.training.evaluate_reader import evaluate_reader

        summary["dev"] = evaluate_reader(str(out), config.dev_file, limit=config.dev_limit)
    summary["total_seconds"] = round(time.monotonic() - started, 1)
    (out / "training_summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    write_model_card(out, summary)
    return summary


def save_reader(model, tokenizer, out: Path, config: ReaderTrainConfig) -> None:
    """fp16 safetensors in 15 MB shards, the tokenizer, and ``answerspan.json``."""
    import shutil

    save_fp16(model, tokenizer, out)
    settings_path = out / "answerspan.json"
    settings = {}
    if settings_path.is_file():
        settings = json.loads(settings_path.read_text(encoding="utf-8"))
    settings.update({"max_length": config.max_length, "stride": config.stride,
                     "no_answer_threshold": 0.0, "calibrated_on": None})
    settings_path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    scratch = out / "_trainer"
    if scratch.is_dir():
        shutil.rmtree(scratch, ignore_errors=True)


def _hardware(args) -> str:
    import torch

    if torch.cuda.is_available():
        return f"{args.world_size} x {torch.cuda.get_device_name(0)}"
    return (f"CPU only ({platform.processor() or platform.machine()}, "
            f"{torch.get_num_threads()} torch threads)")


def write_model_card(out: Path, summary: dict, extra_sections: str = "") -> None:
    """The model card: what the reader is, how it was trained, how well it does."""
    cfg = summary["config"]
    dev = summary.get("dev") or {}
    dev_line = (
        f"EM {dev['em']:.1f} / F1 {dev['f1']:.1f} on {dev['questions']} questions of "
        f"`{Path(cfg['dev_file']).name}`" if dev else "not measured during training"
    )
    hours = summary["train_seconds"] / 3600
    distill = summary["data"].get("distillation")
    distill_line = (
        f"- Distilled from the mean start/end logits of {len(distill['teachers'])} teacher "
        f"reader(s) ({', '.join(Path(t).name for t in distill['teachers'])}): loss = "
        f"(1 - {distill['alpha']}) x CE(labels) + {distill['alpha']} x T^2 x KL(teachers || "
        f"student) at T = {distill['temperature']}; reading the teachers took "
        f"{distill['seconds']:.0f} s\n" if distill else ""
    )
    card = READER_CARD_HEADER + f"""# Answerspan reader (extractive QA)

An extractive question-answering head fine-tuned from all-MiniLM-L6-v2 (6 layers, 384 wide,
uncased) by `answerspan train reader`. Weights are fp16 safetensors; `answerspan.json` holds the
window size used in training and the calibrated no-answer threshold.

## Training
- Date: {summary['date']}
- Hardware: {summary['hardware']}; training time {summary['train_seconds']:.0f} s ({hours:.2f} h)
- Data: {', '.join(f'{k} ({v} questions)' for k, v in summary['data']['files'].items())};
  used {summary['data']['questions']} questions{' (random subset, --limit-train)' if cfg['limit_train'] else ''}
  + {summary['data']['generated_negatives']} generated unanswerable examples (the question paired
  with another paragraph of the same article) = {summary['data']['windows']} windows;
  {summary['data']['no_answer_windows']} windows are labelled "no answer" ([CLS]).
{distill_line}- Steps: {summary['steps']} (batch {cfg['batch_size']}); windows seen: {summary['windows_seen']};
  stopped by time budget: {summary['stopped_by_time_budget']}; final train loss {summary['train_loss']}
- Hyper-parameters: lr {cfg['lr']}, linear schedule, warmup {cfg['warmup']}, weight decay
  {cfg['weight_decay']}, epochs {cfg['epochs']}, max_length {cfg['max_length']}, stride {cfg['stride']},
  seed {cfg['seed']}
- Command: `{summary['command']}`

## Evaluation
- Dev at the end of training: {dev_line}
{extra_sections}
## Limits
English only, trained mostly on Wikipedia questions (SQuAD). A CPU run trains on a subset
and ends far below a full fine-tune; a plain 3-epoch GPU fine-tune of this base reaches about
F1 82 on SQuAD v1.1 dev. The no-answer score is weaker than the span scores: see the v2.0 numbers.
"""
    (out / "README.md").write_text(card, encoding="utf-8")
