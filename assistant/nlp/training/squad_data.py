"""Read extractive-QA data sets into one example type, and build unanswerable examples.

Formats (chosen by file name):
- SQuAD JSON (``.json`` or ``.json.gz``): v1.1 and v2.0 layout, also COVID-QA, PolicyQA, FriendsQA.
  Answers with leading/trailing whitespace (about 3% in COVID-QA) are stripped and their start
  moved, so ``context[start:start + len(text)] == text`` always holds.
- QED (``.jsonlines``): Natural Questions questions over a Wikipedia paragraph; the answer is
  ``answer_spans`` (train files) or the annotation's ``paragraph_reference`` (dev file).
- SubjQA (``.csv``): the gold span is ``review[start:end]`` from ``human_ans_indices`` (the
  stored answer text is not always exact); every review ends with the marker ``ANSWERNOTFOUND``,
  which we cut off, and rows whose answer is that marker become unanswerable examples.
"""

from __future__ import annotations

import ast
import csv
import gzip
import json
import logging
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import DataFormatError

log = logging.getLogger(__name__)

_NOT_FOUND = "ANSWERNOTFOUND"


@dataclass(frozen=True)
class QAExample:
    """One question over one context; no answers means the context does not answer it.

    ``answer_starts[i]`` is the character offset of ``answer_texts[i]`` in ``context``.
    ``title`` groups paragraphs of the same article (used to build negatives).
    """

    id: str
    question: str
    context: str
    answer_texts: tuple[str, ...] = ()
    answer_starts: tuple[int, ...] = ()
    title: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_impossible(self) -> bool:
        """True when the context holds no answer."""
        return not self.answer_texts


def load_examples(path: str | Path, limit: int | None = None) -> list[QAExample]:
    """Read one QA file (SQuAD JSON[.gz], QED .jsonlines or SubjQA .csv).

    Args:
        path: the file.
        limit: keep only the first ``limit`` questions (in file order).

    Raises:
        DataFormatError: the file is missing or not in a known layout.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"QA data file {path} does not exist.")
    name = path.name.lower()
    try:
        if name.endswith((".json", ".json.gz")):
            examples = list(_read_squad(path))
        elif name.endswith((".jsonl", ".jsonlines")):
            examples = list(_read_qed(path))
        elif name.endswith(".csv"):
            examples = list(_read_subjqa(path))
        else:
            raise DataFormatError(
                f"{path.name}: unknown QA format (expected .json, .json.gz, .jsonlines or .csv)."
            )
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, OSError, csv.Error) as err:
        raise DataFormatError(f"{path.name} is not a readable QA file: {err}") from err
    if limit is not None:
        examples = examples[:limit]
    log.info("%s: %d questions", path.name, len(examples))
    return examples


def load_many(paths: Iterable[str | Path]) -> list[QAExample]:
    """All examples of several files, in order."""
    out: list[QAExample] = []
    for p in paths:
        out.extend(load_examples(p))
    return out


def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _clean_answer(context: str, text: str, start: int) -> tuple[str, int] | None:
    """Strip whitespace around an answer and check it sits at ``start`` (else search near it)."""
    stripped = text.strip()
    if not stripped:
        return None
    start += len(text) - len(text.lstrip())
    if context[start : start + len(stripped)] == stripped:
        return stripped, start
    # A few files have off-by-some offsets: take the occurrence nearest the stated start.
    found = [i for i in _find_all(context, stripped)]
    if not found:
        return None
    return stripped, min(found, key=lambda i: abs(i - start))


def _find_all(text: str, needle: str) -> Iterable[int]:
    i = text.find(needle)
    while i != -1:
        yield i
        i = text.find(needle, i + 1)


def _read_squad(path: Path) -> Iterable[QAExample]:
    with _open_text(path) as fh:
        data = json.load(fh)
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise DataFormatError(f"{path.name}: no top-level 'data' list (not SQuAD layout).")
    dropped = 0
    for a_index, article in enumerate(data["data"]):
        title = str(article.get("title", f"article-{a_index}"))
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                texts, starts = [], []
                for ans in qa.get("answers", []):
                    cleaned = _clean_answer(context, ans["text"], int(ans["answer_start"]))
                    if cleaned:
                        texts.append(cleaned[0])
                        starts.append(cleaned[1])
                if qa.get("answers") and not texts:
                    dropped += 1  # answers given but none found in the context: unusable
                    continue
                yield QAExample(
                    id=str(qa["id"]),
                    question=qa["question"].strip(),
                    context=context,
                    answer_texts=tuple(texts),
                    answer_starts=tuple(starts),
                    title=title,
                )
    if dropped:
        log.warning("%s: dropped %d questions whose answers are not in the context", path, dropped)


def _read_qed(path: Path) -> Iterable[QAExample]:
    with _open_text(path) as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            context = row["paragraph_text"]
            spans = _qed_spans(row)
            texts, starts = [], []
            for s, e in spans:
                cleaned = _clean_answer(context, context[s:e], s)
                if cleaned and cleaned[0] not in texts:
                    texts.append(cleaned[0])
                    starts.append(cleaned[1])
            if not texts:
                continue  # QED keeps only answerable NQ questions; a row without a span is noise
            yield QAExample(
                id=f"qed-{row.get('example_id', line_no)}",
                question=row["question_text"].strip(),
                context=context,
                answer_texts=tuple(texts),
                answer_starts=tuple(starts),
                title=str(row.get("title_text", "")),
            )


def _qed_spans(row: dict) -> list[tuple[int, int]]:
    """Answer spans of a QED row: the train files have ``answer_spans``, the dev file keeps
    them in ``annotation.answer[].paragraph_reference`` (and in ``original_nq_answers``)."""
    if row.get("answer_spans"):
        return [(int(s), int(e)) for s, e in row["answer_spans"]]
    annotation = row.get("annotation")
    if isinstance(annotation, dict):
        spans = [
            (a["paragraph_reference"]["start"], a["paragraph_reference"]["end"])
            for a in annotation.get("answer", [])
            if "paragraph_reference" in a
        ]
        if spans:
            return spans
    return [(a["start"], a["end"]) for group in row.get("original_nq_answers", []) for a in group]


def _read_subjqa(path: Path) -> Iterable[QAExample]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"question", "review", "human_ans_indices", "human_ans_spans"} - set(
            reader.fieldnames or ()
        )
        if missing:
            raise DataFormatError(f"{path.name}: not SubjQA (missing columns {sorted(missing)}).")
        for i, row in enumerate(reader):
            review = row["review"]
            # Every review carries the no-answer marker at its end; it is not real text.
            context = review
            if context.rstrip().endswith(_NOT_FOUND):
                context = context.rstrip()[: -len(_NOT_FOUND)].rstrip()
            texts: tuple[str, ...] = ()
            starts: tuple[int, ...] = ()
            if row["human_ans_spans"].strip() != _NOT_FOUND:
                s, e = ast.literal_eval(row["human_ans_indices"])
                cleaned = _clean_answer(context, review[int(s) : int(e)], int(s))
                if cleaned is None or cleaned[1] + len(cleaned[0]) > len(context):
                    continue
                texts, starts = (cleaned[0],), (cleaned[1],)
            yield QAExample(
                id=f"subjqa-{row.get('q_review_id') or i}-{i}",
                question=row["question"].strip(),
                context=context,
                answer_texts=texts,
                answer_starts=starts,
                title=str(row.get("item_id", "")),
                extra={"domain": row.get("domain", "")},
            )


def make_negatives(
    examples: Sequence[QAExample], ratio: float, seed: int = 13
) -> list[QAExample]:
    """Unanswerable examples: a question paired with another paragraph of the same article.

    Paragraphs that contain any of the question's answer strings are never used, so the
    pairing is really unanswerable (as far as string matching can tell).

    Args:
        examples: answerable examples with ``title`` set.
        ratio: how many negatives to make per input example (e.g. 0.15).
        seed: for a reproducible choice.
    """
    if ratio <= 0:
        return []
    rng = random.Random(seed)
    by_title: dict[str, list[str]] = defaultdict(list)
    for ex in examples:
        contexts = by_title[ex.title]
        if not contexts or contexts[-1] != ex.context:
            contexts.append(ex.context)
    answerable = [ex for ex in examples if not ex.is_impossible]
    wanted = round(len(examples) * ratio)
    chosen = rng.sample(answerable, min(wanted, len(answerable)))
    negatives = []
    for ex in chosen:
        others = [c for c in set(by_title[ex.title]) if c != ex.context
                  and not any(t.lower() in c.lower() for t in ex.answer_texts)]
        if not others:
            continue
        negatives.append(
            QAExample(
                id=f"{ex.id}-neg",
                question=ex.question,
                context=rng.choice(sorted(others)),
                title=ex.title,
            )
        )
    log.info("made %d negatives from %d examples", len(negatives), len(examples))
    return negatives
