"""Indexing speed: how soon documents can be asked about, tagging while indexing vs. after.

Indexes the given files into a fresh temporary library, as the CLI does (tags computed while
indexing) and as the app does (``tag_later``: indexed untagged, then tagged in background steps
of ``--step`` passages). Runs alternate between the two ways; reports the median seconds until
the files are searchable, the median seconds of the whole tagging afterwards, and the median and
longest background step (the longest a question asked meanwhile waits for the worker). The
models are loaded and warmed up before the first timed run.

    python bench/indexing.py [FILES ...] [--repeats 3] [--step 16] [--threads 2] [--json]

Default files: three real PDFs and three news articles from ../shared/docs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO.parent / "shared" / "docs"
DEFAULT_FILES = [
    DOCS / "pdf" / "NewsMTSC-preprint.pdf",
    DOCS / "pdf" / "annotation_guidelines_BABE.pdf",
    DOCS / "pdf" / "cupertino_usd_4-6-16.pdf",
    DOCS / "news" / "bbc-business_001.txt",
    DOCS / "news" / "bbc-politics_001.txt",
    DOCS / "news" / "basil-2010-07-02_nyt_2b95d2cf-e979-4f9c-ae27-9a5370934f23_1.txt",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each way")
    parser.add_argument("--step", type=int, default=16, help="passages per background step")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import torch

    from assistant.config import Settings
    from assistant.nlp.models import set_torch_threads
    from assistant.service import Assistant
    from retrieval.library import Library

    set_torch_threads(args.threads)
    # One embedder and one tagger for every run, loaded once: only indexing is timed.
    with tempfile.TemporaryDirectory(prefix="answerspan-bench-") as tmp:
        models = Assistant(Settings(library_dir=Path(tmp)))
        embedder, tagger = models.library.embedder, models.tagger
        models.close()
    if tagger is None:
        raise SystemExit("no tagger model is bundled: nothing to compare")
    results: dict[str, list[float]] = {"inline": [], "later": [], "tagging": []}
    steps: list[float] = []
    chunks = pages = 0
    for run in range(-1, args.repeats):  # run -1 warms the models up, untimed
        for way in ("inline", "later"):
            with tempfile.TemporaryDirectory(prefix="answerspan-bench-") as tmp, \
                    Library(Path(tmp), embedder, tagger=tagger, tag_later=way == "later") as lib:
                started = time.perf_counter()
                reports = lib.add(args.files)
                searchable = time.perf_counter() - started
                tagging = 0.0
                if way == "later":
                    while True:
                        step_started = time.perf_counter()
                        if not lib.tag_pending(args.step):
                            break
                        took = time.perf_counter() - step_started
                        tagging += took
                        if run >= 0:
                            steps.append(took)
            bad = [r for r in reports if not r.ok]
            if bad:
                raise SystemExit(f"could not index {bad[0].path}: {bad[0].reason}")
            chunks, pages = sum(r.chunks for r in reports), sum(r.pages for r in reports)
            if run >= 0:
                results[way].append(searchable)
                if way == "later":
                    results["tagging"].append(tagging)

    inline, later = statistics.median(results["inline"]), statistics.median(results["later"])
    result = {
        "files": len(args.files),
        "pages": pages,
        "passages": chunks,
        "repeats": args.repeats,
        "torch_threads": torch.get_num_threads(),
        "tagging_inline_searchable_s": round(inline, 2),
        "tagging_later_searchable_s": round(later, 2),
        "searchable_sooner_ratio": round(inline / later, 2),
        "tagging_afterwards_s": round(statistics.median(results["tagging"]), 2),
        "step_passages": args.step,
        "step_median_s": round(statistics.median(steps), 2),
        "step_max_s": round(max(steps), 2),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['files']} files, {pages} pages, {chunks} passages "
              f"({args.repeats} runs each, {result['torch_threads']} threads)")
        print(f"  searchable after: {inline:.1f} s tagging while indexing, {later:.1f} s tagging "
              f"later ({result['searchable_sooner_ratio']}x sooner)")
        print(f"  tagging afterwards: {result['tagging_afterwards_s']} s in steps of {args.step} "
              f"passages (median {result['step_median_s']} s, longest {result['step_max_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
