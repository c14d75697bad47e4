"""Which words carry the bias: the bias model's biased-word head against the BABE lexicon.

Scores the words each method returns for the biased sentences of the held-out dev split (the
split `train classifier` kept out, same seed) against the words BABE annotators marked, micro
precision / recall / F1 over (sentence, word) pairs. Both methods are given the gold-biased
sentences, so this measures word finding, not sentence classification. "top 5" is what the app
shows (``assistant.nlp.taggers.MAX_WORDS``).

    python bench/bias_words.py [--model resources/models/bias] [--thresholds 0.3 0.5 0.7]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from assistant.nlp.bias_words import word_tokens
from assistant.nlp.models import bundled_model_dir, set_torch_threads
from assistant.nlp.taggers import MAX_WORDS, TaggerModel
from assistant.nlp.training.classify_data import read_examples, stratified_split

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "../shared/data/bias/babe-sg2-train.csv"


def score(predicted: list[list[str]], gold: list[set[str]]) -> dict[str, float]:
    """Micro precision, recall and F1 over (sentence, word) pairs."""
    hits = sum(len(set(p) & g) for p, g in zip(predicted, gold))
    n_pred, n_gold = sum(len(set(p)) for p in predicted), sum(len(g) for g in gold)
    precision = hits / n_pred if n_pred else 0.0
    recall = hits / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3),
            "words_per_sentence": round(n_pred / len(predicted), 2)}


def ranked(scores: dict[str, float], threshold: float = 0.0, top: int | None = None) -> list[str]:
    words = sorted((w for w, q in scores.items() if q >= threshold), key=lambda w: -scores[w])
    return words[:top] if top else words


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="bias model (default: bundled)")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--held-out", type=float, default=0.15)
    ap.add_argument("--seed", type=int, default=13, help="seed of the training's dev split")
    ap.add_argument("--thresholds", type=float, nargs="+", default=[0.3, 0.5, 0.7])
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    set_torch_threads(args.threads)
    model = TaggerModel(args.model or bundled_model_dir("bias") or sys.exit("no bias model"))
    _, dev = stratified_split(read_examples(args.data, "bias"), args.held_out, args.seed)
    dev = [e for e in dev if e.label == "biased" and e.words]
    gold = [{t for w in e.words for t in word_tokens(w)} for e in dev]
    texts = [e.text for e in dev]

    rows: dict[str, dict[str, float]] = {}
    lexicon = model.lexicon
    lex = [{w: lexicon[w] for w in word_tokens(t) if w in lexicon} for t in texts]
    rows["lexicon, all"] = score([ranked(s) for s in lex], gold)
    rows[f"lexicon, top {MAX_WORDS}"] = score([ranked(s, top=MAX_WORDS) for s in lex], gold)
    if model.word_head is not None:
        head = model.word_scores(texts, 128)
        for t in args.thresholds:
            rows[f"head >= {t}, top {MAX_WORDS}"] = score(
                [ranked(s, t, MAX_WORDS) for s in head], gold)
        rows["head, best 1"] = score([ranked(s, top=1) for s in head], gold)
    print(json.dumps({"model": str(model.path), "sentences": len(dev),
                      "gold_words": sum(map(len, gold)), "methods": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
