"""Fixtures of the retrieval tests: malformed files made on the spot, small text documents."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from retrieval.loaders import load_document
from retrieval.types import SourceDocument


@pytest.fixture(scope="session")
def shared_documents(docs_dir: Path) -> dict[str, SourceDocument]:
    """Every file under ../shared/docs loaded once, keyed by path relative to docs/."""
    files = sorted(p for p in docs_dir.rglob("*") if p.is_file())
    return {str(p.relative_to(docs_dir)): load_document(p) for p in files}


def write_pdf_blank(path: Path) -> Path:
    """A valid one-page PDF with no text at all (what a scanned page looks like to pypdf)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.write(path)
    return path


def write_pdf_encrypted(path: Path, source: Path, user_password: str = "secret") -> Path:
    """``source`` re-written with a user password."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.append(str(source))
    writer.encrypt(user_password=user_password, owner_password="owner-" + user_password)
    buf = io.BytesIO()
    writer.write(buf)
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture
def bad_files(tmp_path: Path, docs_dir: Path) -> dict[str, Path]:
    """One real malformed file of each kind the loaders must explain."""
    real_pdf = docs_dir / "pdf" / "NewsMTSC-preprint.pdf"
    folder = tmp_path / "bad"
    folder.mkdir()
    truncated = folder / "truncated.pdf"
    truncated.write_bytes(real_pdf.read_bytes()[:3000])
    not_pdf = folder / "letter.pdf"
    not_pdf.write_text("Dear reader, this is not a PDF at all.\n")
    empty = folder / "empty.txt"
    empty.write_bytes(b"")
    binary = folder / "photo.txt"
    binary.write_bytes(bytes(range(256)) * 40)
    unknown = folder / "table.xyz"
    unknown.write_text("some text in a file type nobody reads\n")
    return {
        "corrupt PDF": truncated,
        "not a PDF": not_pdf,
        "encrypted PDF": write_pdf_encrypted(
            folder / "locked.pdf", docs_dir / "pdf" / "crazyones-pdfa.pdf"
        ),
        "empty file": empty,
        "no extractable text": write_pdf_blank(folder / "scan.pdf"),
        "binary file": binary,
        "unsupported type .xyz": unknown,
        "not found": folder / "missing.pdf",
    }


@pytest.fixture
def small_docs(tmp_path: Path) -> Path:
    """A folder with three short text documents (cheap to embed) and a hidden file."""
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "volcano.txt").write_text(
        "Mount Arden erupted in 1783.\n\nThe eruption lasted eight months and the ash cloud "
        "reached the coast. Farmers in the valley lost most of their sheep that winter.\n"
    )
    (folder / "sub" / "bakery.md").write_text(
        "# The Corner Bakery\n\nThe corner bakery opens at six every morning. Its rye bread uses "
        "a sourdough starter kept alive since 1952 by three generations of the Moser family.\n"
    )
    (folder / "sub" / "chess.txt").write_text(
        "The village chess club meets on Thursdays in the library. Last season it won the "
        "regional cup after a tie-break against the team from Holm.\n"
    )
    (folder / ".hidden.txt").write_text("This file is hidden and must not be indexed.\n")
    return folder
