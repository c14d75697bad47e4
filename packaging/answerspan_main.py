"""PyInstaller entry point: the same ``main`` as the ``answerspan`` console script."""

import multiprocessing

from assistant.app import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # torch / tokenizers may spawn helpers in a frozen app
    raise SystemExit(main())
