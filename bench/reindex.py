"""Re-indexing a changed file: time to index a long text document, then to re-index it after
a paragraph was added at its end (only the changed passages are embedded and tagged again).

The document is the text of a real PDF from ../shared/docs written out as a .txt (a long notes
file that grows). Tags are computed while indexing, as ``answerspan index`` does. Models are
loaded and warmed up first; each way is timed ``--repeats`` times in fresh libraries and the
medians are reported.

    python bench/reindex.py [--pdf FILE] [--repeats 3] [--threads 2] [--json]
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
DEFAULT_PDF = REPO.parent / "shared" / "docs" / "pdf" / "quiet-star-2403.09629.pdf"
ADDED = ("\n\nNote added after review: the authors released the code and the trained models, "
         "and a follow-up study repeated the main experiment on a larger model.\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", type=Path, default=DEFAULT_PDF, help="source of the text")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from assistant.config import Settings
    from assistant.nlp.models import set_torch_threads
    from assistant.service import Assistant
    from retrieval.library import Library
    from retrieval.loaders import load_document

    set_torch_threads(args.threads)
    text = "\n\n".join(p.text for p in load_document(args.pdf).pages)
    with tempfile.TemporaryDirectory(prefix="answerspan-bench-") as tmp:
        models = Assistant(Settings(library_dir=Path(tmp)))
        embedder, tagger = models.library.embedder, models.tagger
        models.close()
    first, again, kept, passages = [], [], 0, 0
    for run in range(-1, args.repeats):  # run -1 warms the models up, untimed
        with tempfile.TemporaryDirectory(prefix="answerspan-bench-") as tmp:
            notes = Path(tmp) / "notes.txt"
            notes.write_text(text, encoding="utf-8")
            with Library(Path(tmp) / "lib", embedder, tagger=tagger) as lib:
                started = time.perf_counter()
                lib.add([notes])
                indexed = time.perf_counter() - started
                notes.write_text(text + ADDED, encoding="utf-8")
                started = time.perf_counter()
                (report,) = lib.add([notes])
                updated = time.perf_counter() - started
        if report.status != "updated":
            raise SystemExit(f"expected an update, got {report.status}: {report.reason}")
        kept, passages = report.kept, report.chunks
        if run >= 0:
            first.append(indexed)
            again.append(updated)
    result = {
        "source": args.pdf.name,
        "characters": len(text),
        "passages": passages,
        "passages_kept": kept,
        "repeats": args.repeats,
        "index_s": round(statistics.median(first), 2),
        "reindex_after_edit_s": round(statistics.median(again), 2),
        "ratio": round(statistics.median(first) / statistics.median(again), 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{args.pdf.name} as text: {passages} passages; indexed in {result['index_s']} s, "
              f"re-indexed after an added paragraph in {result['reindex_after_edit_s']} s "
              f"({kept} passages kept, {result['ratio']}x faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
