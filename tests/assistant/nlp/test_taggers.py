"""Source taggers: sentence splitting (fast) and the real bundled multi-task model (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import ModelNotFoundError
from assistant.nlp import models
from assistant.nlp.taggers import (
    WORD_THRESHOLD,
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
    paths = {t.task: t.model.path for t in passage_tagger.taggers}
    by_task = {t.task: t.model for t in passage_tagger.taggers}
    assert by_task["sentiment"] is by_task["topic"]  # one load, one pass for both
    assert paths["sentiment"].name == "taggers"
    # A bundled dedicated bias model takes precedence over the taggers' bias head.
    assert paths["bias"].name == ("bias" if models.bundled_model_dir("bias") else "taggers")
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
def test_single_taggers_agree_with_passage_tagger(passage_tagger: PassageTagger) -> None:
    texts = [NEWS["sport"], NEWS["negative_finance"]]
    together = passage_tagger(texts)
    paths = {t.task: t.model.path for t in passage_tagger.taggers}
    for cls in (SentimentTagger, BiasTagger, TopicTagger):
        tagger = cls(TaggerModel(paths[cls.task]))  # a fresh load of the same model
        assert isinstance(tagger, TextClassifier)
        alone = tagger(texts)
        for a, b in zip(alone, together):
            assert a["label"] == b[tagger.task]["label"]
            assert a["score"] == pytest.approx(b[tagger.task]["score"], abs=2e-3)


@pytest.mark.slow
def test_long_passages_of_a_real_article_are_all_tagged(passage_tagger: PassageTagger,
                                                        docs_dir: Path) -> None:
    """Overlapping 1,000-character windows of a BBC politics article (several sentences each,
    longer than the topic model reads): every one gets all three tags, mostly "politics".
    (Speed is measured by `answerspan evaluate tagging`, not here.)"""
    text = (docs_dir / "news/bbc-politics_001.txt").read_text(encoding="utf-8")
    passages = [text[i : i + 1000] for i in range(0, len(text), 800)][:20]
    tags = passage_tagger(passages)
    assert len(tags) == len(passages) and all(set(t) == {"sentiment", "bias", "topic"}
                                              for t in tags)
    topics = [t["topic"]["label"] for t in tags]
    assert topics.count("politics") > len(topics) / 2


@pytest.mark.slow
def test_bundled_bias_model_scores_its_held_out_babe_split(data_dir: Path, capsys) -> None:
    from assistant.cli import main

    path = models.bundled_model_dir("bias")
    assert path is not None, "resources/models/bias is missing: bundle the bias model"
    # The bundled bias model leaves the word embeddings to the installed base; wrong or random
    # embeddings would score near chance here.
    code = main(["evaluate", "classifier", "--task", "bias", "--data",
                 str(data_dir / "bias/babe-sg2-train.csv"), "--held-out", "0.15",
                 "--limit", "150", "--json", "--threads", "1"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert Path(report["model"]) == path and report["n"] == 150
    assert report["macro_f1"] > 0.75


@pytest.mark.slow
def test_words_from_the_batched_pass_match_sentences_read_alone(data_dir: Path) -> None:
    from assistant.nlp.training.classify_data import read_examples

    path = models.bundled_model_dir("bias")
    assert path is not None, "resources/models/bias is missing: bundle the bias model"
    model = TaggerModel(path, batch_size=8)
    assert model.word_head is not None
    # Real BABE sentences of mixed lengths: the pass sorts them by length and pads each batch.
    texts = [e.text for e in read_examples(data_dir / "bias/babe-sg2-train.csv", "bias")[:20]]
    together = model.run(texts, 128, words=True)
    assert together.word_scores is not None and len(together.word_scores) == len(texts)
    for i, text in enumerate(texts):
        alone = model.run([text], 128, words=True)
        assert alone.logits[0] == pytest.approx(together.logits[i], abs=1e-3)
        assert alone.word_scores[0].keys() == together.word_scores[i].keys()
        for w, q in alone.word_scores[0].items():
            assert together.word_scores[i][w] == pytest.approx(q, abs=1e-3)
    # The tagger's words are those its pass scored at least WORD_THRESHOLD in biased sentences.
    tags = BiasTagger(model)([NEWS["biased"]])[0]
    scores = model.run(split_sentences(NEWS["biased"]), 128, words=True).word_scores
    best = {w: max(s.get(w, 0.0) for s in scores) for w in tags["words"]}
    assert tags["label"] == "biased" and tags["words"]
    assert all(q >= WORD_THRESHOLD for q in best.values())
