"""``evaluate documents``: the app's answers over real documents against a questions file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.nlp.training.evaluate_documents import load_questions


def _write(path: Path, rows: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n",
                    encoding="utf-8")
    return path


def test_load_questions_reads_answerable_and_unanswerable(tmp_path: Path) -> None:
    file = _write(tmp_path / "q.jsonl", [
        {"question": "Who?", "answers": ["Ann", "Ann B."], "document": "a.pdf", "page": 2},
        "",
        {"question": "Where?", "answers": [], "document": None, "page": None},
    ])
    first, second = load_questions(file)
    assert first.answers == ("Ann", "Ann B.") and first.document == "a.pdf" and first.page == 2
    assert second.answers == () and second.document is None


@pytest.mark.parametrize("line", ['{"answers": ["x"]}', "not json", "[1, 2]"])
def test_load_questions_names_the_bad_line(tmp_path: Path, line: str) -> None:
    file = _write(tmp_path / "q.jsonl", [{"question": "Who?", "answers": []}, line])
    with pytest.raises(ConfigError, match="line 2"):
        load_questions(file)


def test_load_questions_refuses_missing_or_empty_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_questions(tmp_path / "absent.jsonl")
    with pytest.raises(ConfigError, match="no questions"):
        load_questions(_write(tmp_path / "empty.jsonl", [""]))


def test_the_bundled_questions_file_is_valid_against_the_documents(docs_dir: Path) -> None:
    """Every answer of ``bench/real_docs_qa.jsonl`` is on its page as the app loads it."""
    from retrieval.loaders import load_document

    questions = load_questions(Path(__file__).parents[3] / "bench" / "real_docs_qa.jsonl")
    assert any(q.answers for q in questions) and any(not q.answers for q in questions)
    pages: dict[tuple[str, int | None], str] = {}
    for q in questions:
        if not q.answers:
            assert q.document is None
            continue
        if (q.document, q.page) not in pages:
            doc = load_document(docs_dir / q.document)
            pages.update({(q.document, p.number): p.text for p in doc.pages})
        text = pages[(q.document, q.page)]
        assert all(a in text for a in q.answers), q


@pytest.mark.slow
def test_evaluate_documents_cli_scores_a_real_pdf(docs_dir: Path, tmp_path: Path,
                                                 capsys) -> None:
    from assistant.cli import main

    folder = tmp_path / "docs" / "pdf"
    folder.mkdir(parents=True)
    shutil.copy(docs_dir / "pdf" / "crazyones-pdfa.pdf", folder)
    questions = _write(tmp_path / "q.jsonl", [
        {"question": "When was The Crazy Ones written?", "answers": ["October 14, 1998"],
         "document": "pdf/crazyones-pdfa.pdf", "page": 1},
        {"question": "What is the boiling point of mercury?", "answers": [],
         "document": None, "page": None},
    ])
    assert main(["evaluate", "documents", "--questions", str(questions), "--docs",
                 str(tmp_path / "docs"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["answerable"], result["unanswerable"], result["documents"]) == (1, 1, 1)
    assert result["f1_if_always_answering"] == 100.0 and result["page_right"] == 1.0
    assert result["gold_page_read"] == 1.0
    assert len(result["sweep"]) > 1 and all(0 <= r["f1"] <= 100 for r in result["sweep"])
    answered, unanswerable = result["details"]
    assert answered["answer"] == "October 14, 1998" and answered["f1"] == 100.0
    assert answered["source"] == ["pdf/crazyones-pdfa.pdf", 1] == answered["expected_source"]
    assert unanswerable["f1"] is None and unanswerable["expected"] == []
    assert unanswerable["abstains"] == (unanswerable["no_answer_score"] > result["threshold"])
    # an explicit threshold overrides the calibrated one, as the app's setting does
    assert main(["evaluate", "documents", "--questions", str(questions), "--docs",
                 str(tmp_path / "docs"), "--no-answer-threshold", "1000", "--json"]) == 0
    never = json.loads(capsys.readouterr().out)
    assert never["threshold"] == 1000 and never["answerable_answered"] == 1.0
    assert never["unanswerable_abstained"] == 0.0
    assert never["answerable_guessed"] == never["unanswerable_guessed"] == 0.0  # nothing to guess
    assert never["guess_threshold"] == result["guess_threshold"]  # not the user's threshold
    # abstaining on everything, a confident best span is still offered as a (right) guess
    assert main(["evaluate", "documents", "--questions", str(questions), "--docs",
                 str(tmp_path / "docs"), "--no-answer-threshold", "-1000", "--json"]) == 0
    always = json.loads(capsys.readouterr().out)
    assert always["answerable_answered"] == 0.0
    # (the bundled reader is calibrated with a guess threshold, and sure of this answer)
    assert answered["no_answer_score"] <= always["guess_threshold"]
    assert always["answerable_guessed"] == 1.0 and always["details"][0]["guess"]
    assert always["guess_f1"] == 100.0
    # each question asked of its own document only, as the app's "Ask only the selected"
    assert main(["evaluate", "documents", "--questions", str(questions), "--docs",
                 str(tmp_path / "docs"), "--within-document", "--json"]) == 0
    within = json.loads(capsys.readouterr().out)
    assert within["within_document"] is True and result["within_document"] is False
    assert within["details"][0]["answer"] == "October 14, 1998"


def test_evaluate_documents_refuses_questions_about_absent_documents(tmp_path: Path) -> None:
    from assistant.nlp.training.evaluate_documents import evaluate_documents

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Some text.", encoding="utf-8")
    questions = _write(tmp_path / "q.jsonl", [
        {"question": "Who?", "answers": ["x"], "document": "b.pdf", "page": 1}])
    with pytest.raises(ConfigError, match="b.pdf"):
        evaluate_documents(questions, tmp_path / "docs", "unused-reader", "unused-embedder")
