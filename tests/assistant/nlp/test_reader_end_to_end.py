"""End to end: index a real PDF from ../shared/docs, ask, get the answer with page and offsets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.service import Assistant

pytest.importorskip("retrieval.library", reason="the retrieval library is not written yet")

QUESTION = "Who attacked the NFL for its lack of black coaches?"


@pytest.fixture(scope="module")
def library_dir(tmp_path_factory, docs_dir: Path) -> Path:
    """A library holding the BABE annotation manual (4-page PDF) and two news articles."""
    directory = tmp_path_factory.mktemp("library")
    assistant = Assistant(Settings(library_dir=directory, tag_passages=False))
    try:
        reports = assistant.ingest([
            docs_dir / "pdf" / "annotation_guidelines_BABE.pdf",
            docs_dir / "news" / "bbc-sport_001.txt",
            docs_dir / "news" / "bbc-business_001.txt",
        ])
        assert all(r.ok for r in reports), reports
    finally:
        assistant.close()
    return directory


@pytest.mark.slow
def test_ask_finds_the_span_on_its_page(library_dir: Path) -> None:
    assistant = Assistant(Settings(library_dir=library_dir, tag_passages=False))
    try:
        result = assistant.ask(QUESTION)
        assert not result.no_answer and result.answers
        best = result.answers[0]
        assert best.document.endswith("annotation_guidelines_BABE.pdf")
        assert best.page == 3
        assert "Jemele Hill" in best.text
        page_text = assistant.page_text(best.document, best.page)
        assert page_text[best.start : best.end] == best.text
        assert best.context[best.start - best.context_start :].startswith(best.text)
        assert result.passages and result.seconds > 0
    finally:
        assistant.close()


@pytest.mark.slow
def test_ask_cli_json(library_dir: Path, capsys) -> None:
    from assistant.cli import main

    assert main(["ask", "--library", str(library_dir), "-k", "4", "--json", QUESTION]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["question"] == QUESTION and doc["no_answer"] is False
    top = doc["answers"][0]
    assert {"text", "document", "page", "start", "end", "score", "context", "sentiment", "bias",
            "topic"} <= set(top)
    assert top["page"] == 3 and "Jemele Hill" in top["text"]
    # Indexed without tags: `ask` tags the passages it shows on the spot.
    assert top["sentiment"]["label"] in ("negative", "neutral", "positive")
    assert top["bias"]["label"] in ("biased", "not_biased")
    assert 1 <= len(doc["passages"]) <= 4
    assert main(["ask", "--library", str(library_dir), QUESTION]) == 0
    assert "[[" in capsys.readouterr().out


@pytest.mark.slow
def test_ask_no_answer_threshold_overrides_the_calibrated_one(library_dir: Path, capsys) -> None:
    from assistant.cli import main

    def ask(threshold: str) -> dict:
        assert main(["ask", "--library", str(library_dir), "--json", "--no-answer-threshold",
                     threshold, QUESTION]) == 0
        return json.loads(capsys.readouterr().out)

    never = ask("1000")  # no score is above it: always answers
    assert never["no_answer"] is False and "Jemele Hill" in never["answers"][0]["text"]
    always = ask("-1000")  # every score is above it: abstains, still lists what it read
    assert always["no_answer"] is True and always["answers"] == [] and always["passages"]
    # ...and offers the span it would have given as a guess, with the same page and offsets.
    guess = always["best_guess"]
    assert {k: guess[k] for k in ("text", "page", "start", "end")} == {
        k: never["answers"][0][k] for k in ("text", "page", "start", "end")}
    assert never["best_guess"] is None
    assert main(["ask", "--library", str(library_dir), "--no-answer-threshold", "-1000",
                 QUESTION]) == 0
    out = capsys.readouterr().out
    assert "do not seem to answer" in out and "Closest guess" in out and "[[" in out


@pytest.mark.slow
def test_abstaining_keeps_the_best_guess_on_its_page(library_dir: Path) -> None:
    settings = Settings(library_dir=library_dir, tag_passages=False, no_answer_threshold=-1000)
    assistant = Assistant(settings)
    try:
        result = assistant.ask(QUESTION)
        assert result.no_answer and result.answers == ()
        guess = result.best_guess
        assert guess is not None and "Jemele Hill" in guess.text and guess.page == 3
        page_text = assistant.page_text(guess.document, guess.page)
        assert page_text[guess.start : guess.end] == guess.text
    finally:
        assistant.close()


@pytest.mark.slow
def test_ask_and_search_only_in_chosen_documents(library_dir: Path, docs_dir: Path,
                                                 capsys) -> None:
    from assistant.cli import main

    pdf = str(docs_dir / "pdf" / "annotation_guidelines_BABE.pdf")
    sport = str(docs_dir / "news" / "bbc-sport_001.txt")
    assert main(["ask", "--library", str(library_dir), "--json", "-d", sport, QUESTION]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["documents"] == [sport] and doc["passages"]
    assert all(p["document"] == sport for p in doc["passages"])
    assert all("Jemele Hill" not in a["text"] for a in doc["answers"])  # that is in the PDF
    # the PDF and the sport article together: the PDF's answer is back
    assert main(["ask", "--library", str(library_dir), "--json", "--document", pdf,
                 "--document", sport, QUESTION]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "Jemele Hill" in doc["answers"][0]["text"]
    assert {p["document"] for p in doc["passages"]} <= {pdf, sport}
    assert main(["search", "--library", str(library_dir), "--json", "-d", sport, QUESTION]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert hits and all(h["document"] == sport for h in hits)
    # a document that is not in the library: a clear error, not an answer from elsewhere
    missing = str(docs_dir / "news" / "bbc-tech_100.txt")
    assert main(["ask", "--library", str(library_dir), "-d", missing, QUESTION]) == 2
    assert "Not in the library" in capsys.readouterr().err
