"""Classification metrics on hand-checked cases, and the confusion-matrix picture."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from assistant.errors import AssistantError
from assistant.nlp.training.classifier_metrics import classification_report, plot_confusion_matrix


def test_known_case() -> None:
    r = classification_report(["a", "a", "b", "c"], ["a", "b", "b", "b"], ["a", "b", "c"])
    assert r["n"] == 4 and r["accuracy"] == 0.5
    # a: P=1, R=1/2 -> 2/3; b: P=1/3, R=1 -> 1/2; c: never predicted -> 0.
    assert r["f1"] == pytest.approx({"a": 2 / 3, "b": 0.5, "c": 0.0})
    assert r["macro_f1"] == pytest.approx((2 / 3 + 0.5) / 3)
    assert r["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]


def test_perfect_and_absent_class() -> None:
    r = classification_report(["x", "y"], ["x", "y"], ["x", "y", "z"])
    assert r["accuracy"] == 1.0
    assert r["f1"]["z"] == 0.0 and r["macro_f1"] == pytest.approx(2 / 3)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="2 gold labels but 1"):
        classification_report(["a", "b"], ["a"], ["a", "b"])
    with pytest.raises(ValueError, match="outside the label set"):
        classification_report(["a"], ["q"], ["a", "b"])
    with pytest.raises(ValueError, match="no examples"):
        classification_report([], [], ["a"])


def test_plot_writes_png_or_says_what_to_install(tmp_path: Path) -> None:
    r = classification_report(["a", "b", "b"], ["a", "a", "b"], ["a", "b"])
    out = tmp_path / "cm.png"
    if importlib.util.find_spec("matplotlib") is None:
        with pytest.raises(AssistantError, match="pip install"):
            plot_confusion_matrix(r, out)
    else:
        plot_confusion_matrix(r, out)
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
