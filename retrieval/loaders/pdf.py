"""PDF loader: pypdf, page by page, with clear reasons for files it cannot read."""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path

from retrieval.types import Page, SourceDocument

log = logging.getLogger(__name__)

# pypdf logs a warning for every odd font or broken xref; those are normal in real PDFs and
# would drown the user's own log, so only its errors get through.
logging.getLogger("pypdf").setLevel(logging.ERROR)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Normalise extracted text: unified newlines, no control characters, no trailing blanks.

    Chunk offsets point into the *cleaned* text, which is what the library stores. NFKC turns
    PDF ligatures ("ﬂ") and compatibility forms into the letters people type in a search.
    """
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


# A word broken at a line end by a hyphen ("senti-\nment"), letters on both sides.
_BROKEN_WORD = re.compile(r"([^\W\d_]+)-\n([^\W\d_]+)")
# Words as they appear within a line, hyphenated compounds whole ("aspect-based").
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def join_broken_words(pages: list[str]) -> list[str]:
    """Undo line-end hyphenation in a document's page texts: "senti-\nment" -> "sentiment".

    Typeset PDFs break words across lines (642 times in the 13 PDFs of ../shared/docs). Left
    as is, search sees "senti" and "ment" and the reader reads word pieces of neither. A break
    before a lower-case letter is joined, unless the document writes the hyphenated form and
    never the joined one elsewhere ("aspect-\nbased" stays "aspect-based" in a paper that says
    "aspect-based" on other lines). A compound written nowhere else on one line is joined too
    ("self-\nreplications" -> "selfreplications"): the price of having no dictionary, and far
    rarer than broken words. The line break itself goes, so chunk offsets are into the joined
    text, which is what the library stores.
    """
    vocabulary = {w.lower() for text in pages for w in _WORD.findall(text)}

    def join(match: re.Match) -> str:
        first, second = match.group(1), match.group(2)
        if not second[0].islower():
            return match.group(0)  # a capital starts a new word or a name: not a broken word
        joined, compound = first + second, f"{first}-{second}"
        if compound.lower() in vocabulary and joined.lower() not in vocabulary:
            return compound
        return joined

    return [_BROKEN_WORD.sub(join, text) for text in pages]


def load_pdf(path: Path) -> SourceDocument:
    """Read the text of every page of a PDF.

    Raises:
        LoaderError: "corrupt PDF", "encrypted PDF" (password protected), or "no pages".
    """
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    from retrieval.loaders import LoaderError

    with path.open("rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" not in head:
        raise LoaderError("corrupt PDF (not a PDF file)")
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            # An empty user password still lets anyone read the file (owner-password PDFs).
            try:
                if not reader.decrypt(""):
                    raise LoaderError("encrypted PDF (password protected)")
            except (FileNotDecryptedError, NotImplementedError) as err:
                raise LoaderError("encrypted PDF (password protected)") from err
        count = len(reader.pages)
    except LoaderError:
        raise
    except FileNotDecryptedError as err:
        raise LoaderError("encrypted PDF (password protected)") from err
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as err:
        raise LoaderError(f"corrupt PDF ({err})") from err
    except (
        Exception
    ) as err:  # pypdf raises many kinds on damaged files; one bad file never stops a batch
        log.debug("pypdf failed on %s", path, exc_info=True)
        raise LoaderError(f"corrupt PDF ({type(err).__name__}: {err})") from err
    if count == 0:
        raise LoaderError("corrupt PDF (no pages)")
    texts: list[str] = []
    failed = 0
    for number in range(1, count + 1):
        try:
            text = reader.pages[number - 1].extract_text() or ""
        except FileNotDecryptedError as err:
            raise LoaderError("encrypted PDF (password protected)") from err
        except Exception:  # one damaged page should not lose the rest of the document
            log.warning("could not extract text from page %d of %s", number, path, exc_info=True)
            failed += 1
            text = ""
        texts.append(clean_text(text))
    if failed == count:
        raise LoaderError("corrupt PDF (no page could be read)")
    pages = [Page(number, text) for number, text in enumerate(join_broken_words(texts), start=1)]
    return SourceDocument(str(path), "pdf", _title(reader, path), tuple(pages))


def _title(reader, path: Path) -> str:
    try:
        meta = reader.metadata
        title = (meta.title or "").strip() if meta else ""
    except Exception:  # broken metadata is not worth failing over
        log.debug("unreadable metadata in %s", path, exc_info=True)
        title = ""
    return title or path.stem
