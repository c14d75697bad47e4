"""CLI commands of the library area: ``index``, ``remove``, ``list``, ``search``, ``demo`` and
``evaluate retrieval``."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

from assistant.commands import add_document_option, add_library_option

SEARCH_MODES = ("hybrid", "dense", "lexical")
DEMO_QUESTION = "How much water does the Larkspur reservoir hold?"


def register(
    commands: argparse._SubParsersAction,
    train: argparse._SubParsersAction,
    evaluate: argparse._SubParsersAction,
) -> None:
    """Add this area's commands to the parser."""
    p = commands.add_parser(
        "index", help="add files and folders to the library (re-indexes changed files)"
    )
    add_library_option(p)
    p.add_argument("--json", action="store_true", help="print the per-file report as JSON")
    p.add_argument(
        "--no-tags", action="store_true",
        help="leave sentiment/bias/topic tagging for later (3x faster; `ask` tags the passages "
             "it shows, the app tags the rest in the background)",
    )
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="files or folders (searched recursively)"
    )
    p.set_defaults(handler=_index)

    p = commands.add_parser("remove", help="remove documents (or every document under a folder)")
    add_library_option(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(handler=_remove)

    p = commands.add_parser("list", help="list the documents in the library")
    add_library_option(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_list)

    p = commands.add_parser("search", help="find the passages that best match a question")
    add_library_option(p)
    p.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    p.add_argument(
        "--mode",
        choices=SEARCH_MODES,
        default="hybrid",
        help="hybrid (default), dense (vectors only) or lexical (BM25 only)",
    )
    add_document_option(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("question", nargs="+")
    p.set_defaults(handler=_search)

    p = commands.add_parser(
        "demo", help="index the bundled sample documents into a temporary library and ask"
    )
    p.add_argument("--question", default=DEMO_QUESTION, help=f"default: {DEMO_QUESTION!r}")
    p.set_defaults(handler=_demo)

    e = evaluate.add_parser("retrieval", help="passage recall@k and latency on SQuAD paragraphs")
    e.add_argument("--squad", required=True, metavar="FILE", help="SQuAD .json or .json.gz")
    e.add_argument(
        "--limit", type=int, default=None, metavar="N", help="ask only the first N questions"
    )
    e.add_argument(
        "--articles",
        type=int,
        default=None,
        metavar="N",
        help="use only the first N articles (a smaller corpus; for quick checks)",
    )
    e.add_argument("--mode", choices=(*SEARCH_MODES, "all"), default="hybrid")
    e.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    e.add_argument("--json", action="store_true", help="print JSON")
    e.set_defaults(handler=_evaluate)


# -- helpers ---------------------------------------------------------------------------------
def _assistant(args: argparse.Namespace, tags: bool = False):
    from assistant.config import Settings
    from assistant.service import Assistant

    # Tags are only computed while indexing; other commands need no tagger models.
    return Assistant(Settings(library_dir=args.library, tag_passages=tags))


def _report_json(report) -> dict:
    return {
        "path": report.path,
        "status": report.status,
        "reason": report.reason,
        "pages": report.pages,
        "passages": report.chunks,
        "passages_kept": report.kept,
    }


def _print_reports(reports, as_json: bool, library: Path) -> None:
    counts = Counter(r.status for r in reports)
    if as_json:
        print(
            json.dumps(
                {
                    "library": str(library),
                    "files": [_report_json(r) for r in reports],
                    "summary": dict(counts),
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    for r in reports:
        detail = f": {r.reason}" if r.reason else ""
        if r.status in ("added", "updated", "unchanged"):
            kept = f", {r.kept_text}" if r.kept_text else ""
            detail = f" ({r.pages} pages, {r.chunks} passages{kept})"
        print(f"{r.status:<9} {r.path}{detail}")
    print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to do")


class _ProgressBar:
    """A tqdm bar on stderr driven by the library's ``(done, total, path)`` callback."""

    def __init__(self) -> None:
        from tqdm import tqdm

        # disable=None: no bar when stderr is not a terminal (pipes, tests, CI logs).
        self.bar = tqdm(total=0, unit="file", file=sys.stderr, disable=None, leave=False)

    def __call__(self, done: int, total: int, path: str) -> None:
        self.bar.total = total
        self.bar.n = done
        self.bar.set_postfix_str(Path(path).name if path else "", refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


# -- commands --------------------------------------------------------------------------------
def _index(args: argparse.Namespace) -> int:
    assistant = _assistant(args, tags=not args.no_tags)
    bar = _ProgressBar()
    try:
        reports = assistant.ingest([Path(p) for p in args.paths], progress=bar)
    finally:
        bar.close()
        assistant.close()
    _print_reports(reports, args.json, assistant.settings.library_dir)
    return 0 if all(r.ok for r in reports) else 1


def _remove(args: argparse.Namespace) -> int:
    assistant = _assistant(args)
    try:
        reports = assistant.remove([Path(p) for p in args.paths])
    finally:
        assistant.close()
    _print_reports(reports, args.json, assistant.settings.library_dir)
    return 0 if all(r.ok for r in reports) else 1


def _list(args: argparse.Namespace) -> int:
    assistant = _assistant(args)
    try:
        docs = assistant.documents()
    finally:
        assistant.close()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "path": d.path,
                        "kind": d.kind,
                        "title": d.title,
                        "pages": d.pages,
                        "passages": d.chunks,
                        "added_at": d.added_at,
                        "content_hash": d.content_hash,
                    }
                    for d in docs
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    if not docs:
        print(f"The library at {assistant.settings.library_dir} is empty.")
    for d in docs:
        print(f"{d.pages:>5} pages {d.chunks:>6} passages  {d.added_at}  {d.path}")
    return 0


def _hit_json(hit) -> dict:
    c = hit.chunk
    return {
        "document": hit.document,
        "page": c.page,
        "start": c.start,
        "end": c.end,
        "score": round(float(hit.score), 6),
        "text": c.text,
        "tags": c.tags,
    }


def _print_hits(hits) -> None:
    for rank, hit in enumerate(hits, start=1):
        page = f", page {hit.chunk.page}" if hit.chunk.page is not None else ""
        text = " ".join(hit.chunk.text.split())
        print(f"{rank}. [{hit.score:.4f}] {hit.document}{page}")
        print(f"   {text[:300]}{'…' if len(text) > 300 else ''}")


def _search(args: argparse.Namespace) -> int:
    question = " ".join(args.question)
    if args.k < 1:
        print("answerspan: error: -k must be at least 1", file=sys.stderr)
        return 2
    assistant = _assistant(args)
    try:
        hits = assistant.search(question, k=args.k, mode=args.mode, documents=args.documents)
    finally:
        assistant.close()
    if args.json:
        print(
            json.dumps(
                {"question": question, "mode": args.mode, "hits": [_hit_json(h) for h in hits]},
                indent=2,
                ensure_ascii=False,
            )
        )
    elif not hits:
        print("No passage matches (is the library empty?).")
    else:
        _print_hits(hits)
    return 0


def _demo(args: argparse.Namespace) -> int:
    import importlib.util

    from assistant.config import Settings
    from assistant.nlp.models import bundled_model_dir, resources_dir
    from assistant.service import Assistant

    samples = resources_dir() / "samples"
    files = sorted(p for p in samples.iterdir() if p.suffix in (".pdf", ".md", ".txt", ".html"))
    tags = importlib.util.find_spec("assistant.nlp.taggers") is not None
    with tempfile.TemporaryDirectory(prefix="answerspan-demo-") as tmp:
        assistant = Assistant(Settings(library_dir=Path(tmp), tag_passages=tags))
        try:
            print(f"Indexing the sample documents in {samples} ...")
            reports = assistant.ingest(files)
            _print_reports(reports, False, Path(tmp))
            print(f"\nQuestion: {args.question}\n\nBest passages:")
            hits = assistant.search(args.question, k=3)
            _print_hits(hits)
            if bundled_model_dir("reader") is None:
                print("\n(No bundled reader model: showing passages only.)")
                return 0
            result = assistant.ask(args.question)
            print()
            if result.no_answer:
                print("Answer: the sample documents do not seem to answer this.")
                if result.best_guess is not None:
                    g = result.best_guess
                    print(f"Closest guess (not confident): {g.text!r} "
                          f"({Path(g.document).name})")
            for a in result.answers:
                page = f", page {a.page}" if a.page is not None else ""
                print(f"Answer: {a.text!r}  ({Path(a.document).name}{page}, score {a.score:.2f})")
                s, e = a.start - a.context_start, a.end - a.context_start
                context = " ".join(f"{a.context[:s]}[[{a.context[s:e]}]]{a.context[e:]}".split())
                print(f"   {context}")
        finally:
            assistant.close()
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from assistant.nlp.models import base_model_path, set_torch_threads
    from retrieval.evaluation import evaluate_retrieval

    set_torch_threads(args.threads)
    modes = SEARCH_MODES if args.mode == "all" else (args.mode,)
    result = evaluate_retrieval(
        Path(args.squad),
        base_model_path(),
        modes=modes,
        limit=args.limit,
        articles=args.articles,
        progress=sys.stderr.isatty(),
    )
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{result['questions']} questions over {result['passages']} passages "
        f"({result['documents']} documents, indexed in {result['index_seconds']:.1f} s)"
    )
    for mode, r in result["modes"].items():
        print(
            f"{mode:<8} recall@1 {r['recall_at_1']:.3f}  @5 {r['recall_at_5']:.3f}  "
            f"@10 {r['recall_at_10']:.3f}  p50 {r['p50_ms']:.1f} ms  p95 {r['p95_ms']:.1f} ms"
        )
    return 0
