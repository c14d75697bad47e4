"""Saving trained models as the app bundles them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForQuestionAnswering,
)

from assistant.errors import ModelNotFoundError
from assistant.nlp.classifier_weights import (
    SHARED_EMBEDDINGS_KEY,
    base_word_embeddings,
    load_classifier,
)
from assistant.nlp.models import base_model_path
from assistant.nlp.training.artifacts import save_fp16


def test_save_fp16_replaces_earlier_shards_and_loads_back(tmp_path: Path) -> None:
    # An earlier, bigger run's shard and index: left there, the index would be loaded instead
    # of the new single file.
    stale = tmp_path / "model-00007-of-00009.safetensors"
    stale.write_bytes(b"weights of an earlier run")
    (tmp_path / "model.safetensors.index.json").write_text("{}")
    config = BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32)
    model = BertForQuestionAnswering(config)
    expected = model.qa_outputs.weight.detach().clone()
    save_fp16(model, AutoTokenizer.from_pretrained(base_model_path()), tmp_path)
    assert not stale.exists() and not (tmp_path / "model.safetensors.index.json").exists()
    loaded = BertForQuestionAnswering.from_pretrained(tmp_path)
    assert loaded.qa_outputs.weight.dtype == torch.float16
    assert torch.allclose(loaded.qa_outputs.weight.float(), expected, atol=1e-3)
    assert (tmp_path / "tokenizer.json").is_file()


def _base_classifier():
    torch.manual_seed(0)
    return AutoModelForSequenceClassification.from_pretrained(base_model_path(), num_labels=2)


def _saved_keys(folder: Path) -> set[str]:
    keys: set[str] = set()
    for shard in folder.glob("model*.safetensors"):
        with safe_open(str(shard), "pt") as f:
            keys |= set(f.keys())
    return keys


def test_classifier_with_the_base_word_embeddings_is_saved_without_them(tmp_path: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(base_model_path())
    model = _base_classifier().eval()
    batch = tokenizer(["Lawmakers slammed the reckless plan.", "Rain is expected."],
                      padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = model.half().float()(**batch).logits  # what the fp16 checkpoint should give
    assert save_fp16(model, tokenizer, tmp_path, share_base_embeddings=True)

    keys = _saved_keys(tmp_path)
    assert "classifier.weight" in keys and not any("word_embeddings" in k for k in keys)
    size = sum(f.stat().st_size for f in tmp_path.glob("model*.safetensors"))
    assert size < 25e6  # about half of the 45 MB a full fp16 MiniLM takes

    loaded = load_classifier(tmp_path).float().eval()
    table = loaded.get_input_embeddings().weight
    assert torch.equal(table, base_word_embeddings().half().float())
    with torch.no_grad():
        assert torch.allclose(loaded(**batch).logits, expected, atol=1e-2)
    # A plain from_pretrained would leave the table randomly initialised.
    plain = AutoModelForSequenceClassification.from_pretrained(tmp_path)
    assert not torch.equal(plain.get_input_embeddings().weight.float(), table)


def test_changed_word_embeddings_are_kept(tmp_path: Path) -> None:
    model = _base_classifier()
    with torch.no_grad():
        model.get_input_embeddings().weight[5] += 1.0
    tokenizer = AutoTokenizer.from_pretrained(base_model_path())
    assert not save_fp16(model, tokenizer, tmp_path, share_base_embeddings=True)
    assert any("word_embeddings" in k for k in _saved_keys(tmp_path))


def test_a_model_made_for_other_base_embeddings_is_refused(tmp_path: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(base_model_path())
    assert save_fp16(_base_classifier(), tokenizer, tmp_path, share_base_embeddings=True)
    config = json.loads((tmp_path / "config.json").read_text())
    config[SHARED_EMBEDDINGS_KEY] = "0123456789abcdef"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelNotFoundError, match="other base word embeddings"):
        load_classifier(tmp_path)
