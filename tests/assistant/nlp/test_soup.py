"""Weight averaging of readers (``train soup``): the mean, its checks, and a real soup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from assistant.errors import ConfigError
from assistant.nlp.training.soup import average_state_dicts


def test_average_is_elementwise_and_keeps_integer_buffers() -> None:
    a = {"w": torch.tensor([1.0, 2.0]), "ids": torch.tensor([0, 1, 2])}
    b = {"w": torch.tensor([3.0, 6.0], dtype=torch.float16), "ids": torch.tensor([0, 1, 2])}
    mean = average_state_dicts([a, b])
    assert mean["w"].tolist() == [2.0, 4.0] and mean["w"].dtype == torch.float32
    assert mean["ids"].tolist() == [0, 1, 2] and mean["ids"].dtype == torch.int64


def test_weights_are_normalised_and_checked() -> None:
    a = {"w": torch.tensor([1.0, 2.0])}
    b = {"w": torch.tensor([5.0, 6.0])}
    # 3 : 1 = 0.75 : 0.25, as if a were listed three times
    assert average_state_dicts([a, b], [3, 1])["w"].tolist() == [2.0, 3.0]
    assert average_state_dicts([a, b], [3, 1])["w"].tolist() == (
        average_state_dicts([a, a, a, b])["w"].tolist())
    with pytest.raises(ConfigError, match="one weight per reader"):
        average_state_dicts([a, b], [1.0])
    for bad in ([1.0, 0.0], [1.0, -2.0], [1.0, float("nan")]):
        with pytest.raises(ConfigError, match="positive"):
            average_state_dicts([a, b], bad)


def test_readers_of_other_shapes_or_layers_are_refused() -> None:
    a = {"w": torch.zeros(2)}
    with pytest.raises(ConfigError, match="shape"):
        average_state_dicts([a, {"w": torch.zeros(3)}])
    with pytest.raises(ConfigError, match="different layers"):
        average_state_dicts([a, {"v": torch.zeros(2)}])
    with pytest.raises(ConfigError):
        average_state_dicts([])


@pytest.mark.slow
def test_soup_of_the_bundled_reader_and_a_shifted_copy(data_dir: Path, tmp_path: Path) -> None:
    """The copy adds 1 to every start logit (same spans); the soup, weighted 1 : 3, must sit
    three quarters of the way and answer the real dev questions exactly as the bundled reader
    does."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from assistant.cli import main
    from assistant.nlp.models import resolve_model
    from assistant.nlp.training.evaluate_reader import evaluate_reader

    reader = resolve_model(None, "reader")
    shifted = tmp_path / "shifted"
    model = AutoModelForQuestionAnswering.from_pretrained(reader, dtype=torch.float32)
    with torch.no_grad():
        model.qa_outputs.bias[0] += 1.0
    model.save_pretrained(shifted)
    AutoTokenizer.from_pretrained(reader).save_pretrained(shifted)
    (shifted / "answerspan.json").write_text((Path(reader) / "answerspan.json").read_text())

    dev = str(data_dir / "qa" / "squad-v1.1-dev.json.gz")
    out = tmp_path / "soup"
    assert main(["train", "soup", "--reader", reader, str(shifted), "--weights", "1", "3",
                 "--out", str(out), "--dev", dev, "--dev-limit", "40"]) == 0
    original = AutoModelForQuestionAnswering.from_pretrained(reader, dtype=torch.float32)
    soup = AutoModelForQuestionAnswering.from_pretrained(out, dtype=torch.float32)
    expected = original.qa_outputs.bias[0].item() + 0.75
    assert soup.qa_outputs.bias[0].item() == pytest.approx(expected, abs=1e-2)
    assert torch.allclose(soup.qa_outputs.weight, original.qa_outputs.weight, atol=1e-3)

    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["soup_of"] == [reader, str(shifted)] and summary["weights"] == [0.25, 0.75]
    assert summary["command"] == (f"answerspan train soup --reader {reader} {shifted} --out {out} "
                                  f"--dev {dev} --dev-limit 40 --weights 1.0 3.0")
    assert summary["dev"]["f1"] == pytest.approx(
        evaluate_reader(reader, dev, limit=40)["f1"], abs=0.01)
    settings = json.loads((out / "answerspan.json").read_text())
    assert settings["no_answer_threshold"] == 0.0  # to be calibrated again
    # the bundled reader's passage weights and library threshold are on its own scale
    assert "passage_scoring" not in settings
    first = json.loads((Path(reader) / "answerspan.json").read_text())
    assert settings["max_length"] == first["max_length"]
    assert settings["span_length_penalty"] == first["span_length_penalty"]  # decoding as before
    assert "weight average of 2 readers" in (out / "README.md").read_text()
    # One reader is no soup: a clear error, nothing written.
    assert main(["train", "soup", "--reader", reader, "--out", str(tmp_path / "one")]) == 2
    assert not (tmp_path / "one").exists()
    # Weights that do not fit the readers: refused before anything is loaded or written.
    assert main(["train", "soup", "--reader", reader, str(shifted), "--weights", "1",
                 "--out", str(tmp_path / "misweighed")]) == 2
    assert not (tmp_path / "misweighed").exists()
