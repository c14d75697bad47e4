"""Writes ``reservoir-report.pdf``: a two-page sample PDF, text the project wrote itself.

Run ``python resources/samples/make_sample_pdf.py``. It hand-writes a minimal PDF (Helvetica,
one text block per page) so the project needs no PDF-writing dependency.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

PAGES = [
    (
        "Larkspur Valley water report",
        (
            "The Larkspur Valley reservoir supplies drinking water to about 42,000 people in four "
            "villages. It was built in 1961 by damming the Pell river below the old mill. At full "
            "level the reservoir holds 3.8 million cubic metres of water. During the dry summer of "
            "last year the level fell to 61 percent of capacity, the lowest reading since records "
            "began. Water use peaked in July at 190 litres per person per day, mostly for gardens. "
            "The treatment plant at Hollin Bridge filters and disinfects all water before it enters "
            "the network, and its laboratory tests samples every morning."
        ),
    ),
    (
        "Findings and recommendations",
        (
            "Leaks are the largest single loss. About 14 percent of treated water never reaches a "
            "tap because of old cast iron pipes under the village of Amberley. The report recommends "
            "replacing these pipes first, over the next five years, at an estimated cost of 6.5 "
            "million euros. It also recommends a garden watering ban whenever the reservoir falls "
            "below 70 percent, free water meters for every household, and a second pipeline from "
            "the Tarn springs so that the valley is not dependent on a single source. The council "
            "will vote on the plan in the spring."
        ),
    ),
]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _content(title: str, body: str) -> bytes:
    lines = [
        "BT",
        "/F2 16 Tf",
        "72 740 Td",
        f"({_escape(title)}) Tj",
        "/F1 11 Tf",
        "15 TL",
        "T* T*",
    ]
    for line in textwrap.wrap(body, 86):
        lines.append(f"({_escape(line)}) Tj T*")
    lines.append("ET")
    return "\n".join(lines).encode("latin-1")


def build() -> bytes:
    """The PDF file's bytes."""
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, filled in below once page object numbers are known
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Title (Larkspur Valley water report) /Author (Answerspan samples) >>",
    ]
    kids = []
    for title, body in PAGES:
        stream = _content(title, body)
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_no = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>" % content_no
        )
        kids.append(len(objects))
    refs = " ".join(f"{k} 0 R" for k in kids).encode()
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, len(kids))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


if __name__ == "__main__":
    target = Path(__file__).with_name("reservoir-report.pdf")
    target.write_bytes(build())
    print(f"wrote {target}")
