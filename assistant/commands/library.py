"""CLI commands of the library area (placeholder until implemented)."""

from __future__ import annotations

import argparse


def register(
    commands: argparse._SubParsersAction,
    train: argparse._SubParsersAction,
    evaluate: argparse._SubParsersAction,
) -> None:
    """Add this area's commands to the parser."""
