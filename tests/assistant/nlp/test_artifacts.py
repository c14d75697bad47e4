"""Saving trained models as the app bundles them."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

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
