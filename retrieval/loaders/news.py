"""Plain text, Markdown and HTML news files: one page of article text each."""

from __future__ import annotations

import logging
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

from retrieval.loaders.pdf import clean_text
from retrieval.types import Page, SourceDocument

log = logging.getLogger(__name__)

# Bytes that never appear in text files; a handful in the first block means a binary file.
_BINARY_BYTES = bytes(range(9)) + bytes(range(14, 32)) + b"\x7f"


def read_text(path: Path) -> str:
    """Decode a text file (UTF-8, with BOM, or UTF-16 with BOM; else Windows-1252).

    Raises:
        LoaderError: "binary file" when the bytes are not text.
    """
    from retrieval.loaders import LoaderError

    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise LoaderError("binary file (not text)") from err
    sample = data[:8192]
    if b"\x00" in sample or sum(sample.count(b) for b in _BINARY_BYTES) > len(sample) * 0.01:
        raise LoaderError("binary file (not text)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        log.info("%s is not UTF-8; reading it as Windows-1252", path)
        return data.decode("cp1252", errors="replace")


def _first_line_title(text: str, path: Path) -> str:
    for line in text.split("\n"):
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return path.stem


def load_text(path: Path) -> SourceDocument:
    """A ``.txt`` or ``.md`` file as one page; its first non-empty line is the title."""
    text = clean_text(read_text(path))
    kind = "md" if path.suffix.lower() in (".md", ".markdown") else "txt"
    return SourceDocument(str(path), kind, _first_line_title(text, path), (Page(None, text),))


def load_html(path: Path) -> SourceDocument:
    """The article text of an HTML page, without scripts, styles, navigation and footers.

    trafilatura finds the main content; when it finds none (a tiny page, an odd layout) a plain
    tag stripper that drops script/style/nav/header/footer keeps the visible text instead.
    """
    html = read_text(path)
    text, title = "", ""
    try:
        import trafilatura

        text = (
            trafilatura.extract(
                html, include_comments=False, include_tables=True, favor_recall=True
            )
            or ""
        )
        meta = trafilatura.extract_metadata(html)
        title = (meta.title or "") if meta is not None else ""
    except Exception:  # a parser failure on one page falls back to the simple stripper
        log.debug("trafilatura failed on %s", path, exc_info=True)
    if not text.strip():
        stripper = _TextStripper()
        stripper.feed(html)
        stripper.close()
        text, title = stripper.text(), title or stripper.title.strip()
    text = clean_text(text)
    return SourceDocument(
        str(path), "html", title.strip() or _first_line_title(text, path), (Page(None, text),)
    )


class _TextStripper(HTMLParser):
    """Visible text of an HTML page, skipping non-content elements."""

    _SKIP: ClassVar[frozenset[str]] = frozenset(
        {"script", "style", "nav", "header", "footer", "aside", "noscript", "template", "svg"}
    )
    _BLOCK: ClassVar[frozenset[str]] = frozenset(
        {
            "p",
            "div",
            "br",
            "li",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "tr",
            "section",
            "article",
            "blockquote",
            "pre",
            "table",
            "ul",
            "ol",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._skip_depth = 0
        self._in_title = False
        self.title = ""

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
        elif tag == "title":
            self._in_title = True
        elif tag in self._BLOCK:
            self._parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip_depth:
            self._skip_depth -= 1
        elif tag == "title":
            self._in_title = False
        elif tag in self._BLOCK:
            self._parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip_depth:
            self._parts.append(data)

    def text(self) -> str:
        joined = "".join(self._parts)
        lines = (re.sub(r"[ \t\xa0]+", " ", line).strip() for line in joined.split("\n"))
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
