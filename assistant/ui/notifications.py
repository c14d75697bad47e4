"""The one place errors reach the user: readable messages and the notification bar."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStyle, QWidget

from assistant.errors import AssistantError
from retrieval import RetrievalError


def user_message(exc: BaseException) -> str:
    """A readable message for any exception (ours carry one; others get their type)."""
    if isinstance(exc, AssistantError | RetrievalError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or 'File error'}: {exc.filename or exc}"
    return f"Unexpected error ({type(exc).__name__}): {exc}"


class NotificationBar(QFrame):
    """The one place where the app tells the user something went wrong (or right)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Notification")
        self.history: list[tuple[str, str]] = []  # (level, message), for tests and the log
        self.icon = QLabel()
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QPushButton("✕")
        close.setFlat(True)
        close.setFixedWidth(28)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.icon)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.hide()

    def show_message(self, level: str, message: str) -> None:
        """Show ``message``; ``level`` is ``info``, ``warning`` or ``error``."""
        self.history.append((level, message))
        pixmap = {
            "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
            "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
            "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
        }[level]
        self.icon.setPixmap(self.style().standardIcon(pixmap).pixmap(18, 18))
        self.label.setText(message)
        self.setProperty("level", level)
        self.style().unpolish(self)
        self.style().polish(self)
        self.show()
