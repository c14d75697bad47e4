"""Source taggers: sentiment, media bias and news topic of the passages answers come from.

Passages are tagged once, at index time (``retrieval.library.Library`` stores the dicts), so the
cost matters: every model runs in batches over all sentences of all passages it is given, and
the bundled ``taggers`` model answers all three tasks from one encoder pass (one
``BertForSequenceClassification`` whose logits are split per task, see
``assistant.nlp.training.train_classifier``). A bundled per-task model takes a task over from it:
the bundled ``bias`` model (a dedicated BABE fine-tune, 0.835 against the taggers' 0.792 dev
macro-F1) costs a second pass over the sentences.

How a passage gets its tags (also in the model card):

- it is split into sentences; each sentence is classified;
- sentiment: the mean of the sentence probabilities weighted by sentence length (characters);
- bias: a passage is as biased as its most biased sentence (max P(biased)); ``words`` are the
  words of the biased sentences that the model's biased-word head (trained on BABE's
  ``biased_words``) scores at least ``WORD_THRESHOLD``, or, for a model without a head, those
  found in its ``bias_lexicon.json``; highest-scoring first;
- topic: the passage as a whole (first ``topic_max_length`` tokens) -- the topic model was
  trained on article openings, and topic is a property of the text, not of one sentence.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from assistant.errors import ModelNotFoundError
from assistant.nlp import bias_words

log = logging.getLogger(__name__)

TAGGER_BUNDLE = "taggers"  # the multi-task bundle (sentiment + bias + topic, one encoder)
LEXICON_FILE = "bias_lexicon.json"
TASKS = ("sentiment", "bias", "topic")
MAX_WORDS = 5

# A sentence ends at . ! ? (optionally followed by a closing quote/bracket) before whitespace and
# a capital, digit or opening quote, or at a blank line / line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]?\s+(?=[\"'“‘(\[]?[A-Z0-9])|\n\s*\n|\n(?=\s*[-•*])")
_ABBREVIATION = re.compile(
    r"(?:^|[\s.])(?:Mr|Mrs|Ms|Dr|Prof|St|Sen|Rep|Gov|Gen|Col|Lt|Sgt|Jr|Sr|No|Vol|Inc|Co|Corp|"
    r"Ltd|vs|etc|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|[A-Z])\.$"
)
WORD_THRESHOLD = 0.5  # a word the head scores at least this carries the bias


def split_sentences(text: str, min_chars: int = 3) -> list[str]:
    """Split a passage into sentences (a light rule-based splitter: no model, no download).

    Fragments shorter than ``min_chars`` non-space characters are dropped; a passage without a
    usable sentence yields itself (stripped), an empty passage nothing.
    """
    parts: list[str] = []
    for piece in _SENTENCE_END.split(text):
        piece = piece.strip()
        if parts and _ABBREVIATION.search(parts[-1]):  # "Mr. Smith": not a sentence end
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    parts = [p for p in parts if len(re.sub(r"\s", "", p)) >= min_chars]
    if not parts and text.strip():
        return [text.strip()]
    return parts


@dataclass
class TaggerOutput:
    """What one pass of a :class:`TaggerModel` gives for a list of texts."""

    logits: np.ndarray  # (texts, all tasks' labels)
    word_scores: list[dict[str, float]] | None = None  # per text; None: not asked or no head


@runtime_checkable
class TextClassifier(Protocol):
    """A classifier of texts into one task's labels (what each tagger below is)."""

    task: str
    labels: tuple[str, ...]

    def __call__(self, texts: list[str]) -> list[dict[str, Any]]:
        """One ``{"label", "score", ...}`` per text."""
        ...


class TaggerModel:
    """One classification model directory, loaded lazily, giving every task's probabilities.

    Args:
        path: model directory (HF format; ``config.answerspan_tasks`` names its tasks).
        batch_size: texts per forward pass; ``None``: 16 on CPU, 64 on a GPU. On a 2-core CPU
            batches of 64 sentences tag 1.3x slower than 16 (1.7x in the app's background
            steps of 16 passages), with the same labels: the padded activations of a large
            batch fall out of cache.
        device: torch device name; ``None`` picks CUDA when available.
    """

    def __init__(
        self, path: str | Path, batch_size: int | None = None, device: str | None = None
    ) -> None:
        self.path = Path(path)
        if not (self.path / "config.json").is_file():
            raise ModelNotFoundError(f"{self.path} is not a classifier model directory.")
        self.batch_size = batch_size
        self._device_name = device
        self._model = None
        self._tokenizer = None
        self._tasks: dict[str, list[str]] | None = None
        self._lexicon: dict[str, float] | None = None
        self._word_head = None  # False once looked for and absent
        self._lock = threading.Lock()

    @property
    def tasks(self) -> dict[str, list[str]]:
        """``{task: labels}`` in output order (read from config.json without loading weights)."""
        if self._tasks is None:
            config = json.loads((self.path / "config.json").read_text(encoding="utf-8"))
            if config.get("answerspan_tasks"):
                self._tasks = {t["task"]: list(t["labels"]) for t in config["answerspan_tasks"]}
            else:  # a foreign single-task classifier: one group of its id2label names
                id2label = config.get("id2label") or {}
                self._tasks = {"labels": [id2label[k] for k in sorted(id2label, key=int)]}
        return self._tasks

    @property
    def lexicon(self) -> dict[str, float]:
        """Bias-word lexicon shipped with the model (empty when absent)."""
        if self._lexicon is None:
            f = self.path / LEXICON_FILE
            self._lexicon = json.loads(f.read_text(encoding="utf-8")) if f.is_file() else {}
        return self._lexicon

    @property
    def word_head(self):
        """The biased-word token head saved with a bias model (``None`` when there is none)."""
        if self._word_head is None:
            from assistant.nlp.classifier_weights import WORD_HEAD_FILE, load_word_head

            self._word_head = load_word_head(self.path / WORD_HEAD_FILE) or False
        return self._word_head or None

    def warm_up(self) -> None:
        """Load tokenizer and weights now (fp32 on CPU: fp16 matmuls are slow there)."""
        with self._lock:
            if self._model is not None:
                return
            import torch
            from transformers import AutoTokenizer

            from assistant.nlp.classifier_weights import load_classifier
            from assistant.nlp.models import choose_device

            device = torch.device(self._device_name) if self._device_name else choose_device()
            try:
                tokenizer = AutoTokenizer.from_pretrained(self.path)
                model = load_classifier(self.path)
            except (OSError, ValueError) as err:
                raise ModelNotFoundError(f"Could not load tagger model {self.path}: {err}") from err
            model = model.float() if device.type == "cpu" else model.half()
            self._model = model.to(device).eval()
            self._tokenizer = tokenizer
            self._device = device
            if self.batch_size is None:
                self.batch_size = 16 if device.type == "cpu" else 64

    def task_slice(self, task: str) -> tuple[int, int] | None:
        """Output units of ``task`` (a single-group model serves any task), else ``None``."""
        start = 0
        for t, labels in self.tasks.items():
            if t == task:
                return start, start + len(labels)
            start += len(labels)
        if len(self.tasks) == 1:
            return 0, len(next(iter(self.tasks.values())))
        return None

    def labels_for(self, task: str) -> list[str]:
        """Label names of ``task`` in this model."""
        return self.tasks.get(task) or next(iter(self.tasks.values()))

    def logits(self, texts: Sequence[str], max_length: int) -> np.ndarray:
        """Raw logits ``(len(texts), num_labels)``, batched by similar length."""
        return self.run(texts, max_length).logits

    def word_scores(self, texts: Sequence[str], max_length: int) -> list[dict[str, float]]:
        """Per text, ``{word: P(the word carries bias)}`` from the model's biased-word head.

        A word's score is the highest of its word pieces'; words are lower-cased and split as
        BABE's ``biased_words`` were when the head was trained (``assistant.nlp.bias_words``).
        Empty dicts without a head.
        """
        if self.word_head is None:
            return [{} for _ in texts]
        scores = self.run(texts, max_length, words=True).word_scores
        assert scores is not None
        return scores

    def run(self, texts: Sequence[str], max_length: int, words: bool = False) -> TaggerOutput:
        """Logits, and with ``words`` the biased-word scores, from one encoder pass.

        The word head reads the same last hidden states the classifier pools, so asking for
        words costs a linear layer, not a second pass. ``words`` is ignored (``word_scores``
        stays ``None``) for a model without a head. Texts are batched by similar length.
        """
        import torch

        self.warm_up()
        head = self.word_head.to(self._device) if words and self.word_head is not None else None
        logits = np.zeros((len(texts), sum(len(v) for v in self.tasks.values())), dtype=np.float32)
        scores: list[dict[str, float]] | None = [{} for _ in texts] if head is not None else None
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        assert self.batch_size is not None  # set by warm_up
        with torch.inference_mode():
            for b in range(0, len(order), self.batch_size):
                idx = order[b : b + self.batch_size]
                batch = [texts[i] for i in idx]
                enc = self._tokenizer(
                    batch, truncation=True, max_length=max_length, padding=True,
                    return_offsets_mapping=head is not None, return_tensors="pt",
                )
                offsets = enc.pop("offset_mapping").tolist() if head is not None else None
                out = self._model(**enc.to(self._device), output_hidden_states=head is not None)
                logits[idx] = out.logits.float().cpu().numpy()
                if head is None:
                    continue
                hidden = out.hidden_states[-1].float()
                probs = torch.sigmoid(head(hidden).squeeze(-1)).cpu().numpy()
                for i, text, offs, p in zip(idx, batch, offsets, probs):
                    scores[i] = bias_words.word_scores(text, offs, p)
        return TaggerOutput(logits, scores)

    def probabilities(self, logits: np.ndarray, task: str) -> np.ndarray:
        """Softmax of ``task``'s slice of ``logits``."""
        sl = self.task_slice(task)
        if sl is None:
            raise ModelNotFoundError(f"Model {self.path} has no '{task}' output.")
        z = logits[:, sl[0] : sl[1]]
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)


class _Tagger:
    """Common part of the three taggers: a task of a :class:`TaggerModel`."""

    task = ""
    by_sentence = True
    wants_words = False  # whether aggregate uses the units' biased-word scores

    def __init__(self, model: TaggerModel | str | Path, max_length: int = 128) -> None:
        self.model = model if isinstance(model, TaggerModel) else TaggerModel(model)
        if self.model.task_slice(self.task) is None:
            raise ModelNotFoundError(f"Model {self.model.path} has no '{self.task}' output.")
        self.max_length = max_length

    @property
    def labels(self) -> tuple[str, ...]:
        """Label names in output order."""
        return tuple(self.model.labels_for(self.task))

    def units(self, passage: str) -> list[str]:
        """The texts the model classifies for one passage."""
        return split_sentences(passage) if self.by_sentence else (
            [passage.strip()] if passage.strip() else [])

    def aggregate(
        self, units: list[str], probs: np.ndarray, word_scores: Sequence[dict] | None = None
    ) -> dict[str, Any]:
        """Length-weighted mean probability over the units (``word_scores`` unused here)."""
        weights = np.array([len(u) for u in units], dtype=np.float64)
        mean = (probs * weights[:, None]).sum(axis=0) / weights.sum()
        best = int(mean.argmax())
        return {"label": self.labels[best], "score": round(float(mean[best]), 3)}

    def __call__(self, texts: list[str]) -> list[dict[str, Any]]:
        """Tag each passage; an empty passage gets ``{}``."""
        units = [self.units(t) for t in texts]
        flat = [u for us in units for u in us]
        output = self.model.run(flat, self.max_length, words=self.wants_words)
        probs = self.model.probabilities(output.logits, self.task)
        return _split_back(self, units, probs, output.word_scores)


def _split_back(
    tagger: _Tagger, units: list[list[str]], probs: np.ndarray,
    word_scores: Sequence[dict] | None = None,
) -> list[dict]:
    """``tagger.aggregate`` over each passage's slice of the flat per-unit results."""
    out, pos = [], 0
    for us in units:
        words = word_scores[pos : pos + len(us)] if word_scores is not None else None
        out.append(tagger.aggregate(us, probs[pos : pos + len(us)], words) if us else {})
        pos += len(us)
    return out


class SentimentTagger(_Tagger):
    """negative / neutral / positive: length-weighted mean over sentences."""

    task = "sentiment"


class TopicTagger(_Tagger):
    """business / entertainment / politics / sport / tech, from the passage as a whole."""

    task = "topic"
    by_sentence = False


class BiasTagger(_Tagger):
    """biased / not_biased: the most biased sentence decides; returns the loaded words."""

    task = "bias"
    wants_words = True

    def aggregate(
        self, units: list[str], probs: np.ndarray, word_scores: Sequence[dict] | None = None
    ) -> dict[str, Any]:
        """Max P(biased) over sentences, plus the words carrying it in the biased sentences.

        ``word_scores`` are the units' biased-word scores when they came with the logits;
        without them the words are computed here.
        """
        labels = self.labels
        biased = labels.index("biased") if "biased" in labels else len(labels) - 1
        p = probs[:, biased]
        top = float(p.max())
        if top >= 0.5:
            chosen = np.flatnonzero(p >= 0.5)
            scores = [word_scores[i] for i in chosen] if word_scores is not None else None
            words = self.biased_words([units[i] for i in chosen], scores)
            return {"label": labels[biased], "score": round(top, 3), "words": words}
        other = labels[1 - biased] if len(labels) == 2 else "not_biased"
        return {"label": other, "score": round(1.0 - top, 3), "words": []}

    def biased_words(
        self, sentences: list[str], word_scores: Sequence[dict[str, float]] | None = None
    ) -> list[str]:
        """The words carrying the bias in biased ``sentences``, most telling first.

        From the model's biased-word head when it has one (words scored at least
        ``WORD_THRESHOLD``; ``word_scores`` are those scores when already computed), else the
        words found in its ``bias_lexicon.json``.
        """
        found: dict[str, float] = {}
        if self.model.word_head is not None:
            if word_scores is None:
                word_scores = self.model.word_scores(sentences, self.max_length)
            candidates = [{w: q for w, q in c.items() if q >= WORD_THRESHOLD} for c in word_scores]
        else:
            lexicon = self.model.lexicon
            candidates = [{w: lexicon[w] for w in bias_words.word_tokens(s) if w in lexicon}
                          for s in sentences]
        for c in candidates:
            for w, q in c.items():
                found[w] = max(found.get(w, 0.0), q)
        return sorted(found, key=lambda w: -found[w])[:MAX_WORDS]


_TAGGER_CLASSES: dict[str, type[_Tagger]] = {
    "sentiment": SentimentTagger, "bias": BiasTagger, "topic": TopicTagger,
}


class PassageTagger:
    """All available taggers over passages, one forward pass per distinct model.

    Args:
        taggers: the task taggers to run (models shared between them run once).
        topic_max_length: tokens of the passage the topic model reads.
    """

    def __init__(self, taggers: Sequence[_Tagger], topic_max_length: int = 128) -> None:
        if not taggers:
            raise ValueError("PassageTagger needs at least one tagger")
        self.taggers = list(taggers)
        for t in self.taggers:
            if isinstance(t, TopicTagger):
                t.max_length = topic_max_length

    @classmethod
    def from_settings(cls, settings) -> PassageTagger | None:
        """Taggers from ``settings.{sentiment,bias,topic}_model`` or the bundled models.

        A task whose setting is ``None`` uses the bundled per-task model if there is one, else
        the bundled multi-task ``taggers`` model. Returns ``None`` when no task has a model.

        Raises:
            ModelNotFoundError: a model named in the settings does not exist or lacks the task.
        """
        models: dict[str, TaggerModel] = {}

        def model_at(path: str | Path) -> TaggerModel:
            key = str(Path(path).resolve())
            if key not in models:
                models[key] = TaggerModel(path)
            return models[key]

        taggers: list[_Tagger] = []
        for task in TASKS:
            ref = getattr(settings, f"{task}_model", None)
            path = model_path(task, ref, required=ref is not None)
            if path is None:
                continue
            taggers.append(_TAGGER_CLASSES[task](model_at(path)))
        return cls(taggers) if taggers else None

    @property
    def tasks(self) -> list[str]:
        """The tasks this tagger fills in."""
        return [t.task for t in self.taggers]

    def warm_up(self) -> None:
        """Load the models now."""
        for t in self.taggers:
            t.model.warm_up()

    def __call__(self, texts: list[str]) -> list[dict[str, Any]]:
        """One dict per passage: ``{"sentiment": {...}, "bias": {...}, "topic": {...}}``.

        Passages that are empty or whitespace get ``{}``.
        """
        out: list[dict[str, Any]] = [{} for _ in texts]
        groups: dict[int, list[_Tagger]] = {}
        for t in self.taggers:
            groups.setdefault(id(t.model), []).append(t)
        for taggers in groups.values():
            model = taggers[0].model
            # One padded pass over every unit (sentences and, for topic, whole passages) of
            # every passage for all tasks sharing this model.
            plan = [(t, [t.units(x) for x in texts]) for t in taggers]
            flat: list[str] = []
            lengths: list[int] = []
            for t, units in plan:
                for us in units:
                    flat += us
                    lengths += [t.max_length] * len(us)
            if not flat:
                continue
            # Each distinct (text, length) once: sentiment and bias read the same sentences, and
            # overlapping chunks repeat sentences.
            keys = list(zip(flat, lengths))
            distinct = {k: i for i, k in enumerate(dict.fromkeys(keys))}
            # Word scores come out of the same pass (for every unit: which sentences are
            # biased is only known from these logits, and the head costs a linear layer).
            result = _run_by_length(model, [t for t, _ in distinct], [n for _, n in distinct],
                                    words=any(t.wants_words for t in taggers))
            where = [distinct[k] for k in keys]
            logits = result.logits[where]
            scores = [result.word_scores[i] for i in where] if result.word_scores else None
            pos = 0
            for t, units in plan:
                n = sum(len(us) for us in units)
                probs = model.probabilities(logits[pos : pos + n], t.task)
                words = scores[pos : pos + n] if scores is not None and t.wants_words else None
                for i, tags in enumerate(_split_back(t, units, probs, words)):
                    if tags:
                        out[i][t.task] = tags
                pos += n
        return out


def _run_by_length(
    model: TaggerModel, texts: list[str], max_lengths: list[int], words: bool
) -> TaggerOutput:
    """:meth:`TaggerModel.run` for texts with different max lengths (a call per length)."""
    logits = np.zeros((len(texts), sum(len(v) for v in model.tasks.values())), dtype=np.float32)
    scores: list[dict[str, float]] | None = None
    for max_length in sorted(set(max_lengths)):
        idx = [i for i, m in enumerate(max_lengths) if m == max_length]
        part = model.run([texts[i] for i in idx], max_length, words=words)
        logits[idx] = part.logits
        if part.word_scores is not None:
            scores = scores if scores is not None else [{} for _ in texts]
            for i, s in zip(idx, part.word_scores):
                scores[i] = s
    return TaggerOutput(logits, scores)


def model_path(task: str, ref: str | None = None, required: bool = False) -> Path | None:
    """The model directory for ``task``: ``ref`` if given, else bundled ``task`` or ``taggers``.

    Args:
        task: sentiment, bias, topic or sst2.
        ref: bundled name (``taggers``, ``sentiment`` ...), model directory, or ``None``.
        required: raise instead of returning ``None`` when nothing is found.

    Raises:
        ModelNotFoundError: ``ref`` does not exist, or nothing found and ``required``.
    """
    from assistant.nlp.models import bundled_model_dir, resolve_model

    if ref is not None:
        if ref == TAGGER_BUNDLE:
            found = bundled_model_dir(TAGGER_BUNDLE)
            if found is None:
                raise ModelNotFoundError("The bundled 'taggers' model is missing.")
            return found
        resolved = Path(resolve_model(ref, task))
        if not (resolved / "config.json").is_file():
            raise ModelNotFoundError(f"Tagger model {ref} is not a local model directory.")
        return resolved
    for name in (task, TAGGER_BUNDLE) if task != "sst2" else (task,):
        found = bundled_model_dir(name)
        if found is not None and TaggerModel(found).task_slice(task) is not None:
            return found
    if required:
        raise ModelNotFoundError(
            f"No {task} model is bundled; train one with `answerspan train classifier` "
            "and pass its directory with --model."
        )
    return None


def default_model_for(task: str, ref: str | None = None) -> Path:
    """Model directory for ``evaluate classifier``: ``ref`` or the bundled one (must exist)."""
    path = model_path(task, ref, required=True)
    assert path is not None
    return path
