"""Reader F1 against its span decoding: joined windows, answer pooling, the length prior.

Runs the reader once over SQuAD v1.1 dev (or every k-th question) and decodes the same logits
several ways, so each refinement of ``assistant.nlp.reader`` is measured alone and together.
Scores are given on all questions and on the two halves of the paragraphs (even and odd, in
file order): ``--choose-on even`` picks the length penalty on one half, to report it on the
other without having chosen on it.

    python bench/reader_decoding.py [--model DIR] [--every 1] [--penalties 0 0.02 0.04 0.06 0.08]
        [--store]

``--store`` writes the chosen penalty into the reader's ``answerspan.json``
(``span_length_penalty``), where ``assistant.nlp.reader.Reader`` reads it.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

# The latency benchmark beside this file sets the offline environment and knows the dev file.
from reader_latency import DEFAULT_SQUAD


def decode(windows, logits, contexts, n_best: int, max_tokens: int, *, join: bool, pool: bool,
           penalty: float) -> list[str]:
    """The best answer text per pair under one decoding choice."""
    from assistant.nlp.training.qa_features import best_spans, merge_windows, pool_same_answers

    cands: list[list] = [[] for _ in contexts]
    parts = merge_windows(windows, logits) if join else [
        (w, s, e) for w, (s, e) in zip(windows, logits, strict=True)]
    for w, s, e in parts:
        cands[w.pair_index] += best_spans(w, s, e, n_best, max_tokens, penalty)[0]
    texts = []
    for i, found in enumerate(cands):
        if pool:
            found = pool_same_answers(found, contexts[i])
        best = max(found, key=lambda c: c.score, default=None)
        texts.append(contexts[i][best.start : best.end] if best else "")
    return texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="reader (default: bundled)")
    parser.add_argument("--squad", default=str(DEFAULT_SQUAD))
    parser.add_argument("--every", type=int, default=1, help="score every k-th question")
    parser.add_argument("--penalties", type=float, nargs="+", default=[0, 0.02, 0.04, 0.06, 0.08])
    parser.add_argument("--choose-on", choices=["even", "odd"], default="even")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--store", action="store_true",
                        help="write the chosen penalty into the reader's answerspan.json")
    args = parser.parse_args(argv)

    from assistant.nlp.models import bundled_model_dir, set_torch_threads, update_model_settings
    from assistant.nlp.reader import Reader
    from assistant.nlp.training.qa_features import encode_windows
    from assistant.nlp.training.squad_data import load_examples
    from assistant.nlp.training.squad_metrics import score_question

    set_torch_threads(args.threads)
    examples = load_examples(args.squad)[:: args.every]
    model = args.model or str(bundled_model_dir("reader"))
    reader = Reader(model)
    reader.warm_up()
    started = time.perf_counter()
    contexts = [e.context for e in examples]
    windows = encode_windows(reader._tokenizer, [e.question for e in examples], contexts,
                             reader._max_length, reader._stride)
    logits = reader._logits(windows)
    paragraph = {c: i for i, c in enumerate(dict.fromkeys(contexts))}
    half = np.array([paragraph[c] % 2 for c in contexts])
    several = np.bincount([w.pair_index for w in windows], minlength=len(examples)) > 1
    print(json.dumps({"questions": len(examples), "windows": len(windows),
                      "several_windows": int(several.sum()),
                      "seconds": round(time.perf_counter() - started, 1)}), flush=True)

    def f1_of(**choice) -> dict:
        texts = decode(windows, logits, contexts, 20, reader.max_answer_tokens, **choice)
        f1 = 100 * np.array([score_question(t, e.answer_texts)[1]
                             for t, e in zip(texts, examples, strict=True)])
        return {**choice, "f1": round(f1.mean(), 2), "even": round(f1[half == 0].mean(), 2),
                "odd": round(f1[half == 1].mean(), 2),
                "several_windows_f1": round(f1[several].mean(), 2)}

    for join, pool in ((False, False), (True, False), (False, True)):
        print(json.dumps(f1_of(join=join, pool=pool, penalty=0.0)), flush=True)
    rows = [f1_of(join=True, pool=True, penalty=p) for p in args.penalties]
    for row in rows:
        print(json.dumps(row), flush=True)
    chosen = max(rows, key=lambda r: r[args.choose_on])
    other = "odd" if args.choose_on == "even" else "even"
    print(json.dumps({"chosen_on": args.choose_on, "penalty": chosen["penalty"],
                      f"f1_{other}": chosen[other], "f1_all": chosen["f1"]}), flush=True)
    if args.store:
        update_model_settings(model, lambda settings: settings.update(
            {"span_length_penalty": chosen["penalty"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
