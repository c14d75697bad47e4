"""Headless commands: ``answerspan index|remove|list|search|ask|demo|train ...|evaluate ...``.

Each area registers its commands from a module under ``assistant.commands`` so the library,
reader and classifier commands evolve independently. A command handler takes the parsed
arguments and returns the process exit code.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from assistant.errors import AssistantError
from retrieval import RetrievalError

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every registered command."""
    from assistant.commands import classifier, library, reader

    parser = argparse.ArgumentParser(
        prog="answerspan",
        description="Answer questions from your own documents, offline, with exact sources. "
        "Run without a command to open the desktop app.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    train = commands.add_parser("train", help="fine-tune a model").add_subparsers(
        dest="what", metavar="MODEL", required=True
    )
    evaluate = commands.add_parser("evaluate", help="measure accuracy and speed").add_subparsers(
        dest="what", metavar="PART", required=True
    )
    for module in (library, reader, classifier):
        module.register(commands, train, evaluate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one CLI command; returns the exit code (0 ok, 1 some input failed, 2 usage/error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # Without this every local model load prints a "Loading weights" bar, twice per
        # `ask`. It must be set before huggingface_hub is imported; -v brings the bars back
        # (including download bars for a hub id).
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args))
    except (AssistantError, RetrievalError) as err:
        print(f"answerspan: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("answerspan: interrupted", file=sys.stderr)
        return 130
