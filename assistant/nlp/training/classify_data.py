"""Readers for the sentence/document classification sets in ``../shared/data``.

Every reader returns a list of :class:`Example` whose label is one of the task's label names
(:data:`TASK_LABELS`). :func:`read_examples` sniffs the format from the file name and header:

- BABE CSV (``text,label,outlet,topic,biased_words``): labels ``biased``/``not_biased``; the
  ``biased_words`` list is kept on the example (it feeds the bias-word lexicon).
- Financial PhraseBank CSV (``text,label,agreement``) and any CSV with ``text`` and ``label``.
- NewsMTSC jsonl: sentiment *toward target mentions* (polarity 2.0/4.0/6.0). We turn it into a
  sentence-level label by keeping only sentences whose targets all agree; sentences with
  conflicting targets (about 5% of train, 40% of devtest) are dropped because no single
  sentence label is right for them.
- SemEval-2017 4A tsv (``id<TAB>label<TAB>tweet``), no header.
- SST-5 PTB trees: the root label 0-4 collapsed to negative (0, 1) / neutral (2) / positive (3, 4)
  for ``sentiment``; for ``sst2`` the neutral root sentences are dropped (the GLUE convention).
- SST-2 GLUE tsv (``label<TAB>sentence`` header, label first, CRLF in train): 0/1.
- BBC News CSV (``id,label,text``) and AG News CSV (``label,title,description``); AG News labels
  map to BBC's where they can (business, sports -> sport, sci_tech -> tech); ``world`` has no
  BBC counterpart and is skipped.
"""

from __future__ import annotations

import ast
import csv
import json
import logging
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import DataFormatError

log = logging.getLogger(__name__)

TASK_LABELS: dict[str, tuple[str, ...]] = {
    "sentiment": ("negative", "neutral", "positive"),
    "bias": ("not_biased", "biased"),
    "topic": ("business", "entertainment", "politics", "sport", "tech"),
    "sst2": ("negative", "positive"),
}

# Spellings met in other files, normalised to the canonical label names above.
_ALIASES = {
    "non-biased": "not_biased",
    "not biased": "not_biased",
    "not-biased": "not_biased",
    "unbiased": "not_biased",
    "no bias": "not_biased",
    "neg": "negative",
    "neu": "neutral",
    "pos": "positive",
    "sports": "sport",
    "sci_tech": "tech",
    "sci/tech": "tech",
    "technology": "tech",
}
_NEWSMTSC = {2.0: "negative", 4.0: "neutral", 6.0: "positive"}
_SST5_TO_3 = {0: "negative", 1: "negative", 2: "neutral", 3: "positive", 4: "positive"}
_AG_SKIP = {"world"}

csv.field_size_limit(10_000_000)  # BBC articles are long CSV fields


@dataclass(frozen=True)
class Example:
    """One labelled text. ``words`` are BABE's biased words (empty elsewhere)."""

    text: str
    label: str
    words: tuple[str, ...] = field(default=())


def task_labels(task: str) -> tuple[str, ...]:
    """The label names of ``task`` in model output order.

    Raises:
        DataFormatError: unknown task.
    """
    try:
        return TASK_LABELS[task]
    except KeyError:
        raise DataFormatError(
            f"Unknown classification task '{task}'; choose one of {', '.join(TASK_LABELS)}."
        ) from None


def normalize_label(raw: str, task: str) -> str:
    """Map a label as written in a file to the task's canonical name.

    Raises:
        DataFormatError: the label is not one of the task's labels.
    """
    labels = task_labels(task)
    key = raw.strip().lower()
    key = _ALIASES.get(key, key)
    if task == "sst2" and key in {"0", "1"}:
        key = labels[int(key)]
    if key not in labels:
        raise DataFormatError(
            f"Label '{raw}' is not a {task} label (expected one of {', '.join(labels)})."
        )
    return key


def read_examples(path: str | Path, task: str) -> list[Example]:
    """Read any supported file for ``task`` (format sniffed from name and header).

    Raises:
        DataFormatError: missing file, unknown layout, bad rows or labels, or no examples.
    """
    path = Path(path)
    task_labels(task)
    if not path.is_file():
        raise DataFormatError(f"Data file {path} does not exist.")
    reader = _choose_reader(path)
    try:
        examples = reader(path, task)
    except UnicodeDecodeError as err:
        raise DataFormatError(f"{path} is not UTF-8 text ({err.reason}).") from None
    except csv.Error as err:
        raise DataFormatError(f"{path} is not a readable CSV/TSV file: {err}.") from None
    if not examples:
        raise DataFormatError(f"{path} holds no {task} examples.")
    log.info("read %d %s examples from %s: %s", len(examples), task, path,
             dict(Counter(e.label for e in examples)))
    return examples


def read_many(paths: Sequence[str | Path], task: str) -> list[Example]:
    """Concatenate :func:`read_examples` over several files."""
    out: list[Example] = []
    for p in paths:
        out.extend(read_examples(p, task))
    return out


def _choose_reader(path: Path) -> Callable[[Path, str], list[Example]]:
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonlines")):
        return read_newsmtsc
    with path.open("rb") as fh:
        head = fh.read(4096)
    try:
        first = head.decode("utf-8").lstrip("\ufeff").splitlines()[0] if head else ""
    except UnicodeDecodeError:
        raise DataFormatError(f"{path} is not UTF-8 text.") from None
    if not first.strip():
        raise DataFormatError(f"{path} is empty.")
    if first.lstrip().startswith("("):
        return read_sst5
    if "\t" in first:
        cols = [c.strip().lower() for c in first.split("\t")]
        if "label" in cols and ({"sentence", "content", "text"} & set(cols)):
            return read_sst2
        return read_semeval
    return read_csv


def read_csv(path: Path, task: str) -> list[Example]:
    """BABE, Financial PhraseBank, BBC, AG News or any CSV with ``text`` and ``label`` columns."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = csv.DictReader(fh)
        cols = {c.strip().lower() for c in rows.fieldnames or []}
        if "label" not in cols or not ({"text"} <= cols or {"title", "description"} <= cols):
            raise DataFormatError(
                f"{path}: a CSV needs 'text' and 'label' columns (or AG News's 'label,title,"
                f"description'); found {', '.join(sorted(cols)) or 'no header'}."
            )
        out: list[Example] = []
        for line, row in enumerate(rows, start=2):
            row = {(k or "").strip().lower(): (v or "") for k, v in row.items()}
            if "text" in row:
                text = row["text"]
            else:  # AG News: title and description together make the text
                text = f"{row['title'].strip()}. {row['description'].strip()}"
            text = text.replace("\\$", "$").strip()
            raw = row["label"].strip()
            if not text or not raw:
                raise DataFormatError(f"{path}, line {line}: empty text or label.")
            if task == "topic" and raw.lower() in _AG_SKIP:
                continue
            try:
                label = normalize_label(raw, task)
            except DataFormatError as err:
                raise DataFormatError(f"{path}, line {line}: {err}") from None
            out.append(Example(text, label, _biased_words(row.get("biased_words", ""))))
    return out


def _biased_words(raw: str) -> tuple[str, ...]:
    raw = raw.strip()
    if not raw or raw == "[]":
        return ()
    try:
        words = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return ()  # a malformed word list only loses the lexicon entry, never the example
    return tuple(str(w).strip() for w in words if str(w).strip()) if isinstance(words, list) else ()


def read_newsmtsc(path: Path, task: str) -> list[Example]:
    """NewsMTSC jsonl; sentence label = the polarity all its targets agree on (else skipped)."""
    if task != "sentiment":
        raise DataFormatError(f"{path}: NewsMTSC holds sentiment labels, not {task}.")
    out: list[Example] = []
    dropped = 0
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                text = item["sentence_normalized"].strip()
                polarities = {float(t["polarity"]) for t in item["targets"]}
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
                raise DataFormatError(
                    f"{path}, line {line_no}: not a NewsMTSC record ({err})."
                ) from None
            if not polarities <= set(_NEWSMTSC):
                raise DataFormatError(f"{path}, line {line_no}: unknown polarity {polarities}.")
            if len(polarities) != 1:
                dropped += 1
                continue
            out.append(Example(text, _NEWSMTSC[polarities.pop()]))
    log.info("%s: dropped %d sentences whose targets disagree", path, dropped)
    return out


def read_semeval(path: Path, task: str) -> list[Example]:
    """SemEval-2017 4A tsv: ``id<TAB>label<TAB>text`` (no header)."""
    out: list[Example] = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) < 3:
                raise DataFormatError(
                    f"{path}, line {line_no}: expected 'id<TAB>label<TAB>text'."
                )
            text = "\t".join(parts[2:]).strip().strip('"')
            text = _UESC.sub(lambda m: chr(int(m.group(1), 16)), text)  # tweets keep \\u002c
            try:
                out.append(Example(text, normalize_label(parts[1], task)))
            except DataFormatError as err:
                raise DataFormatError(f"{path}, line {line_no}: {err}") from None
    return out


def read_sst2(path: Path, task: str) -> list[Example]:
    """GLUE SST-2 tsv: ``label`` + ``sentence`` (or ``content``) header, any order, CRLF ok."""
    with path.open(encoding="utf-8", newline="") as fh:
        lines = fh.read().splitlines()
    header = [c.strip().lower() for c in lines[0].split("\t")]
    li = header.index("label")
    si = next(header.index(c) for c in ("sentence", "content", "text") if c in header)
    out: list[Example] = []
    for line_no, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != len(header) or parts[li].strip() not in {"0", "1"}:
            raise DataFormatError(f"{path}, line {line_no}: expected label 0/1 and a sentence.")
        label = ("negative", "positive")[int(parts[li])]
        if task not in ("sst2", "sentiment"):
            raise DataFormatError(f"{path}: SST-2 holds sentiment labels, not {task}.")
        out.append(Example(parts[si].strip(), label))
    return out


_UESC = re.compile(r"\\u([0-9a-fA-F]{4})")
_LEAF = re.compile(r"\(\d+ ([^()]+)\)")


def read_sst5(path: Path, task: str) -> list[Example]:
    """SST-5 PTB trees: root label collapsed to 3 classes (``sst2``: neutral dropped)."""
    if task not in ("sst2", "sentiment"):
        raise DataFormatError(f"{path}: SST holds sentiment labels, not {task}.")
    out: list[Example] = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            line = line.strip()
            if not line:
                continue
            m = re.match(r"\((\d) ", line)
            if not m or line.count("(") != line.count(")"):
                raise DataFormatError(f"{path}, line {line_no}: not a PTB tree.")
            label = _SST5_TO_3.get(int(m.group(1)), None)
            if label is None:
                raise DataFormatError(f"{path}, line {line_no}: root label must be 0-4.")
            if task == "sst2" and label == "neutral":
                continue
            text = " ".join(_LEAF.findall(line))
            out.append(Example(text, label))
    return out


def stratified_split(
    examples: Sequence[Example], dev_fraction: float = 0.15, seed: int = 13
) -> tuple[list[Example], list[Example]]:
    """Split into (train, dev) keeping label proportions; duplicates of a text stay together.

    Deterministic for a given seed, so the dev split used for model selection is reproducible.
    """
    if not 0.0 < dev_fraction < 1.0:
        raise ValueError("dev_fraction must be between 0 and 1")
    by_label: dict[str, list[str]] = defaultdict(list)
    first_label: dict[str, str] = {}
    for e in examples:
        if e.text not in first_label:
            first_label[e.text] = e.label
            by_label[e.label].append(e.text)
    rng = random.Random(seed)
    dev_texts: set[str] = set()
    for label in sorted(by_label):
        texts = sorted(by_label[label])
        rng.shuffle(texts)
        dev_texts.update(texts[: max(1, round(len(texts) * dev_fraction))])
    train = [e for e in examples if e.text not in dev_texts]
    dev = [e for e in examples if e.text in dev_texts]
    return train, dev


def subsample(examples: Sequence[Example], limit: int | None, seed: int = 13) -> list[Example]:
    """A stratified random subset of at most ``limit`` examples (all when ``limit`` is None)."""
    if limit is None or limit >= len(examples):
        return list(examples)
    _, part = stratified_split(examples, dev_fraction=limit / len(examples), seed=seed)
    if len(part) < limit:  # per-class rounding fell short: top up from the rest, in file order
        chosen = {e.text for e in part}
        part += [e for e in examples if e.text not in chosen][: limit - len(part)]
    return part[:limit]
