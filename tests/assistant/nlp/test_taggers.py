"""Source taggers: sentence splitting (fast) and the real bundled multi-task model (slow)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import ModelNotFoundError
from assistant.nlp import models
from assistant.nlp.taggers import (
    BiasTagger,
    PassageTagger,
    SentimentTagger,
    TaggerModel,
    TextClassifier,
    TopicTagger,
    split_sentences,
)


def test_split_sentences() -> None:
    text = ('Shares fell 5% on Monday. "This is a disaster," he said! Why? '
            "Mr. Smith left.\n\nA new paragraph\n- a bullet")
    assert split_sentences(text) == [
        "Shares fell 5% on Monday.", '"This is a disaster," he said!', "Why?",
        "Mr. Smith left.", "A new paragraph", "- a bullet",
    ]
    assert split_sentences("   ") == []
    assert split_sentences("ok") == ["ok"]  # too short to be a sentence, but all there is
    assert split_sentences("3.5 million and e.g. more") == ["3.5 million and e.g. more"]
    assert split_sentences("Sen. Warren and U.S. Rep. Omar spoke. Then J. Doe left.") == [
        "Sen. Warren and U.S. Rep. Omar spoke.", "Then J. Doe left."]


def test_from_settings_is_none_without_models(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "models").mkdir()
    monkeypatch.setattr(models, "resources_dir", lambda: tmp_path)
    assert PassageTagger.from_settings(Settings(library_dir=tmp_path / "lib")) is None
    with pytest.raises(ModelNotFoundError):
        PassageTagger.from_settings(
            Settings(library_dir=tmp_path / "lib", bias_model=str(tmp_path / "missing")))


# -- the real bundled model ----------------------------------------------------------------------

NEWS = {
    "sport": "Arsenal beat Chelsea 2-1 at the Emirates on Saturday. The striker scored twice in "
             "the second half and the manager praised his players after the match.",
    "negative_finance": "Shares in the bank fell 8% on Tuesday after the lender reported a "
                        "sharp drop in quarterly profit. Operating profit fell to EUR 3.2 mn from "
                        "EUR 11.1 mn, and the company warned of further job cuts as sales "
                        "collapsed. Analysts said the results were worse than markets expected.",
    "biased": "Americans know the senator is an outrageous, scandal-ridden radical who "
              "slammed hardworking families with his disastrous tax scheme.",
}


@pytest.fixture(scope="module")
def bundled() -> Path:
    path = models.bundled_model_dir("taggers")
    assert path is not None, "resources/models/taggers is missing: bundle the tagger model"
    return path


@pytest.fixture(scope="module")
def passage_tagger(bundled: Path) -> PassageTagger:
    tagger = PassageTagger.from_settings(Settings(library_dir=bundled / "unused"))
    assert tagger is not None
    tagger.warm_up()
    return tagger


@pytest.mark.slow
def test_passage_tagger_output_shape(passage_tagger: PassageTagger) -> None:
    assert passage_tagger.tasks == ["sentiment", "bias", "topic"]
    assert len({id(t.model) for t in passage_tagger.taggers}) == 1  # one shared encoder
    tags = passage_tagger([NEWS["sport"], "", NEWS["biased"]])
    assert len(tags) == 3 and tags[1] == {}
    for t in (tags[0], tags[2]):
        assert set(t) == {"sentiment", "bias", "topic"}
        assert t["sentiment"]["label"] in {"negative", "neutral", "positive"}
        assert t["topic"]["label"] in {"business", "entertainment", "politics", "sport", "tech"}
        assert t["bias"]["label"] in {"biased", "not_biased"}
        assert isinstance(t["bias"]["words"], list)
        for task in ("sentiment", "bias", "topic"):
            assert 0.0 <= t[task]["score"] <= 1.0
            assert t[task]["score"] >= 0.5 or task == "topic"  # topic: 5 classes


@pytest.mark.slow
def test_bundled_tags_are_sensible(passage_tagger: PassageTagger) -> None:
    sport, finance, biased = passage_tagger([NEWS["sport"], NEWS["negative_finance"],
                                             NEWS["biased"]])
    assert sport["topic"]["label"] == "sport"
    assert finance["sentiment"]["label"] == "negative"
    assert finance["topic"]["label"] == "business"
    assert biased["bias"]["label"] == "biased"
    assert {"outrageous", "radical"} & set(biased["bias"]["words"])


@pytest.mark.slow
def test_single_taggers_agree_with_passage_tagger(bundled: Path,
                                                  passage_tagger: PassageTagger) -> None:
    model = TaggerModel(bundled)
    texts = [NEWS["sport"], NEWS["negative_finance"]]
    together = passage_tagger(texts)
    for cls in (SentimentTagger, BiasTagger, TopicTagger):
        tagger = cls(model)
        assert isinstance(tagger, TextClassifier)
        alone = tagger(texts)
        for a, b in zip(alone, together):
            assert a["label"] == b[tagger.task]["label"]
            assert a["score"] == pytest.approx(b[tagger.task]["score"], abs=2e-3)


@pytest.mark.slow
def test_long_passages_are_fast_enough(passage_tagger: PassageTagger, docs_dir: Path) -> None:
    text = (docs_dir / "news/bbc-politics_001.txt").read_text(encoding="utf-8")
    passages = [text[i : i + 1000] for i in range(0, len(text), 800)][:20]
    started = time.perf_counter()
    tags = passage_tagger(passages)
    elapsed = time.perf_counter() - started
    assert len(tags) == len(passages) and all(t for t in tags)
    # ~20 passages of ~1000 characters: well under a few seconds even on a busy 2-core CPU.
    assert elapsed < 30
