"""Questions about PDF tables: the bundled reader reads a table passage with its table view
(rows as sentences with their column headers) and answers with the cell, on its page, at its
offsets; without the view it does not find the cell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.service import Assistant

EU_DOC = "pdf/multicolumn.pdf"
NICS_DOC = "pdf/nics-background-checks-2015-11.pdf"


@pytest.fixture(scope="module")
def table_assistant(tmp_path_factory, docs_dir: Path):
    """A library of the two-column sample (EU table on page 3) and the NICS statistics."""
    directory = tmp_path_factory.mktemp("tables")
    assistant = Assistant(Settings(library_dir=directory, tag_passages=False))
    reports = assistant.ingest([docs_dir / EU_DOC, docs_dir / NICS_DOC])
    assert all(r.ok for r in reports), reports
    yield assistant
    assistant.close()


@pytest.mark.slow
@pytest.mark.parametrize(("question", "cell", "document"), [
    (("In the two-column Lorem Ipsum document's table of EU countries, what is the area of "
     "Finland in km2?"), "338,424", EU_DOC),
    (("How many permit checks did Kentucky record in the November 2015 NICS firearm background "
     "check figures?"), "264,140", NICS_DOC),
])
def test_reader_finds_the_cell_only_with_the_view(table_assistant, question: str, cell: str,
                                                  document: str) -> None:
    hits = table_assistant.search(question, k=5)
    reader = table_assistant.reader
    views = table_assistant.library.table_views(hits)
    assert any(v is not None for v in views)

    def best(output) -> str:
        span = output.answers[0]
        return hits[span.hit_index].chunk.text[span.start:span.end]

    with_view = reader.read(question, hits, views=views)
    assert best(with_view) == cell
    assert hits[with_view.answers[0].hit_index].document.endswith(document)
    assert best(reader.read(question, hits)) != cell


@pytest.mark.slow
def test_ask_answers_from_a_table_with_page_and_offsets(table_assistant) -> None:
    result = table_assistant.ask(
        "Which official languages does the two-column document's EU table list for Belgium?")
    assert not result.no_answer and result.answers
    top = result.answers[0]
    assert top.text == "Dutch, French, German"
    assert top.document.endswith(EU_DOC) and top.page == 3
    page_text = table_assistant.page_text(top.document, top.page)
    assert page_text[top.start:top.end] == top.text
    assert page_text[:top.start].rstrip().endswith("Belgium 11.5 30,689 Brussels")
    assert top.table_cell == "Belgium, Official Language"


@pytest.mark.slow
def test_ask_json_names_the_table_cell(table_assistant, capsys) -> None:
    from assistant.cli import main

    question = ("How many permit checks did Kentucky record in the November 2015 NICS firearm "
                "background check figures?")
    assert main(["ask", "--library", str(table_assistant.settings.library_dir), "--json",
                 "--no-answer-threshold", "5", question]) == 0
    doc = json.loads(capsys.readouterr().out)
    top = doc["answers"][0]
    assert (top["text"], top["page"], top["table_cell"]) == ("264,140", 1, "Kentucky, Permit")
