"""Tables in PDF pages, read row by row with their column headers.

A PDF table comes out of plain text extraction as rows of bare values ("Finland 5.5 338,424
Helsinki Finnish, Swedish"), far from the header line that names them, and an extractive reader
trained on prose cannot tell which number is the area. pypdf's layout mode keeps the columns
apart (cells separated by runs of spaces), so each value can be given its column header. A
:class:`TableView` renders the rows of one passage as short sentences ("Finland, Area (km2):
338,424.") for the reader, and maps a span it finds in a value back to the passage, where the
answer is shown and highlighted as usual (``page_text[start:end] == text`` still holds).

Only PDF pages whose passage looks like a table are re-read (5-250 ms a page in
``../shared/docs``, once: the rows are cached); any failure just means no view, and the passage
is read as it is. The view is an addition: the passage itself is still read.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)
# pypdf logs every font it cannot fully parse (in layout mode too); the loader silences it as well.
logging.getLogger("pypdf").setLevel(logging.ERROR)

# A cell in layout text: words separated by single spaces; two or more spaces part cells.
_CELL = re.compile(r"\S+(?: \S+)*")
# A value cell that is a number: "338,424", "5.5", "-3%", "$1.2", "98 452" (space-grouped).
_NUMBER_CELL = re.compile(r"[-+(]?[$€£]?\d[\d,.% ]*\)?")
_NUMBER_TOKEN = re.compile(r"(?<!\S)[-+(]?[$€£]?\d[\d,.%]*\)?(?!\S)")
MIN_CELLS = 3  # a table line has at least a label and two values
MIN_ROWS = 2


@dataclass(frozen=True)
class LayoutCell:
    """A cell of one layout-text line: its text and its columns in that line."""

    text: str
    left: int
    right: int


@dataclass(frozen=True)
class TableRow:
    """One data row: its label cell and ``(column header, value)`` pairs, where every value
    is ``(text, start, end)`` with ``page_text[start:end] == text``."""

    label: tuple[str, int, int]
    values: tuple[tuple[str, tuple[str, int, int]], ...]


def looks_tabular(text: str, min_lines: int = 3) -> bool:
    """Whether ``text`` has at least ``min_lines`` lines of two or more numbers making up at
    least a quarter of their words: a cheap test, run on every passage read, before a page is
    re-read in layout mode. (Without the quarter, half the PDF pages in ../shared/docs passed,
    for their references' years and pages; with it a quarter do, every table page among them.)
    """
    def row_like(line: str) -> bool:
        numbers = len(_NUMBER_TOKEN.findall(line))
        return numbers >= 2 and numbers >= 0.25 * len(line.split())

    return sum(1 for line in text.splitlines() if row_like(line)) >= min_lines


def split_cells(line: str) -> list[LayoutCell]:
    """The cells of one layout-text line."""
    return [LayoutCell(m.group(), m.start(), m.end()) for m in _CELL.finditer(line)]


def _is_data(cells: Sequence[LayoutCell]) -> bool:
    """A row of values: three or more cells, at least one a number ("Area (km2)" is not)."""
    return len(cells) >= MIN_CELLS and any(_NUMBER_CELL.fullmatch(c.text) for c in cells[1:])


def _table_like(data: Sequence[list[LayoutCell]], columns: int) -> bool:
    """Whether rows of cells are a table rather than justified prose (whose wide gaps split
    it into cells too): the values are mostly numbers (statistics, where empty and glued cells
    vary the count), or at least 40% numbers in rows that mostly fill the header's columns."""
    values = [c for cells in data for c in cells[1:]]
    numbers = sum(1 for c in values if _NUMBER_CELL.fullmatch(c.text)) / len(values)
    filled = sum(len(cells) == columns for cells in data) >= len(data) / 2
    return numbers >= 0.6 or (filled and numbers >= 0.4)


def _column_of(cell: LayoutCell, row_width: int, header: Sequence[LayoutCell],
               header_width: int) -> int:
    """The header column nearest ``cell``, positions scaled to each line's width (rows and
    headers are often set in different fonts, so raw columns drift apart)."""
    centre = (cell.left + cell.right) / 2 / max(row_width, 1)
    return min(range(len(header)), key=lambda i: abs(
        (header[i].left + header[i].right) / 2 / max(header_width, 1) - centre))


def parse_layout_tables(layout_text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Rows of the tables in a page's layout text, each ``(label, [(header, value), ...])``.

    A table is a line of at least three cells naming the columns, followed by at least two
    lines of a label and values with numbers among them that pass :func:`_table_like`. Values
    go to the column of the same position when a row has as many cells as the header, else to
    the nearest column.
    """
    layout_text = unicodedata.normalize("NFKC", layout_text)  # as the indexed page text
    lines = [split_cells(line) for line in layout_text.splitlines()]
    rows: list[tuple[str, list[tuple[str, str]]]] = []
    i = 0
    while i < len(lines):
        if len(lines[i]) < MIN_CELLS:
            i += 1
            continue
        # A header: consecutive lines of cells without numbers, ending at the first data line.
        start = i
        while i < len(lines) and lines[i] and not _is_data(lines[i]):
            i += 1
        # The last line before the values names the columns. Group headers above it
        # ("Redemption" over "Handgun") are not used: their columns drift from the values'.
        header = lines[i - 1] if i > start else []
        if len(header) < MIN_CELLS:
            i = max(i, start + 1)
            continue
        names = [c.text for c in header]
        header_width = header[-1].right
        data = []
        while i < len(lines) and _is_data(lines[i]):
            data.append(lines[i])
            i += 1
        if len(data) < MIN_ROWS or not _table_like(data, len(header)):
            continue
        for cells in data:
            if len(cells) == len(header):
                pairs = [(names[j], c.text) for j, c in enumerate(cells[1:], start=1)]
            else:
                width = cells[-1].right
                pairs = [(names[_column_of(c, width, header, header_width)], c.text)
                         for c in cells[1:]]
            rows.append((cells[0].text, pairs))
    return rows


def locate_rows(rows: Sequence[tuple[str, list[tuple[str, str]]]],
                page_text: str) -> list[TableRow]:
    """Find the rows' cells in the page's plain text, in order; a row whose label is not
    found is dropped, as is a value not found on its label's line."""
    located = []
    cursor = 0
    for label, pairs in rows:
        at = page_text.find(label, cursor)
        if at < 0:
            continue
        pos = at + len(label)
        # Plain extraction keeps a row on one line: a value is looked for there only, so that
        # one missing from it (glued to its neighbour in layout mode) is not taken from a
        # later row.
        limit = page_text.find("\n", pos)
        limit = len(page_text) if limit < 0 else limit
        values = []
        for header, value in pairs:
            found = page_text.find(value, pos, limit)
            if found < 0:
                continue
            values.append((header, (value, found, found + len(value))))
            pos = found + len(value)
        if values:
            located.append(TableRow((label, at, at + len(label)), tuple(values)))
            cursor = pos
    return located


@lru_cache(maxsize=64)
def _pdf_page_rows(path: str, page: int, page_text: str, mtime: float) -> tuple[TableRow, ...]:
    from pypdf import PdfReader

    layout = PdfReader(path).pages[page - 1].extract_text(extraction_mode="layout") or ""
    return tuple(locate_rows(parse_layout_tables(layout), page_text))


def pdf_table_rows(path: str | Path, page: int, page_text: str) -> tuple[TableRow, ...]:
    """The table rows of page ``page`` (1-based) of the PDF at ``path``, located in the page's
    indexed ``page_text``; empty when the file cannot be read (moved, changed, damaged)."""
    try:
        return _pdf_page_rows(str(path), page, page_text, Path(path).stat().st_mtime)
    except Exception:  # a view is an extra: any failure means the passage is read as it is
        log.debug("no table view for page %s of %s", page, path, exc_info=True)
        return ()


@dataclass(frozen=True)
class TableView:
    """Table rows of one passage as sentences for the reader, with the way back.

    ``text`` holds one line per row, a sentence per value: "Label, Header: value.";
    ``segments`` maps each label and value in ``text`` to its offsets in the passage, and
    ``names`` gives each value segment its cell's name, "Label, Header" ("" for labels).
    """

    text: str
    segments: tuple[tuple[int, int, int], ...]  # (start in text, end in text, start in passage)
    names: tuple[str, ...] = ()

    def to_passage(self, start: int, end: int) -> tuple[int, int] | None:
        """Passage offsets of the span ``text[start:end]`` when it lies within one label or
        value (a span over the added header words has no place in the passage)."""
        for seg_start, seg_end, passage_start in self.segments:
            if seg_start <= start and end <= seg_end and start < end:
                return passage_start + start - seg_start, passage_start + end - seg_start
        return None

    def cell_name(self, start: int, end: int) -> str:
        """"Label, Header" of the table value holding the passage span ``[start, end)``, so an
        answer can say which row and column it is ("" when the span is no table value)."""
        for (seg_start, seg_end, passage_start), name in zip(self.segments, self.names,
                                                             strict=False):
            seg_end = passage_start + seg_end - seg_start
            if name and passage_start <= start and end <= seg_end and start < end:
                return name
        return ""


def table_view(rows: Sequence[TableRow], passage_start: int, passage_end: int) -> TableView | None:
    """The view of the rows' values lying in the passage ``page_text[passage_start:
    passage_end]`` (``None`` when none does)."""
    parts: list[str] = []
    segments: list[tuple[int, int, int]] = []
    names: list[str] = []
    length = 0

    def add(piece: str, page_start: int | None = None, name: str = "") -> None:
        nonlocal length
        if page_start is not None:
            segments.append((length, length + len(piece), page_start - passage_start))
            names.append(name)
        parts.append(piece)
        length += len(piece)

    def inside(start: int, end: int) -> bool:
        return passage_start <= start and end <= passage_end

    for row in rows:
        # Passages are cut by length, not by row: a row may begin before the passage (its
        # label then only names the values, it cannot be an answer here) or end after it.
        values = [(h, v) for h, v in row.values if inside(v[1], v[2])]
        if not values:
            continue
        label, label_start, label_end = row.label
        for header, (value, value_start, _) in values:
            add(label, label_start if inside(label_start, label_end) else None)
            add(f", {header}: ")
            add(value, value_start, f"{label}, {header}")
            add(". ")
        add("\n")
    if not segments:
        return None
    return TableView("".join(parts), tuple(segments), tuple(names))
