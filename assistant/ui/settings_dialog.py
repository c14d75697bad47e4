"""User settings: stored with QSettings, edited in a small dialog."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from assistant.config import Settings
from assistant.errors import AssistantError, ConfigError
from assistant.nlp.models import library_no_answer_threshold

log = logging.getLogger(__name__)

_KEYS = ("library_dir", "top_k", "reader_model", "tag_passages", "no_answer_threshold")


def load_settings(store: QSettings, base: Settings | None = None) -> Settings:
    """Settings from ``store`` on top of ``base``; an invalid stored value falls back to ``base``."""
    settings = base or Settings()
    values: dict = {}
    if store.contains("settings/library_dir"):
        values["library_dir"] = Path(str(store.value("settings/library_dir")))
    if store.contains("settings/top_k"):
        values["top_k"] = store.value("settings/top_k", settings.top_k, type=int)
    if store.contains("settings/reader_model"):
        values["reader_model"] = str(store.value("settings/reader_model") or "") or None
    if store.contains("settings/tag_passages"):
        values["tag_passages"] = store.value("settings/tag_passages", True, type=bool)
    if store.contains("settings/no_answer_threshold"):
        raw = str(store.value("settings/no_answer_threshold") or "").strip()
        try:
            custom = float(raw) if raw else None
        except ValueError:
            log.warning("ignoring stored no-answer threshold %r", raw)
        else:
            reader = values.get("reader_model", settings.reader_model)
            values["no_answer_threshold"] = _carried_threshold(store, custom, reader)
    try:
        return replace(settings, **values)
    except ConfigError as err:
        log.warning("ignoring stored settings: %s", err)
        return settings


def save_settings(store: QSettings, settings: Settings) -> None:
    """Persist the user-editable fields of ``settings``."""
    store.setValue("settings/library_dir", str(settings.library_dir))
    store.setValue("settings/top_k", settings.top_k)
    store.setValue("settings/reader_model", settings.reader_model or "")
    store.setValue("settings/tag_passages", settings.tag_passages)
    threshold = settings.no_answer_threshold
    store.setValue("settings/no_answer_threshold", "" if threshold is None else repr(threshold))
    # The value the reader was calibrated to when the user chose theirs: a new reader scores
    # on another scale, so load_settings moves the user's value along with the calibration.
    against = "" if threshold is None else repr(calibrated_threshold(settings.reader_model))
    store.setValue(_SET_AGAINST_KEY, against)
    store.sync()


_SET_AGAINST_KEY = "settings/no_answer_threshold_set_against"


def calibrated_threshold(reader_model: str | None) -> float:
    """The no-answer threshold a reader was calibrated to over a library's passages (what the
    app uses when the user sets none); 0 for a reader without ``answerspan.json``."""
    return library_no_answer_threshold(read_model_settings_light(reader_model))


def _carried_threshold(store: QSettings, custom: float | None,
                       reader_model: str | None) -> float | None:
    """The user's stored threshold for the reader in use now.

    Thresholds are on each reader's own scale (the bundled reader's calibrated value moved from
    -13.1 to -5.4 when it was retrained), so a value is kept as an offset from the calibrated
    value it was set against. A value stored without that reference (by an earlier version) is
    dropped with a warning rather than applied on an unknown scale.
    """
    if custom is None:
        return None
    raw = str(store.value(_SET_AGAINST_KEY) or "").strip()
    try:
        then = float(raw)
    except ValueError:
        log.warning("ignoring the stored no-answer threshold %s: it was saved without the "
                    "calibrated value it was set against; using the reader's own", custom)
        return None
    now = calibrated_threshold(reader_model)
    if abs(now - then) < 1e-9:
        return custom
    moved = round(custom + (now - then), 4)
    log.info("the reader's calibrated no-answer threshold moved from %s to %s; the user's "
             "threshold moves with it from %s to %s", then, now, custom, moved)
    return moved


class SettingsDialog(QDialog):
    """Library location, number of passages, reader model, no-answer threshold and tagging."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(580)
        self._settings = settings

        self.library_edit = QLineEdit(str(settings.library_dir))
        self.library_edit.setToolTip("Where the index of your documents is stored.")
        browse_lib = QPushButton("Browse…")
        browse_lib.clicked.connect(self._browse_library)
        lib_row = QHBoxLayout()
        lib_row.addWidget(self.library_edit, 1)
        lib_row.addWidget(browse_lib)

        self.top_k_spin = QSpinBox()
        self.top_k_spin.setRange(1, 50)
        self.top_k_spin.setValue(settings.top_k)
        self.top_k_spin.setToolTip("How many passages the reader reads for each question.")

        self.reader_edit = QLineEdit(settings.reader_model or "")
        self.reader_edit.setPlaceholderText("bundled reader")
        self.reader_edit.setToolTip(
            "A fine-tuned question-answering model folder; leave empty for the bundled one."
        )
        browse_reader = QPushButton("Browse…")
        browse_reader.clicked.connect(self._browse_reader)
        reader_row = QHBoxLayout()
        reader_row.addWidget(self.reader_edit, 1)
        reader_row.addWidget(browse_reader)

        # The reader abstains ("not in your documents") when its no-answer score is above the
        # threshold. Unchecked, the user's own value replaces the one calibrated with the model.
        self.threshold_default = QCheckBox("the reader's calibrated value")
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setRange(-100.0, 100.0)
        self.threshold_spin.setDecimals(1)
        self.threshold_spin.setSingleStep(1.0)
        self.threshold_spin.setToolTip(
            "The reader says the documents do not answer when its no-answer score is above "
            "this. Higher: it answers more often (and more often wrongly); lower: it abstains "
            "more readily."
        )
        custom = settings.no_answer_threshold
        calibrated = calibrated_threshold(settings.reader_model)
        # What the spin box is relative to: a change of reader moves it (_reader_changed).
        self._shown_calibrated = calibrated
        self.threshold_spin.setValue(custom if custom is not None else calibrated)
        self.threshold_default.setChecked(custom is None)
        self.threshold_spin.setEnabled(custom is not None)
        self.threshold_default.toggled.connect(
            lambda on: self.threshold_spin.setEnabled(not on)
        )
        self.reader_edit.editingFinished.connect(self._reader_changed)
        threshold_row = QHBoxLayout()
        threshold_row.addWidget(self.threshold_spin)
        threshold_row.addWidget(self.threshold_default, 1)

        self.tag_check = QCheckBox("Tag passages with sentiment, bias and topic")
        self.tag_check.setChecked(settings.tag_passages)

        form = QFormLayout()
        form.addRow("Library location:", lib_row)
        form.addRow("Passages per question:", self.top_k_spin)
        form.addRow("Reader model:", reader_row)
        form.addRow("No-answer threshold:", threshold_row)
        form.addRow("", self.tag_check)
        note = QLabel(
            "A new library location opens the library there (or starts an empty one). "
            "Tagging applies to documents indexed from now on."
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #6a737d;")
        form.addRow("", note)

        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.setWordWrap(True)
        self.error_label.hide()

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def result_settings(self) -> Settings:
        """The settings as edited (raises ConfigError when a value is invalid)."""
        library = self.library_edit.text().strip()
        if not library:
            raise ConfigError("Please choose a library location.")
        reader = self.reader_edit.text().strip() or None
        # Checked here (no model import on the GUI thread): a folder must hold a model.
        if (
            reader
            and reader.startswith(("/", ".", "~"))
            and not (Path(reader).expanduser() / "config.json").is_file()
        ):
            raise ConfigError(f"{reader} is not a model folder (it has no config.json).")
        return replace(
            self._settings,
            library_dir=Path(library),
            top_k=self.top_k_spin.value(),
            reader_model=reader,
            tag_passages=self.tag_check.isChecked(),
            no_answer_threshold=(
                None if self.threshold_default.isChecked() else self.threshold_spin.value()
            ),
        )

    def accept(self) -> None:
        try:
            self.result_settings()
        except ConfigError as err:
            self.error_label.setText(str(err))
            self.error_label.show()
            return
        super().accept()

    def _browse_library(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Library location", self.library_edit.text()
        )
        if folder:
            self.library_edit.setText(folder)

    def _browse_reader(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Reader model folder")
        if folder:
            self.reader_edit.setText(folder)
            self._reader_changed()

    def _reader_changed(self) -> None:
        """Show the threshold on the chosen reader's scale: its calibrated value, or the user's
        value moved by as much as the calibration differs."""
        calibrated = calibrated_threshold(self.reader_edit.text().strip() or None)
        shift = calibrated - self._shown_calibrated
        self._shown_calibrated = calibrated
        if self.threshold_default.isChecked():
            self.threshold_spin.setValue(calibrated)
        elif shift:
            self.threshold_spin.setValue(self.threshold_spin.value() + shift)


def read_model_settings_light(reader_model: str | None) -> dict:
    """The reader's ``answerspan.json`` without loading anything heavy (runs on the GUI thread);
    ``{}`` for a model id or a folder without one."""
    from assistant.nlp.models import read_model_settings, resolve_model

    try:
        return read_model_settings(resolve_model(reader_model, "reader"))
    except (AssistantError, OSError):
        return {}
