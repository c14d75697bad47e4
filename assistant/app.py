"""Entry point: ``answerspan`` with no arguments opens the window; with arguments, the CLI."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Open the desktop app when called without arguments, else run a CLI command."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        try:
            from assistant.ui.main_window import run_app
        except ImportError:  # the GUI is not built yet: show the CLI help instead
            args = ["--help"]
        else:
            return run_app()
    from assistant.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
