"""Reader accuracy against its reading settings: window length, stride, longest answer.

Scores the same reader with several settings on every k-th question of SQuAD v1.1 dev (every
article is represented), so that a setting is chosen by measurement. Each setting is
``MAX_LENGTH,STRIDE,MAX_ANSWER_TOKENS``.

    python bench/reader_windows.py [--model DIR] [--every 5] [--threads 2] 256,96,30 384,128,30
"""

from __future__ import annotations

import argparse
import json
import time

# The latency benchmark beside this file sets the offline environment and knows the dev file.
from reader_latency import DEFAULT_SQUAD


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", nargs="+", help="MAX_LENGTH,STRIDE,MAX_ANSWER_TOKENS")
    parser.add_argument("--model", default=None, help="reader (default: bundled)")
    parser.add_argument("--squad", default=str(DEFAULT_SQUAD))
    parser.add_argument("--every", type=int, default=5, help="score every k-th question")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    from assistant.nlp.models import bundled_model_dir, set_torch_threads
    from assistant.nlp.reader import Reader
    from assistant.nlp.training.squad_data import load_examples
    from assistant.nlp.training.squad_metrics import squad_scores

    set_torch_threads(args.threads)
    examples = load_examples(args.squad)[:: args.every]
    golds = {str(i): e.answer_texts for i, e in enumerate(examples)}
    model = args.model or str(bundled_model_dir("reader"))
    for setting in args.settings:
        max_length, stride, max_answer = (int(x) for x in setting.split(","))
        reader = Reader(model, max_length=max_length, stride=stride, max_answer_tokens=max_answer)
        reader.warm_up()
        started = time.perf_counter()
        preds = reader.predict_pairs([e.question for e in examples], [e.context for e in examples])
        scores = squad_scores({str(i): p.text for i, p in enumerate(preds)}, golds)
        print(json.dumps({"setting": setting, "questions": len(examples),
                          "em": round(scores["em"], 2), "f1": round(scores["f1"], 2),
                          "seconds": round(time.perf_counter() - started, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
