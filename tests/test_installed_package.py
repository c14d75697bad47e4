"""A plain (non-editable) install finds the bundled models and samples and answers from them.

Editable installs read ``resources/`` from the checkout, so they would hide a wheel that forgot
the models; this builds the real wheel, installs it into a bare folder and runs the CLI there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
                          check=False)


@pytest.mark.slow
def test_wheel_install_answers_from_its_bundled_models(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")  # builds without isolation: no index needed
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    built = _run([*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", str(REPO),
                  "-w", str(wheels)], dict(os.environ), tmp_path)
    assert built.returncode == 0, built.stderr
    wheel = next(wheels.glob("answerspan-*.whl"))
    installed = _run([*pip, "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                     dict(os.environ), tmp_path)
    assert installed.returncode == 0, installed.stderr

    # The installed copy comes first on the path; run outside the checkout so nothing in it is
    # importable by accident.
    env = {**os.environ, "PYTHONPATH": str(site), "ANSWERSPAN_LIBRARY": str(tmp_path / "lib"),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    probe = ("import assistant, answerspan_resources as r; "
             "from assistant.nlp.models import bundled_model_dir as d; "
             "print(assistant.__file__, r.__file__, d('reader'), d('taggers'), d('bias'))")
    where = _run([sys.executable, "-c", probe], env, tmp_path)
    assert where.returncode == 0, where.stderr
    assert all(p.startswith(str(site)) for p in where.stdout.split())

    pdf = site / "answerspan_resources" / "samples" / "reservoir-report.pdf"
    cli = [sys.executable, "-m", "assistant"]
    indexed = _run([*cli, "index", str(pdf)], env, tmp_path)
    assert indexed.returncode == 0, indexed.stderr
    asked = _run([*cli, "ask", "--json", "How much water does the Larkspur reservoir hold?"],
                 env, tmp_path)
    assert asked.returncode == 0, asked.stderr
    best = json.loads(asked.stdout)["answers"][0]
    assert "3.8 million cubic metres" in best["text"]
    assert best["document"] == str(pdf) and best["page"] == 1
    assert {"sentiment", "bias", "topic"} <= set(best)
