"""CLI commands of the reader area: ``train reader``, ``evaluate reader`` and ``ask``."""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from assistant.commands import add_document_option, add_library_option
from assistant.errors import ConfigError

MARK_OPEN, MARK_CLOSE = "[[", "]]"


def register(
    commands: argparse._SubParsersAction,
    train: argparse._SubParsersAction,
    evaluate: argparse._SubParsersAction,
) -> None:
    """Add this area's commands to the parser."""
    p = train.add_parser("reader", help="fine-tune the extractive QA reader (SQuAD format)")
    p.add_argument("--train", nargs="+", required=True, metavar="FILE",
                   help="training files: SQuAD .json/.json.gz, QED .jsonlines, SubjQA .csv")
    p.add_argument("--dev", metavar="FILE", help="SQuAD-format dev file evaluated at the end")
    p.add_argument("--dev-limit", type=int, default=1000, metavar="N",
                   help="evaluate on the first N dev questions (default 1000; 0 = all)")
    p.add_argument("--base", default=None, metavar="MODEL",
                   help="model to fine-tune (default: the bundled MiniLM base)")
    p.add_argument("--out", required=True, metavar="DIR", help="output model directory")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--stride", type=int, default=96)
    p.add_argument("--warmup", type=float, default=0.1, help="warmup fraction of the steps")
    p.add_argument("--limit-train", type=int, default=None, metavar="N",
                   help="train on a random N of the questions")
    p.add_argument("--negatives-ratio", type=float, default=0.1,
                   help="generated unanswerable examples per question (default 0.1)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--max-steps", type=int, default=-1)
    p.add_argument("--max-minutes", type=float, default=None,
                   help="stop training (and still save) after this many minutes")
    p.add_argument("--checkpoint-dir", default=None, metavar="DIR",
                   help="save Trainer checkpoints here (default: none)")
    p.add_argument("--save-steps", type=int, default=500, help="checkpoint every N steps")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--bf16", action="store_true",
                   help="bf16 mixed precision (GPU, or CPUs with AVX512-BF16/AMX)")
    p.add_argument("--teacher", nargs="+", default=None, metavar="DIR", dest="teachers",
                   help="distil from these readers (their mean logits; same vocabulary)")
    p.add_argument("--distill-alpha", type=float, default=0.5,
                   help="weight of the teachers' loss against the labels' (default 0.5)")
    p.add_argument("--distill-temperature", type=float, default=2.0,
                   help="softmax temperature of the distillation loss (default 2)")
    p.set_defaults(handler=_train)

    s = train.add_parser("soup", help="average the weights of readers fine-tuned from one base")
    s.add_argument("--reader", nargs="+", required=True, metavar="DIR", dest="readers",
                   help="reader directories (at least two, same base and vocabulary)")
    s.add_argument("--weights", nargs="+", type=float, metavar="W",
                   help="one positive weight per reader (default: all alike); e.g. a reader "
                        "that is itself the average of 5 weighs 5 beside new ones")
    s.add_argument("--out", required=True, metavar="DIR", help="output model directory")
    s.add_argument("--dev", metavar="FILE", help="SQuAD-format dev file evaluated at the end")
    s.add_argument("--dev-limit", type=int, default=1000, metavar="N",
                   help="evaluate on the first N dev questions (default 1000; 0 = all)")
    s.set_defaults(handler=_soup)

    e = evaluate.add_parser("reader", help="SQuAD EM/F1 of a reader (v1.1 or v2.0 file)")
    e.add_argument("--squad", required=True, metavar="FILE", help="SQuAD .json or .json.gz")
    e.add_argument("--model", default=None, metavar="DIR", help="reader (default: bundled)")
    e.add_argument("--limit", type=int, default=None, metavar="N", help="first N questions")
    e.add_argument("--calibrate", action="store_true",
                   help="find the best no-answer threshold on this (v2.0) file and store it "
                   "in the model's answerspan.json")
    e.add_argument("--keep-answers", type=float, default=None, metavar="SHARE",
                   help="with --calibrate: store the best threshold that keeps this share (0-1] "
                   "of the has-answer F1, so a weak reader does not abstain on most questions")
    e.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    e.add_argument("--json", action="store_true", help="print JSON")
    e.set_defaults(handler=_evaluate)

    q = evaluate.add_parser(
        "ask", help="SQuAD EM/F1 of search + reader over a library made of a SQuAD file")
    q.add_argument("--squad", required=True, metavar="FILE", help="SQuAD .json or .json.gz")
    q.add_argument("--model", default=None, metavar="DIR", help="reader (default: bundled)")
    q.add_argument("-k", type=int, default=5, help="passages read per question (default 5)")
    q.add_argument("--every", type=int, default=1, metavar="N",
                   help="ask every N-th question (the whole file is still the library)")
    q.add_argument("--articles", type=int, default=None, metavar="N",
                   help="only the first N articles")
    q.add_argument("--limit", type=int, default=None, metavar="N", help="at most N questions")
    q.add_argument("--leave-out", action="store_true",
                   help="keep every second article out of the library and ask its questions "
                   "too: the reader should abstain on them")
    q.add_argument("--calibrate", action="store_true",
                   help="choose the weights that rank answers across passages on these "
                   "questions (with --leave-out: the no-answer threshold over a library "
                   "instead) and store them in the reader's answerspan.json")
    q.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(handler=_evaluate_ask)

    d = evaluate.add_parser(
        "documents", help="search + reader over a folder of real documents, scored against a "
        "questions file (answers, pages, abstaining)")
    d.add_argument("--questions", required=True, metavar="FILE",
                   help="JSON Lines: question, answers (empty: not answered), document, page")
    d.add_argument("--docs", required=True, metavar="DIR",
                   help="the documents folder (every supported file under it is indexed)")
    d.add_argument("--model", default=None, metavar="DIR", help="reader (default: bundled)")
    d.add_argument("-k", type=int, default=5, help="passages read per question (default 5)")
    d.add_argument("--no-answer-threshold", type=float, default=None, metavar="X",
                   help="abstain above X (default: the reader's calibrated library threshold)")
    d.add_argument("--within-document", action="store_true",
                   help="ask each answerable question of its own document only (as the app's "
                   "'Ask only the selected documents')")
    d.add_argument("--no-tables", action="store_true",
                   help="read passages without their PDF table views (to measure what they add)")
    d.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    d.add_argument("--json", action="store_true", help="print JSON")
    d.set_defaults(handler=_evaluate_documents)

    a = commands.add_parser("ask", help="answer a question from the library")
    add_library_option(a)
    a.add_argument("-k", type=int, default=None, help="passages to read (default 5)")
    a.add_argument("-n", "--answers", type=int, default=3, help="answers to show (default 3)")
    a.add_argument("--reader", default=None, metavar="MODEL", help="reader model (default bundled)")
    a.add_argument("--no-answer-threshold", type=float, default=None, metavar="X",
                   help="abstain when the reader's no-answer score is above X (default: the "
                   "reader's calibrated value; higher answers more often)")
    add_document_option(a)
    a.add_argument("--json", action="store_true", help="print JSON")
    a.add_argument("question", nargs="+", help="the question")
    a.set_defaults(handler=_ask)


def _train(args: argparse.Namespace) -> int:
    from assistant.nlp.models import resolve_model
    from assistant.nlp.training.train_reader import ReaderTrainConfig, train_reader

    config = ReaderTrainConfig(
        train_files=list(args.train),
        base=resolve_model(args.base, "base"),
        out_dir=args.out,
        dev_file=args.dev,
        dev_limit=args.dev_limit or None,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        max_length=args.max_length,
        stride=args.stride,
        warmup=args.warmup,
        limit_train=args.limit_train,
        negatives_ratio=args.negatives_ratio,
        threads=args.threads,
        max_steps=args.max_steps,
        max_minutes=args.max_minutes,
        checkpoint_dir=args.checkpoint_dir,
        save_steps=args.save_steps,
        seed=args.seed,
        bf16=args.bf16,
        teachers=list(args.teachers or []),
        distill_alpha=args.distill_alpha,
        distill_temperature=args.distill_temperature,
        command=_command_line(args),
    )
    summary = train_reader(config)
    dev = summary.get("dev")
    print(f"saved reader to {args.out} after {summary['steps']} steps "
          f"({summary['train_seconds']:.0f} s)")
    if dev:
        print(f"dev {dev['file']}: EM {dev['em']:.2f} F1 {dev['f1']:.2f} "
              f"({dev['questions']} questions)")
    return 0


def _soup(args: argparse.Namespace) -> int:
    from assistant.nlp.training.soup import soup_readers

    summary = soup_readers(args.readers, args.out, args.dev, args.dev_limit or None,
                           command=_command_line(args, "soup", first="readers"),
                           weights=args.weights)
    print(f"saved the average of {len(args.readers)} readers to {args.out}")
    dev = summary.get("dev")
    if dev:
        print(f"dev {dev['file']}: EM {dev['em']:.2f} F1 {dev['f1']:.2f} "
              f"({dev['questions']} questions)")
    return 0


# Options whose attribute name differs from their flag (``dest=``).
_FLAG_NAMES = {"teachers": "teacher", "readers": "reader"}


def _command_line(args: argparse.Namespace, what: str = "reader", first: str = "train") -> str:
    """The ``train WHAT`` command as typed when run from a shell; else (called in-process) the
    equivalent one, with the option ``first`` (an attribute of ``args``) and ``--out`` first."""
    argv = sys.argv[1:]
    if "train" in argv and what in argv:
        return "answerspan " + shlex.join(argv)

    def flag(key: str) -> str:
        return "--" + _FLAG_NAMES.get(key, key).replace("_", "-")

    parts = ["answerspan", "train", what, flag(first), *getattr(args, first), "--out", args.out]
    skip = {first, "out", "handler", "command", "what", "verbose"}
    for key, value in sorted(vars(args).items()):
        if key in skip or value is None or value is False:
            continue
        if isinstance(value, list):
            parts += [flag(key), *map(str, value)]
        else:
            parts += [flag(key)] if value is True else [flag(key), str(value)]
    return shlex.join(parts)


def _evaluate(args: argparse.Namespace) -> int:
    from assistant.nlp.models import resolve_model, set_torch_threads
    from assistant.nlp.training.evaluate_reader import evaluate_reader

    set_torch_threads(args.threads)
    result = evaluate_reader(
        resolve_model(args.model, "reader"), args.squad, limit=args.limit,
        calibrate=args.calibrate, keep_answers=args.keep_answers,
    )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        line = f"{result['file']}: EM {result['em']:.2f} F1 {result['f1']:.2f} " \
               f"over {result['questions']} questions in {result['seconds']:.1f} s"
        if "has_ans_f1" in result:
            line += f" (has-answer F1 {result['has_ans_f1']:.2f}, " \
                    f"no-answer F1 {result['no_ans_f1']:.2f}, threshold {result['threshold']})"
        print(line)
        if "best_threshold" in result:
            print(f"calibrated threshold {result['best_threshold']} -> F1 {result['best_f1']:.2f}")
        if "kept_threshold" in result:
            kept = result["at_kept_threshold"]
            print(f"stored threshold {result['kept_threshold']} -> F1 {kept['f1']:.2f} "
                  f"(has-answer {kept['has_ans_f1']:.2f}, no-answer {kept['no_ans_f1']:.2f})")
    return 0


def _evaluate_ask(args: argparse.Namespace) -> int:
    from assistant.nlp.models import base_model_path, resolve_model, set_torch_threads
    from assistant.nlp.training.evaluate_ask import evaluate_ask

    if args.k < 1 or args.every < 1:
        raise ConfigError("-k and --every must be at least 1.")
    set_torch_threads(args.threads)
    result = evaluate_ask(
        args.squad, resolve_model(args.model, "reader"), str(base_model_path()), k=args.k,
        every=args.every, articles=args.articles, limit=args.limit, calibrate=args.calibrate,
        progress=sys.stderr.isatty(), leave_out=args.leave_out,
    )
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    plain = result["unweighted"]
    print(f"{result['questions']} questions, {result['passages']} passages, k={result['k']}: "
          f"EM {result['em']:.2f} F1 {result['f1']:.2f} (without passage weights: EM "
          f"{plain['em']:.2f} F1 {plain['f1']:.2f}); own paragraph read for "
          f"{100 * result['gold_passage_read']:.1f}%; answers {100 * result['answered']:.1f}% "
          f"(F1 {result['answered_f1']:.2f}); p50 {result['p50_ms']:.0f} ms per question")
    for name, found in (("at the reader's threshold", result.get("abstention")),
                        ("at the best threshold", result.get("calibration", {}).get("abstention"))):
        if found:
            print(f"{name} {found['threshold']}: abstains on "
                  f"{100 * found['off_library_abstained']:.1f}% of "
                  f"{found['off_library_questions']} off-library questions, answers "
                  f"{100 * found['in_library_answered']:.1f}% of the others; F1 over both "
                  f"{found['f1']:.2f}")
            if found["guess_threshold"] is not None:
                print(f"  guesses shown up to {found['guess_threshold']}: for "
                      f"{100 * found['in_library_guessed']:.1f}% of the in-library and "
                      f"{100 * found['off_library_guessed']:.1f}% of the off-library "
                      f"questions, mean F1 {found['guess_f1']:.2f}")
    if "best" in result.get("calibration", {}):
        best = result["calibration"]["best"]
        print(f"stored rank penalty {best['rank_penalty']}, no-answer weight "
              f"{best['no_answer_weight']} -> F1 {best['f1']:.2f}")
    return 0


def _evaluate_documents(args: argparse.Namespace) -> int:
    from assistant.nlp.models import base_model_path, resolve_model, set_torch_threads
    from assistant.nlp.training.evaluate_documents import evaluate_documents

    if args.k < 1:
        raise ConfigError("-k must be at least 1.")
    set_torch_threads(args.threads)
    result = evaluate_documents(args.questions, args.docs, resolve_model(args.model, "reader"),
                                str(base_model_path()), k=args.k,
                                no_answer_threshold=args.no_answer_threshold,
                                within_document=args.within_document,
                                tables=not args.no_tables)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['answerable']} answerable + {result['unanswerable']} unanswerable questions "
          f"over {result['documents']} documents, k={result['k']}, threshold "
          f"{result['threshold']:.2f}: F1 {result['f1']:.2f}; answers "
          f"{100 * result['answerable_answered']:.0f}% of the answerable (F1 "
          f"{result['answerable_f1']:.2f}; {result['f1_if_always_answering']:.2f} if it always "
          f"answered; right page {100 * result['page_right']:.0f}%), abstains on "
          f"{100 * result['unanswerable_abstained']:.0f}% of the others; p50 "
          f"{result['p50_ms']:.0f} ms")
    if result["guess_threshold"] is not None:
        print(f"  abstaining, shows its best span as a guess (up to {result['guess_threshold']})"
              f" for {100 * result['answerable_guessed']:.0f}% of the answerable and "
              f"{100 * result['unanswerable_guessed']:.0f}% of the unanswerable questions: "
              f"mean F1 {result['guess_f1']:.2f}")
    for row in result["sweep"]:
        print(f"  threshold {row['threshold']:6.1f}: F1 {row['f1']:6.2f}, answerable F1 "
              f"{row['answerable_f1']:6.2f}, abstains on "
              f"{100 * row['unanswerable_abstained']:.0f}% of the unanswerable")
    return 0


def _tag(tags: dict, name: str):
    value = tags.get(name) if tags else None
    return value if value else None


def _answer_json(a) -> dict:
    return {
        "text": a.text,
        "document": a.document,
        "page": a.page,
        "start": a.start,
        "end": a.end,
        "score": round(float(a.score), 4),
        "context": a.context,
        "context_start": a.context_start,
        "table_cell": a.table_cell or None,
        "sentiment": _tag(a.tags, "sentiment"),
        "bias": _tag(a.tags, "bias"),
        "topic": _tag(a.tags, "topic"),
    }


def answer_result_json(result) -> dict:
    """The ``ask --json`` document for an ``AnswerResult``.

    ``best_guess`` is the reader's best span when it abstains (``null`` otherwise), in the
    same form as an answer; ``answers`` stays empty then.
    """
    return {
        "question": result.question,
        "answers": [_answer_json(a) for a in result.answers],
        "no_answer": result.no_answer,
        "best_guess": _answer_json(result.best_guess) if result.best_guess else None,
        "documents": list(result.documents),
        "passages": [
            {
                "document": p.document,
                "page": p.page,
                "start": p.start,
                "end": p.end,
                "score": round(float(p.score), 4),
                "text": p.text,
                "sentiment": _tag(p.tags, "sentiment"),
                "bias": _tag(p.tags, "bias"),
                "topic": _tag(p.tags, "topic"),
            }
            for p in result.passages
        ],
        "seconds": round(result.seconds, 3),
    }


def mark_span(context: str, start: int, end: int) -> str:
    """The passage with ``[start, end)`` wrapped in ``[[`` and ``]]``."""
    return f"{context[:start]}{MARK_OPEN}{context[start:end]}{MARK_CLOSE}{context[end:]}"


def _ask(args: argparse.Namespace) -> int:
    from assistant.config import Settings
    from assistant.service import Assistant

    question = " ".join(args.question)
    settings = Settings(library_dir=args.library, reader_model=args.reader,
                        no_answer_threshold=args.no_answer_threshold,
                        **({"top_k": args.k} if args.k else {}))
    assistant = Assistant(settings)
    try:
        result = assistant.ask(question, max_answers=args.answers, documents=args.documents)
    finally:
        assistant.close()
    if args.json:
        print(json.dumps(answer_result_json(result), indent=2, ensure_ascii=False))
        return 0
    if result.no_answer:
        print("The documents do not seem to answer this question.")
        if result.best_guess is not None:
            print("Closest guess (not confident):")
            _print_answer("-", result.best_guess)
        elif result.passages:
            print(f"(read {len(result.passages)} passages; closest: {result.passages[0].document}"
                  + (f", page {result.passages[0].page})" if result.passages[0].page else ")"))
        return 0
    for rank, a in enumerate(result.answers, 1):
        _print_answer(f"{rank}.", a)
    print(f"({result.seconds:.2f} s)")
    return 0


def _print_answer(bullet: str, a) -> None:
    where = (a.document + (f", page {a.page}" if a.page is not None else "")
             + (f", table: {a.table_cell}" if a.table_cell else ""))
    print(f"{bullet} {a.text}  (score {a.score:.2f}; {where}; chars {a.start}-{a.end})")
    tags = ", ".join(f"{k}: {v.get('label')}" for k, v in a.tags.items() if v)
    if tags:
        print(f"   tags: {tags}")
    s = a.start - a.context_start
    print("   " + " ".join(mark_span(a.context, s, s + len(a.text)).split()))
