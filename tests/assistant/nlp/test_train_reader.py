"""The training recipe end to end on a real shared file, for a few steps (slow, tiny)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.nlp.training.train_reader import (
    ReaderTrainConfig,
    file_labels,
    load_training_examples,
    time_schedule,
)


def test_config_rejects_bad_values(tmp_path: Path) -> None:
    ok = {"train_files": ["x.json"], "base": "b", "out_dir": str(tmp_path)}
    ReaderTrainConfig(**ok)
    for bad in ({"lr": 0}, {"stride": 200, "max_length": 256}, {"negatives_ratio": 2},
                {"max_length": 1024}, {"train_files": []}):
        with pytest.raises(ConfigError):
            ReaderTrainConfig(**{**ok, **bad})


def test_time_schedule_warms_up_then_decays_to_zero() -> None:
    now = [0.0]
    factor = time_schedule(100.0, 0.1, clock=lambda: now[0])
    values = []
    for t in (1, 5, 10, 55, 100, 120):
        now[0] = t
        values.append(factor(0))
    assert values[0] == pytest.approx(0.1) and values[1] == pytest.approx(0.5)
    assert values[2] == pytest.approx(1.0) and values[3] == pytest.approx(0.5)
    assert values[4] == 0.0 and values[5] == 0.0


def test_training_stats_keep_files_of_the_same_name_apart(data_dir: Path) -> None:
    subjqa = data_dir / "qa" / "extra" / "subjqa"
    files = [str(subjqa / d / "splits" / "train.csv") for d in ("grocery", "electronics")]
    examples, stats = load_training_examples(files, None, 0.0, seed=1)
    assert list(stats["files"]) == ["grocery/splits/train.csv", "electronics/splits/train.csv"]
    assert all(n > 0 for n in stats["files"].values())
    assert sum(stats["files"].values()) == stats["questions"] == len(examples)
    assert 0 < stats["unanswerable_in_data"] < len(examples)  # SubjQA's ANSWERNOTFOUND rows
    assert file_labels(["a/x.json", "b/y.json"]) == ["x.json", "y.json"]


@pytest.mark.slow
def test_train_a_few_steps_writes_a_loadable_fp16_reader(data_dir: Path, tmp_path: Path,
                                                          capsys) -> None:
    from assistant.cli import main
    from assistant.nlp.reader import Reader

    out = tmp_path / "reader"
    train = str(data_dir / "qa" / "extra" / "squad-v2.0-train-first10articles.json")
    code = main(["train", "reader", "--train", train, "--out", str(out), "--limit-train", "24",
                 "--max-steps", "2", "--batch-size", "8", "--max-length", "128", "--stride",
                 "32", "--negatives-ratio", "0.25", "--threads", "2", "--dev", train,
                 "--dev-limit", "8"])
    assert code == 0
    assert "saved reader" in capsys.readouterr().out
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["steps"] == 2 and summary["data"]["questions"] == 24
    assert summary["data"]["generated_negatives"] >= 1
    assert summary["dev"]["questions"] == 8
    settings = json.loads((out / "answerspan.json").read_text())
    assert settings["max_length"] == 128 and settings["stride"] == 32
    card = (out / "README.md").read_text()
    assert "--limit-train 24" in card and "CPU" in card
    assert not (out / "_trainer").exists()
    shards = list(out.glob("model*.safetensors"))
    assert len(shards) >= 2  # 15 MB shards
    reader = Reader(str(out))
    pred = reader.predict_pairs(["Who?"], ["Frédéric Chopin was a Polish composer."])[0]
    assert pred.end >= pred.start
