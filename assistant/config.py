"""Settings: where the library lives, which models to use, how many passages to read."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ConfigError

LIBRARY_ENV = "ANSWERSPAN_LIBRARY"


def default_library_dir() -> Path:
    """The library directory: ``$ANSWERSPAN_LIBRARY`` or the platform's user data dir."""
    env = os.environ.get(LIBRARY_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("answerspan", appauthor=False)) / "library"


@dataclass
class Settings:
    """User-adjustable settings, validated on construction.

    Model fields take a bundled model name (``reader``, ``taggers``), a local directory or an HF
    model id; ``None`` means the bundled default (the tagger fields fall back to the multi-task
    ``taggers`` model).
    """

    library_dir: Path | None = None
    top_k: int = 5
    embedder: str | None = None
    reader_model: str | None = None
    sentiment_model: str | None = None
    bias_model: str | None = None
    topic_model: str | None = None
    tag_passages: bool = True
    max_answer_tokens: int = 30
    # None: the reader's calibrated value (its answerspan.json). The reader abstains when its
    # no-answer score is above this, so a higher value answers more often.
    no_answer_threshold: float | None = None

    def __post_init__(self) -> None:
        self.library_dir = (
            Path(self.library_dir).expanduser() if self.library_dir else default_library_dir()
        )
        if not 1 <= int(self.top_k) <= 100:
            raise ConfigError(f"Number of passages must be between 1 and 100, got {self.top_k}.")
        self.top_k = int(self.top_k)
        if not 1 <= int(self.max_answer_tokens) <= 512:
            raise ConfigError("Maximum answer length must be between 1 and 512 tokens.")
        if self.no_answer_threshold is not None:
            value = float(self.no_answer_threshold)
            if not math.isfinite(value) or abs(value) > 1000:
                raise ConfigError("The no-answer threshold must be a number between -1000 and "
                                  f"1000, got {self.no_answer_threshold}.")
            self.no_answer_threshold = value
        if self.library_dir.exists() and not self.library_dir.is_dir():
            raise ConfigError(f"Library location {self.library_dir} is a file, not a folder.")
