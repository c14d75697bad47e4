"""Classification metrics: accuracy, macro-F1, per-class F1, confusion matrix, optional plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import AssistantError


def classification_report(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    """Scores of ``predicted`` against ``gold`` over the label set ``labels``.

    Returns:
        ``{"n", "accuracy", "macro_f1", "f1": {label: f1}, "labels", "confusion_matrix"}``
        (plain numpy: no scikit-learn dependency);
        ``confusion_matrix[i][j]`` counts gold ``labels[i]`` predicted as ``labels[j]``.
        Macro-F1 averages over every label in ``labels``, so a class never predicted counts 0.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    if not gold:
        raise ValueError("no examples to score")
    labels = list(labels)
    index = {label: i for i, label in enumerate(labels)}
    unknown = {x for x in (*gold, *predicted) if x not in index}
    if unknown:
        raise ValueError(f"labels outside the label set: {sorted(unknown)}")
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for g, p in zip(gold, predicted):
        cm[index[g], index[p]] += 1
    tp = np.diag(cm).astype(np.float64)
    gold_n, pred_n = cm.sum(axis=1), cm.sum(axis=0)
    # F1 = 2TP / (gold + predicted); 0 when the class is neither present nor predicted.
    denom = gold_n + pred_n
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return {
        "n": len(gold),
        "accuracy": float(tp.sum() / len(gold)),
        "macro_f1": float(f1.mean()),
        "f1": {label: float(f) for label, f in zip(labels, f1)},
        "labels": labels,
        "confusion_matrix": cm.tolist(),
    }


def plot_confusion_matrix(report: dict[str, Any], path: str | Path, title: str = "") -> Path:
    """Write the report's confusion matrix as a PNG (needs the ``plot`` extra: matplotlib).

    Raises:
        AssistantError: matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # headless: never open a window from the CLI or tests
        import matplotlib.pyplot as plt
    except ImportError:
        raise AssistantError(
            "Plotting needs matplotlib: pip install 'answerspan[plot]' (or pip install matplotlib)."
        ) from None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    labels = report["labels"]
    cm = np.array(report["confusion_matrix"])
    size = 1.1 * len(labels) + 2.5
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(cm, cmap="Blues")
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title or f"accuracy {report['accuracy']:.3f}, macro-F1 {report['macro_f1']:.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
