"""Reader latency: one question over 5 chunk-sized passages, on CPU, many repetitions.

The passages are real SQuAD v1.1 dev paragraphs (about the size of a library chunk, ~150-200
word pieces) and the question belongs to one of them, as after retrieval. Reports the median
and p90 of ``Reader.read`` wall time (model already loaded and warmed up).

    python bench/reader_latency.py [--model DIR] [--passages 5] [--repeats 30] [--threads 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SQUAD = REPO.parent / "shared" / "data" / "qa" / "squad-v1.1-dev.json.gz"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="reader (default: bundled)")
    parser.add_argument("--squad", default=str(DEFAULT_SQUAD), help="source of the passages")
    parser.add_argument("--passages", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--questions", type=int, default=5, help="different questions to cycle")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import torch

    from assistant.nlp.models import resolve_model, set_torch_threads
    from assistant.nlp.reader import Reader
    from assistant.nlp.training.squad_data import load_examples
    from retrieval.types import Chunk, Hit

    set_torch_threads(args.threads)
    examples = load_examples(args.squad, limit=400)
    paragraphs = list(dict.fromkeys(e.context for e in examples))
    cases = []
    for q in range(args.questions):
        ctxs = paragraphs[q * args.passages : (q + 1) * args.passages]
        question = next(e.question for e in examples if e.context == ctxs[q % len(ctxs)])
        hits = [Hit(Chunk(0, 1, 0, len(c), c), 1.0, "bench") for c in ctxs]
        cases.append((question, hits))
    reader = Reader(resolve_model(args.model, "reader"))
    reader.warm_up()
    for question, hits in cases[:2]:
        reader.read(question, hits)  # warm-up: first calls allocate and pick kernels
    times = []
    for i in range(args.repeats):
        question, hits = cases[i % len(cases)]
        started = time.perf_counter()
        reader.read(question, hits)
        times.append(1000 * (time.perf_counter() - started))
    times.sort()
    result = {
        "model": reader.model_ref,
        "passages": args.passages,
        "repeats": args.repeats,
        "torch_threads": torch.get_num_threads(),
        "median_ms": round(statistics.median(times), 1),
        "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1),
        "min_ms": round(times[0], 1),
        "passage_chars_mean": round(
            statistics.mean(len(h.chunk.text) for _, hits in cases for h in hits)
        ),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"reader latency over {args.passages} passages ({args.repeats} runs, "
              f"{result['torch_threads']} threads): median {result['median_ms']} ms, "
              f"p90 {result['p90_ms']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
