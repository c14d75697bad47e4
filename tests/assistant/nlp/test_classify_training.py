"""Tiny real fine-tunes (a few steps on real shared files), then `evaluate classifier` on them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors import safe_open

from assistant.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_multitask(tmp_path_factory, data_dir: Path) -> Path:
    """A sentiment+bias model trained for 4 steps through the CLI (with the biased-word loss)."""
    out = tmp_path_factory.mktemp("clf") / "tiny"
    code = main([
        "train", "classifier", "--task", "sentiment,bias",
        "--train", f"sentiment={data_dir / 'sentiment/financial-phrasebank-train.csv'}",
        f"bias={data_dir / 'bias/babe-sg2-train.csv'}",
        "--dev", f"sentiment={data_dir / 'sentiment/newsmtsc/devtest_mt.jsonl'}",
        "--limit-train", "32", "--limit-dev", "24", "--max-steps", "4", "--batch-size", "8",
        "--max-length", "48", "--threads", "1", "--word-loss", "0.5", "--out", str(out),
    ])
    assert code == 0
    return out


def test_training_saves_fp16_sharded_model_with_card(tiny_multitask: Path) -> None:
    config = json.loads((tiny_multitask / "config.json").read_text())
    assert config["answerspan_tasks"] == [
        {"task": "sentiment", "labels": ["negative", "neutral", "positive"]},
        {"task": "bias", "labels": ["not_biased", "biased"]},
    ]
    assert config["id2label"]["3"] == "bias:not_biased"
    shards = sorted(tiny_multitask.glob("model-*.safetensors"))
    assert len(shards) >= 2  # max_shard_size=15MB splits the ~45 MB fp16 model
    with safe_open(str(shards[-1]), "pt") as f:
        assert f.get_tensor(next(iter(f.keys()))).dtype.is_floating_point
        assert str(f.get_tensor(next(iter(f.keys()))).dtype) == "torch.float16"
    card = (tiny_multitask / "README.md").read_text()
    for needle in ("| sentiment | negative, neutral, positive |", "answerspan train classifier",
                   "devtest_mt.jsonl", "macro-F1", "How passages are tagged", "bias_lexicon",
                   "marked as biased (binary cross-entropy of a linear token head, weight 0.5"):
        assert needle in card
    summary = json.loads((tiny_multitask / "train_summary.json").read_text())
    assert {r["n"] for r in summary["dev"].values()} == {24}
    assert len(summary["dev"]) == 3  # two held-out splits + NewsMTSC devtest
    assert isinstance(json.loads((tiny_multitask / "bias_lexicon.json").read_text()), dict)
    assert summary["config"]["word_loss"] == 0.5
    # The word-tagging head is a training aid: the saved model is a plain classifier.
    keys = set()
    for shard in shards:
        with safe_open(str(shard), "pt") as f:
            keys |= set(f.keys())
    assert "classifier.weight" in keys and not any(k.startswith("word_head") for k in keys)
    # ...and the head is kept beside it, for the app to name the words that carry the bias.
    assert summary["word_head"] == "bias_word_head.safetensors"
    assert (tiny_multitask / "bias_word_head.safetensors").stat().st_size < 10_000


def test_word_head_scores_every_word_of_a_sentence(tiny_multitask: Path) -> None:
    from assistant.nlp.taggers import BiasTagger, TaggerModel

    model = TaggerModel(tiny_multitask)
    assert model.word_head is not None
    text = "Radical lawmakers slammed the so-called reform, Senator O'Neil said."
    scores = model.word_scores([text, ""], 64)
    assert set(scores[0]) == {"radical", "lawmakers", "slammed", "the", "so-called", "reform",
                              "senator", "o'neil", "said"}
    assert scores[1] == {} and all(0.0 <= q <= 1.0 for q in scores[0].values())
    # Truncation: words past the last token read get no score rather than a wrong one.
    assert set(model.word_scores([text], 6)[0]) < set(scores[0])
    words = BiasTagger(model).biased_words([text])
    assert len(words) <= 5 and set(words) <= set(scores[0])
    assert all(scores[0][w] >= 0.5 for w in words)
    assert [scores[0][w] for w in words] == sorted((scores[0][w] for w in words), reverse=True)


def test_evaluate_classifier_json_and_plot(tiny_multitask: Path, data_dir: Path, tmp_path: Path,
                                           capsys) -> None:
    png = tmp_path / "cm.png"
    code = main(["evaluate", "classifier", "--task", "bias", "--model", str(tiny_multitask),
                 "--data", str(data_dir / "bias/babe-sg1-minus-holdout.csv"), "--limit", "30",
                 "--json", "--threads", "1"] + (["--plot", str(png)] if _has_matplotlib() else []))
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 30 and report["labels"] == ["not_biased", "biased"]
    assert 0.0 <= report["macro_f1"] <= 1.0 and set(report["f1"]) == {"not_biased", "biased"}
    assert sum(map(sum, report["confusion_matrix"])) == 30
    if _has_matplotlib():
        assert png.read_bytes()[:4] == b"\x89PNG"


def test_evaluate_unknown_task_for_model_is_a_clear_error(tiny_multitask: Path, data_dir: Path,
                                                          capsys) -> None:
    code = main(["evaluate", "classifier", "--task", "topic", "--model", str(tiny_multitask),
                 "--data", str(data_dir / "topic/bbc-news-train.csv"), "--limit", "4"])
    assert code == 2
    assert "no 'topic' output" in capsys.readouterr().err


def test_plain_loop_sst2(tmp_path: Path, data_dir: Path, capsys) -> None:
    out = tmp_path / "sst2"
    code = main(["train", "classifier", "--task", "sst2",
                 "--train", str(data_dir / "sentiment/sst2/train.tsv"),
                 "--dev", str(data_dir / "sentiment/sst2/dev.tsv"), "--limit-dev", "40",
                 "--limit-train", "48", "--max-steps", "3", "--epochs", "1", "--batch-size", "16",
                 "--max-length", "32", "--threads", "1", "--out", str(out)])
    assert code == 0
    assert "dev accuracy" in capsys.readouterr().out
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["n_train"] == 48 and summary["n_dev"] == 40
    assert summary["config"]["steps"] == 3 and summary["history"][0]["epoch"] == 1
    assert (out / "README.md").read_text().startswith("# Answerspan SST-2")
    assert json.loads((out / "config.json").read_text())["id2label"] == {
        "0": "negative", "1": "positive"}


def _has_matplotlib() -> bool:
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def test_settings_can_point_a_task_at_a_trained_model(tiny_multitask: Path, tmp_path: Path) -> None:
    from assistant.config import Settings
    from assistant.nlp.taggers import PassageTagger

    tagger = PassageTagger.from_settings(
        Settings(library_dir=tmp_path / "lib", sentiment_model=str(tiny_multitask),
                 bias_model=str(tiny_multitask))
    )
    assert tagger is not None and tagger.tasks == ["sentiment", "bias", "topic"]
    paths = {t.task: t.model.path for t in tagger.taggers}
    assert paths["sentiment"] == paths["bias"] == tiny_multitask
    assert paths["topic"].name == "taggers"  # the bundled model fills the task left unset
    assert tagger.taggers[0].model is tagger.taggers[1].model  # one load, one pass
    tags = tagger(["The company reported record profits and raised its forecast."])
    assert set(tags[0]) == {"sentiment", "bias", "topic"}


def test_evaluate_scores_the_held_out_split_training_used(tiny_multitask: Path, data_dir: Path,
                                                          capsys) -> None:
    code = main(["evaluate", "classifier", "--task", "sentiment", "--model", str(tiny_multitask),
                 "--data", str(data_dir / "sentiment/financial-phrasebank-train.csv"),
                 "--held-out", "0.15", "--limit", "12", "--json", "--threads", "1"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 12 and report["labels"] == ["negative", "neutral", "positive"]
    summary = json.loads((tiny_multitask / "train_summary.json").read_text())
    trained_on = summary["train"][0]
    assert trained_on["file"] == "financial-phrasebank-train.csv" and trained_on["n"] == 32


def test_bias_model_sharing_the_base_embeddings_trains_evaluates_and_tags(
        data_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "bias"
    code = main([
        "train", "classifier", "--task", "bias", "--train", str(data_dir / "bias/babe-sg2-train.csv"),
        "--limit-train", "32", "--limit-dev", "24", "--max-steps", "2", "--batch-size", "8",
        "--max-length", "48", "--threads", "1", "--freeze-word-embeddings", "--out", str(out),
    ])
    assert code == 0
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["shares_base_word_embeddings"] is True
    assert "without the word embeddings" in (out / "README.md").read_text()
    size = sum(f.stat().st_size for f in out.glob("model*.safetensors"))
    assert 15e6 < size < 25e6
    capsys.readouterr()

    code = main(["evaluate", "classifier", "--task", "bias", "--model", str(out), "--data",
                 str(data_dir / "bias/babe-sg2-train.csv"), "--held-out", "0.15", "--limit", "16",
                 "--json", "--threads", "1"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["n"] == 16

    from assistant.config import Settings
    from assistant.nlp.taggers import PassageTagger

    tagger = PassageTagger.from_settings(Settings(library_dir=tmp_path / "lib", bias_model=str(out)))
    assert tagger is not None
    assert {t.task: t.model.path for t in tagger.taggers}["bias"] == out
    tags = tagger(["Lawmakers slammed the reckless, disastrous plan. Rain is expected today."])
    assert tags[0]["bias"]["label"] in {"biased", "not_biased"}
