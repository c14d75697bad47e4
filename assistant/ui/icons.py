"""The application icon, drawn from an embedded SVG (same artwork as packaging/answerspan.svg)."""

from __future__ import annotations

from PySide6.QtCore import QByteArray
from PySide6.QtGui import QIcon, QPixmap

APP_ICON_SVG = b"""<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
  <rect x="16" y="16" width="224" height="224" rx="48" fill="#2f6feb"/>
  <rect x="56" y="60" width="144" height="20" rx="10" fill="#ffffff" opacity="0.9"/>
  <rect x="56" y="100" width="88" height="20" rx="10" fill="#ffffff" opacity="0.9"/>
  <rect x="150" y="96" width="56" height="28" rx="6" fill="#ffd54f"/>
  <rect x="56" y="140" width="144" height="20" rx="10" fill="#ffffff" opacity="0.9"/>
  <rect x="56" y="180" width="104" height="20" rx="10" fill="#ffffff" opacity="0.9"/>
</svg>"""


def app_icon() -> QIcon:
    """A page of text with one highlighted span: what the app does."""
    pixmap = QPixmap()
    if not pixmap.loadFromData(QByteArray(APP_ICON_SVG), "SVG"):
        return QIcon()  # the SVG image plugin is missing: fall back to the platform default
    return QIcon(pixmap)
