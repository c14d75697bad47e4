"""Table views of real PDF pages: rows found with their headers, values located in the page
text, views that map spans back to the passage, and prose left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.tables import looks_tabular, pdf_table_rows, table_view
from retrieval.types import SourceDocument

EU_TABLE = "pdf/multicolumn.pdf"  # page 3: Table 1, EU Countries Information
NICS = "pdf/nics-background-checks-2015-11.pdf"  # page 1: a 25-column statistics table


def _rows(docs_dir: Path, shared_documents: dict[str, SourceDocument], name: str, page: int):
    text = shared_documents[name].pages[page - 1].text
    return text, pdf_table_rows(docs_dir / name, page, text)


def _row(rows, label: str) -> dict[str, tuple[str, int, int]]:
    (row,) = [r for r in rows if r.label[0] == label]
    return dict(row.values)


def test_eu_table_values_get_their_column_headers(docs_dir, shared_documents) -> None:
    text, rows = _rows(docs_dir, shared_documents, EU_TABLE, 3)
    assert [r.label[0] for r in rows] == ["Austria", "Belgium", "Czech Republic", "Denmark",
                                          "Finland"]
    finland = _row(rows, "Finland")
    assert finland["Area (km2)"][0] == "338,424"
    assert finland["Capital"][0] == "Helsinki"
    # A cell of several words stays one value; the header's ligature is normalised as the
    # indexed text is ("Oﬃcial" -> "Official").
    assert _row(rows, "Belgium")["Official Language"][0] == "Dutch, French, German"
    for row in rows:  # every value points at its own characters of the indexed page text
        for value, start, end in dict(row.values).values():
            assert text[start:end] == value
        assert text[row.label[1]:row.label[2]] == row.label[0]


def test_statistics_table_with_uneven_rows(docs_dir, shared_documents) -> None:
    """NICS rows glue values and leave cells empty, so their cell counts vary (16-23); the
    first and last columns still get their headers."""
    text, rows = _rows(docs_dir, shared_documents, NICS, 1)
    assert len(rows) >= 50
    assert _row(rows, "Alabama")["Totals"][0] == "71,137"
    assert _row(rows, "Kentucky")["Permit"][0] == "264,140"
    kentucky = _row(rows, "Kentucky")["Permit"]
    assert text[kentucky[1]:kentucky[2]] == "264,140"


@pytest.mark.parametrize("name", ["pdf/quiet-star-2403.09629.pdf", "pdf/GeoTopo-komprimiert.pdf",
                                  "pdf/cupertino_usd_4-6-16.pdf"])
def test_prose_pages_have_no_table_rows(docs_dir, shared_documents, name: str) -> None:
    """Justified and two-column prose also has wide gaps in layout mode: it is no table (the
    quiet-star paper's page 20 was taken for one while 25% of numbers were enough)."""
    document = shared_documents[name]
    assert all(not pdf_table_rows(docs_dir / name, p.number, p.text) for p in document.pages)


def test_looks_tabular(shared_documents) -> None:
    assert looks_tabular(shared_documents[NICS].pages[0].text)
    assert looks_tabular(shared_documents[EU_TABLE].pages[2].text)
    paper = shared_documents["pdf/quiet-star-2403.09629.pdf"]
    assert not looks_tabular(paper.pages[0].text)
    # The appendix's hyper-parameters: prose lines with two numbers among many words.
    assert not looks_tabular(paper.pages[16].text)


def test_view_maps_values_back_and_refuses_header_words(docs_dir, shared_documents) -> None:
    text, rows = _rows(docs_dir, shared_documents, EU_TABLE, 3)
    start = text.index("Denmark")  # a passage that starts at the Denmark row
    view = table_view(rows, start, len(text))
    assert view is not None
    assert "Finland, Area (km2): 338,424." in view.text
    assert "Austria" not in view.text  # rows outside the passage are left out
    at = view.text.index("338,424")
    mapped = view.to_passage(at, at + len("338,424"))
    assert mapped is not None
    assert text[start + mapped[0]:start + mapped[1]] == "338,424"
    assert view.cell_name(*mapped) == "Finland, Area (km2)"
    assert view.cell_name(mapped[0], mapped[1] + 2) == ""  # runs past the cell
    finland = text.index("Finland", start) - start
    assert view.cell_name(finland, finland + len("Finland")) == ""  # a label names no cell
    header = view.text.index("Area (km2)")
    assert view.to_passage(header, header + 4) is None  # "Area" is not in the passage there
    assert view.to_passage(at - 2, at + 3) is None  # nor is ": 338"


def test_view_of_a_passage_cut_mid_row(docs_dir, shared_documents) -> None:
    """Passages are cut by length: a row whose label lies before the passage still names its
    values, but the label is no answer there."""
    text, rows = _rows(docs_dir, shared_documents, NICS, 1)
    kentucky = text.index("Kentucky")
    start = text.index("264,140", kentucky)
    view = table_view(rows, start, start + 300)
    assert view is not None
    assert view.text.startswith("Kentucky, Permit: 264,140.")
    assert view.to_passage(0, len("Kentucky")) is None
    assert view.to_passage(len("Kentucky, Permit: "), len("Kentucky, Permit: 264,140")) == (
        0, len("264,140"))


def test_no_view_without_rows_or_file(tmp_path: Path) -> None:
    assert table_view((), 0, 100) is None
    assert pdf_table_rows(tmp_path / "moved.pdf", 1, "Finland 5.5 338,424") == ()
