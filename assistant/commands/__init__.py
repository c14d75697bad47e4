"""CLI command groups; each module exposes ``register(commands, train, evaluate)``."""

from __future__ import annotations

import argparse

from assistant.config import LIBRARY_ENV


def add_library_option(parser: argparse.ArgumentParser) -> None:
    """The shared ``--library DIR`` option (default: $ANSWERSPAN_LIBRARY or the user data dir)."""
    parser.add_argument(
        "--library",
        metavar="DIR",
        default=None,
        help=f"library directory (default: ${LIBRARY_ENV} or your user data folder)",
    )


def add_document_option(parser: argparse.ArgumentParser) -> None:
    """The shared ``--document FILE`` option (repeatable): search only these documents."""
    parser.add_argument(
        "--document",
        "-d",
        metavar="FILE",
        action="append",
        dest="documents",
        default=[],
        help="search only this document of the library (repeat for several; default: all)",
    )
