"""Classifier commands: ``train classifier`` (taggers, SST-2 plain loop), ``evaluate classifier``.

Files are given as ``FILE`` (for the single ``--task``) or ``TASK=FILE`` when ``--task`` names
several tasks (``--task sentiment,bias,topic`` trains the bundled multi-task ``taggers`` model).
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
import time
from pathlib import Path

from assistant.errors import ConfigError

log = logging.getLogger(__name__)

SINGLE_TASKS = ("sentiment", "bias", "topic", "sst2")


def register(
    commands: argparse._SubParsersAction,
    train: argparse._SubParsersAction,
    evaluate: argparse._SubParsersAction,
) -> None:
    """Add this area's commands to the parser."""
    p = train.add_parser(
        "classifier",
        help="fine-tune a sentiment / bias / topic tagger (or several at once)",
        description="Fine-tune a classifier. --task sst2 uses the plain PyTorch loop; "
        "--task sentiment,bias,topic trains one multi-task model (the bundled 'taggers').",
    )
    p.add_argument("--task", required=True,
                   help="sentiment, bias, topic, sst2, or a comma list of the first three")
    p.add_argument("--train", nargs="+", required=True, metavar="[TASK=]FILE",
                   help="training files (CSV/TSV/jsonl/PTB as in ../shared/data)")
    p.add_argument("--dev", nargs="*", default=[], metavar="[TASK=]FILE",
                   help="extra dev files scored each epoch (besides the held-out splits)")
    p.add_argument("--dev-fraction", type=float, default=0.15,
                   help="stratified dev split held out of each train file (0 = none; default 0.15)")
    p.add_argument("--base", default="base", help="base model (default: the bundled MiniLM)")
    p.add_argument("--out", required=True, type=Path, help="output model directory")
    p.add_argument("--epochs", type=float, default=3.0)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-length", nargs="+", default=["128"], metavar="[TASK=]N",
                   help="max tokens, e.g. 64 topic=128 (default 128)")
    p.add_argument("--limit-train", type=int, default=None,
                   help="at most N (stratified) training examples per train file")
    p.add_argument("--limit-dev", type=int, default=None,
                   help="score at most N (stratified) examples of each dev set")
    p.add_argument("--max-steps", type=int, default=-1, help="stop after N optimizer steps")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--no-class-weights", action="store_true",
                   help="plain cross-entropy instead of class-weighted")
    p.add_argument("--word-loss", type=float, default=0.0, metavar="W",
                   help="bias: also learn to tag BABE's biased words, this loss weight "
                        "(the saved model stays a plain classifier; the word head is saved beside it "
                        "and names the words that carry the bias)")
    p.add_argument("--freeze-word-embeddings", action="store_true",
                   help="keep the base's word embeddings (not trained)")
    p.set_defaults(handler=_train)

    e = evaluate.add_parser(
        "classifier", help="accuracy, macro-F1 and confusion matrix of a tagger on a file"
    )
    e.add_argument("--task", required=True, choices=SINGLE_TASKS)
    e.add_argument("--data", required=True, type=Path,
                   help="a shared-format file or a CSV with text,label columns")
    e.add_argument("--model", default=None,
                   help="model directory or bundled name (default: the bundled tagger)")
    e.add_argument("--limit", type=int, default=None, help="score only the first N examples")
    e.add_argument("--held-out", type=float, default=None, metavar="FRACTION",
                   help="score only the stratified dev split that training held out of this "
                   "train file (e.g. 0.15, with the training --seed)")
    e.add_argument("--seed", type=int, default=13, help="seed of the --held-out split")
    e.add_argument("--max-length", type=int, default=None,
                   help="max tokens (default 128, what the bundled tagger was trained with)")
    e.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    e.add_argument("--json", action="store_true", help="print the report as JSON")
    e.add_argument("--plot", type=Path, default=None, metavar="PNG",
                   help="write the confusion matrix as a picture (needs matplotlib)")
    e.set_defaults(handler=_evaluate)

    s = evaluate.add_parser(
        "tagging", help="time passage tagging on documents (indexing time it adds per page)"
    )
    s.add_argument("paths", nargs="+", type=Path, help="PDF / txt / md / html files")
    s.add_argument("--model", default=None,
                   help="tagger model directory (default: the bundled taggers)")
    s.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    s.add_argument("--json", action="store_true", help="print the timings as JSON")
    s.set_defaults(handler=_tagging_speed)


def _parse_tasks(raw: str) -> list[str]:
    tasks = [t.strip() for t in raw.split(",") if t.strip()]
    if not tasks or len(set(tasks)) != len(tasks):
        raise ConfigError(f"--task {raw!r}: give one task or a comma list without repeats.")
    for t in tasks:
        if t not in SINGLE_TASKS:
            raise ConfigError(f"Unknown task '{t}'; choose from {', '.join(SINGLE_TASKS)}.")
    if len(tasks) > 1 and "sst2" in tasks:
        raise ConfigError("sst2 trains alone (with the plain PyTorch loop).")
    return tasks


def _pairs(items: list[str], tasks: list[str], what: str) -> list[tuple[str, str]]:
    """``TASK=FILE`` or ``FILE`` (only with a single task) -> (task, file)."""
    out = []
    for item in items:
        task, sep, path = item.partition("=")
        if sep and task in SINGLE_TASKS:
            out.append((task, path))
        elif len(tasks) == 1:
            out.append((tasks[0], item))
        else:
            raise ConfigError(f"{what} {item!r}: write TASK=FILE when training several tasks.")
    return out


def _lengths(items: list[str]) -> tuple[int, dict[str, int]]:
    default, per_task = 128, {}
    try:
        for item in items:
            task, sep, n = item.partition("=")
            if sep:
                per_task[task] = int(n)
            else:
                default = int(item)
    except ValueError:
        raise ConfigError(f"--max-length {' '.join(items)}: numbers, or TASK=N.") from None
    return default, per_task


def _train(args: argparse.Namespace) -> int:

    from assistant.nlp.models import resolve_model, set_torch_threads

    tasks = _parse_tasks(args.task)
    set_torch_threads(args.threads)
    base = resolve_model(args.base, "base")
    command = "answerspan " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    default_len, per_task = _lengths(args.max_length)
    train_pairs = _pairs(args.train, tasks, "--train")
    dev_pairs = _pairs(args.dev, tasks, "--dev")
    started = time.perf_counter()
    if tasks == ["sst2"]:
        from assistant.nlp.training.plain_loop import PlainLoopConfig, train_sst2

        cfg = PlainLoopConfig(
            base=base, out=args.out, epochs=int(max(1, round(args.epochs))), lr=args.lr,
            batch_size=args.batch_size, max_length=default_len, limit_train=args.limit_train,
            limit_dev=args.limit_dev,
            seed=args.seed, threads=args.threads, command=command,
            max_steps=args.max_steps if args.max_steps > 0 else None,
        )
        summary = train_sst2([p for _, p in train_pairs], [p for _, p in dev_pairs], cfg)
        print(f"dev accuracy {summary['dev_accuracy']:.4f} (best epoch {summary['best_epoch']}); "
              f"model in {args.out} ({time.perf_counter() - started:.0f} s)")
        return 0

    from assistant.nlp.training.train_classifier import (
        ClassifierConfig,
        load_sets,
        train_classifier,
    )

    cfg = ClassifierConfig(
        base=base, out=args.out, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
        max_length=per_task, default_max_length=default_len, max_steps=args.max_steps,
        seed=args.seed, threads=args.threads, class_weights=not args.no_class_weights,
        word_loss=args.word_loss, freeze_word_embeddings=args.freeze_word_embeddings,
        command=command,
    )
    train_sets, dev_sets = load_sets(
        tasks, train_pairs, dev_pairs, dev_fraction=args.dev_fraction,
        limit_train=args.limit_train, seed=args.seed, limit_dev=args.limit_dev,
    )
    summary = train_classifier(tasks, train_sets, dev_sets, cfg)
    for name, report in summary["dev"].items():
        print(f"{name}: accuracy {report['accuracy']:.4f}  macro-F1 {report['macro_f1']:.4f}  "
              f"(n={report['n']})")
    print(f"model in {args.out} ({summary['train_seconds']:.0f} s)")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from transformers import AutoTokenizer

    from assistant.nlp.classifier_weights import load_classifier
    from assistant.nlp.models import choose_device, set_torch_threads
    from assistant.nlp.taggers import default_model_for
    from assistant.nlp.training.classifier_metrics import (
        classification_report,
        plot_confusion_matrix,
    )
    from assistant.nlp.training.classify_data import read_examples
    from assistant.nlp.training.train_classifier import predict, tasks_of

    set_torch_threads(args.threads)
    model_dir = default_model_for(args.task, args.model)
    examples = read_examples(args.data, args.task)
    if args.held_out:
        from assistant.nlp.training.classify_data import stratified_split

        _, examples = stratified_split(examples, args.held_out, args.seed)
    if args.limit:
        examples = examples[: args.limit]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = load_classifier(model_dir)
    device = choose_device()
    model.to(device).float() if device.type == "cpu" else model.to(device)
    tasks = tasks_of(model.config)
    labels = tasks.get(args.task) or next(iter(tasks.values()))
    max_length = args.max_length or 128
    started = time.perf_counter()
    pred, _ = predict(model, tokenizer, [e.text for e in examples], args.task, max_length)
    seconds = time.perf_counter() - started
    report = classification_report([e.label for e in examples], pred, labels)
    report.update(task=args.task, data=str(args.data), model=str(model_dir),
                  seconds=round(seconds, 2))
    if args.plot:
        plot_confusion_matrix(report, args.plot, title=f"{args.task}: {Path(args.data).name}")
        report["plot"] = str(args.plot)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(f"{args.task} on {args.data} ({report['n']} examples, model {model_dir})")
        print(f"accuracy {report['accuracy']:.4f}  macro-F1 {report['macro_f1']:.4f}")
        for label, f in report["f1"].items():
            print(f"  F1 {label:<14} {f:.4f}")
        print("confusion matrix (rows gold, columns predicted):", report["labels"])
        for label, row in zip(report["labels"], report["confusion_matrix"]):
            print(f"  {label:<14} {row}")
    return 0


def _tagging_speed(args: argparse.Namespace) -> int:
    """Chunk each document as the library does, then time the passage tagger on its chunks."""
    import torch
    from transformers import AutoTokenizer

    from assistant.config import Settings
    from assistant.nlp.models import set_torch_threads
    from assistant.nlp.taggers import PassageTagger
    from retrieval.chunking import Chunker, tokenizer_counter
    from retrieval.loaders import load_document

    set_torch_threads(args.threads)
    settings = Settings(sentiment_model=args.model, bias_model=args.model, topic_model=args.model)
    tagger = PassageTagger.from_settings(settings)
    if tagger is None:
        raise ConfigError("No tagger model is bundled; pass --model DIR.")
    tagger.warm_up()
    # The library sizes chunks in the embedder's word pieces; the taggers share that vocabulary.
    tokenizer = AutoTokenizer.from_pretrained(tagger.taggers[0].model.path)
    chunker = Chunker(count_tokens=tokenizer_counter(tokenizer))
    rows = []
    for path in args.paths:
        doc = load_document(path)
        texts = [c.text for c in chunker.chunk_document(doc)]
        started = time.perf_counter()
        tagger(texts)
        seconds = time.perf_counter() - started
        rows.append({"file": str(path), "pages": len(doc.pages), "chunks": len(texts),
                     "seconds": round(seconds, 3),
                     "seconds_per_page": round(seconds / max(1, len(doc.pages)), 4)})
    pages = sum(r["pages"] for r in rows)
    total = sum(r["seconds"] for r in rows)
    summary = {"files": rows, "pages": pages, "chunks": sum(r["chunks"] for r in rows),
               "seconds": round(total, 3), "seconds_per_page": round(total / max(1, pages), 4),
               "threads": torch.get_num_threads(), "tasks": tagger.tasks}
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        for r in rows:
            print(f"{r['file']}: {r['pages']} pages, {r['chunks']} chunks, {r['seconds']:.2f} s "
                  f"({r['seconds_per_page'] * 1000:.0f} ms/page)")
        print(f"total: {pages} pages, {summary['chunks']} chunks, {total:.2f} s, "
              f"{summary['seconds_per_page'] * 1000:.0f} ms per page "
              f"({summary['threads']} torch threads)")
    return 0
