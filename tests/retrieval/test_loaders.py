"""Loaders on every real document and on each kind of bad input, made for real."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from retrieval import RetrievalError
from retrieval.loaders import LoaderError, load_document, supported_suffixes
from tests.retrieval.conftest import write_pdf_encrypted


def test_every_shared_document_loads(docs_dir: Path, shared_documents) -> None:
    files = sorted(p for p in docs_dir.rglob("*") if p.is_file())
    assert len(files) >= 20 and len(shared_documents) == len(files)
    for path in files:
        doc = shared_documents[str(path.relative_to(docs_dir))]
        assert doc.pages, path
        assert sum(len(p.text.strip()) for p in doc.pages) > 200, path
        if path.suffix == ".pdf":
            assert doc.kind == "pdf"
            assert [p.number for p in doc.pages] == list(range(1, len(doc.pages) + 1))
        else:
            assert doc.pages[0].number is None and doc.title


def test_pdf_pages_keep_their_text(shared_documents) -> None:
    doc = shared_documents["pdf/GeoTopo-komprimiert.pdf"]
    assert len(doc.pages) == 117
    # NFKC turns the PDF's "ﬂ" ligature into plain letters people can search for.
    assert "Auflage" in doc.pages[0].text and "\ufb02" not in doc.pages[0].text


def test_words_broken_at_line_ends_are_joined() -> None:
    from retrieval.loaders.pdf import join_broken_words

    pages = join_broken_words([
        "the senti-\nment of aspect-\nbased models",
        "aspect-based work in New-\nYork, 2-\nfold, fine-\ntuning and fine-\ntuned",
        "fine-tuning again",
    ])
    assert pages[0] == "the sentiment of aspect-based models"  # the paper writes "aspect-based"
    # a capital or a digit is not a broken word; a compound the text writes elsewhere stays one
    assert pages[1] == "aspect-based work in New-\nYork, 2-\nfold, fine-tuning and finetuned"


def test_pdf_text_has_no_line_end_hyphenation(shared_documents) -> None:
    """A typeset paper's broken words are whole again, so search and the reader see them."""
    doc = shared_documents["pdf/NewsMTSC-preprint.pdf"]
    text = "\n".join(p.text for p in doc.pages)
    assert "senti-\nment" not in text and text.count("sentiment") > 40
    assert "aspect-based" in text and "aspectbased" not in text


@pytest.mark.parametrize(
    "kind",
    [
        "corrupt PDF",
        "not a PDF",
        "encrypted PDF",
        "empty file",
        "no extractable text",
        "binary file",
        "unsupported type .xyz",
        "not found",
    ],
)
def test_bad_input_has_a_clear_reason(bad_files: dict[str, Path], kind: str) -> None:
    with pytest.raises(LoaderError) as info:
        load_document(bad_files[kind])
    expected = "corrupt PDF" if kind == "not a PDF" else kind
    assert info.value.reason.startswith(expected)
    assert isinstance(info.value, RetrievalError)
    assert str(bad_files[kind]) in str(info.value)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "private.txt"
    path.write_text("secret notes")
    path.chmod(0)
    with pytest.raises(LoaderError, match="not readable"):
        load_document(path)


def test_broken_link_is_not_found(tmp_path: Path) -> None:
    link = tmp_path / "gone.pdf"
    link.symlink_to(tmp_path / "deleted.pdf")
    with pytest.raises(LoaderError, match="not found"):
        load_document(link)


def test_owner_password_only_pdf_is_readable(tmp_path: Path, docs_dir: Path) -> None:
    path = write_pdf_encrypted(tmp_path / "owner.pdf", docs_dir / "pdf" / "crazyones-pdfa.pdf", "")
    assert "crazy" in load_document(path).pages[0].text.lower()


def test_folder_is_not_a_document(tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match="not a regular file"):
        load_document(tmp_path)


def test_html_keeps_article_drops_scripts_and_navigation(tmp_path: Path) -> None:
    page = tmp_path / "story.html"
    page.write_text(
        "<html><head><title>Bridge reopens</title><script>var tracker = 1;</script>"
        "<style>p {color: red}</style></head><body>"
        "<nav><a href='/'>Home</a> <a href='/sport'>Sport</a></nav>"
        "<article><h1>Bridge reopens</h1><p>The old stone bridge over the Wenn reopened on "
        "Tuesday after two years of repairs costing four million pounds.</p><p>Engineers "
        "replaced every arch and widened the footpath for cyclists and walkers alike.</p>"
        "</article><footer>Contact us</footer></body></html>",
        encoding="utf-8",
    )
    doc = load_document(page)
    text = doc.pages[0].text
    assert doc.kind == "html" and doc.title == "Bridge reopens"
    assert "four million pounds" in text and "widened the footpath" in text
    assert "tracker" not in text and "color" not in text and "Sport" not in text


def test_tiny_html_falls_back_to_visible_text(tmp_path: Path) -> None:
    page = tmp_path / "note.htm"
    page.write_text("<html><body><script>x()</script><p>Meet at noon.</p></body></html>")
    assert load_document(page).pages[0].text == "Meet at noon."


def test_text_encodings_and_markdown_title(tmp_path: Path) -> None:
    latin = tmp_path / "old.txt"
    latin.write_bytes("Café prices rose in Köln.\r\nSecond line.".encode("cp1252"))
    doc = load_document(latin)
    assert doc.pages[0].text == "Café prices rose in Köln.\nSecond line."
    md = tmp_path / "notes.md"
    md.write_text("\n# Meeting notes\n\nWe agreed.", encoding="utf-8-sig")
    doc = load_document(md)
    assert doc.kind == "md" and doc.title == "Meeting notes"


def test_supported_suffixes() -> None:
    assert {".pdf", ".txt", ".md", ".html", ".htm"} <= set(supported_suffixes())
