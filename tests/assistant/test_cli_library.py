"""The library commands through ``assistant.cli.main`` with ``--json``: index, list, search,
remove, demo and evaluate retrieval, on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main


def run(capsys, *argv: str) -> tuple[int, object]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out) if "--json" in argv else out


@pytest.fixture
def docs(tmp_path: Path, docs_dir: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("bbc-business_001.txt", "bbc-sport_001.txt"):
        (folder / name).write_bytes((docs_dir / "news" / name).read_bytes())
    (folder / "notes.md").write_text("# Orchard\n\nThe orchard has 140 apple trees of 12 kinds.\n")
    return folder


def test_index_list_search_remove(tmp_path: Path, docs: Path, capsys) -> None:
    lib = str(tmp_path / "lib")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog")  # truncated
    code, report = run(
        capsys, "index", "--library", lib, "--no-tags", "--json", str(docs), str(broken)
    )
    assert code == 1  # one file was skipped
    statuses = {Path(f["path"]).name: (f["status"], f["reason"]) for f in report["files"]}
    assert statuses["broken.pdf"][0] == "skipped" and "corrupt PDF" in statuses["broken.pdf"][1]
    assert {statuses[n][0] for n in ("bbc-business_001.txt", "bbc-sport_001.txt", "notes.md")} == {
        "added"
    }
    assert report["summary"] == {"added": 3, "skipped": 1}

    code, report = run(capsys, "index", "--library", lib, "--no-tags", "--json", str(docs))
    assert code == 0 and report["summary"] == {"unchanged": 3}

    # An article with a paragraph added at its end: only its last passages are new.
    article = docs / "bbc-business_001.txt"
    article.write_text(article.read_text() + "\nEditor's note: figures were corrected on "
                       "Friday after the company restated its accounts.\n")
    code, report = run(capsys, "index", "--library", lib, "--no-tags", "--json", str(article))
    (updated,) = report["files"]
    assert code == 0 and updated["status"] == "updated"
    assert 1 <= updated["passages_kept"] < updated["passages"]
    article.write_text(article.read_text() + "\nA second note.\n")
    code, text = run(capsys, "index", "--library", lib, "--no-tags", str(article))
    assert f"passages, {updated['passages_kept']} unchanged)" in text

    code, listing = run(capsys, "list", "--library", lib, "--json")
    assert code == 0 and sorted(Path(d["path"]).name for d in listing) == [
        "bbc-business_001.txt",
        "bbc-sport_001.txt",
        "notes.md",
    ]

    code, found = run(
        capsys,
        "search",
        "--library",
        lib,
        "-k",
        "2",
        "--json",
        "How many apple trees are in the orchard?",
    )
    assert code == 0 and len(found["hits"]) == 2
    top = found["hits"][0]
    assert top["document"].endswith("notes.md") and "140 apple trees" in top["text"]
    assert top["page"] is None and top["score"] > found["hits"][1]["score"]
    page = (docs / "notes.md").read_text()
    assert page[top["start"] : top["end"]] == top["text"]

    code, found = run(
        capsys, "search", "--library", lib, "--mode", "lexical", "--json", "TimeWarner profit"
    )
    assert found["mode"] == "lexical" and found["hits"][0]["document"].endswith(
        "bbc-business_001.txt"
    )

    code, text = run(capsys, "search", "--library", lib, "quarterly", "profits")
    assert code == 0 and "bbc-business_001.txt" in text

    code, report = run(
        capsys,
        "remove",
        "--library",
        lib,
        "--json",
        str(docs / "notes.md"),
        str(docs / "never-added.txt"),
    )
    assert code == 1
    assert [f["status"] for f in report["files"]] == ["removed", "skipped"]
    code, listing = run(capsys, "list", "--library", lib, "--json")
    assert len(listing) == 2

    code, text = run(capsys, "list", "--library", lib)
    assert "bbc-sport_001.txt" in text


def test_errors_are_messages_not_tracebacks(tmp_path: Path, capsys) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    assert main(["list", "--library", str(not_a_folder)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    code, text = run(capsys, "list", "--library", str(tmp_path / "new"))
    assert code == 0 and "empty" in text


def test_evaluate_retrieval_json(data_dir: Path, capsys) -> None:
    squad = data_dir / "qa" / "squad-v1.1-dev.json.gz"
    code, result = run(
        capsys,
        "evaluate",
        "retrieval",
        "--squad",
        str(squad),
        "--articles",
        "1",
        "--limit",
        "40",
        "--mode",
        "all",
        "--json",
    )
    assert code == 0
    assert result["questions"] == 40 and result["documents"] == 1 and result["passages"] >= 54
    for mode in ("hybrid", "dense", "lexical"):
        r = result["modes"][mode]
        assert 0 <= r["recall_at_1"] <= r["recall_at_5"] <= r["recall_at_10"] <= 1
        assert r["p95_ms"] >= r["p50_ms"] > 0
    assert result["recall_at_5"] == result["modes"]["hybrid"]["recall_at_5"] >= 0.8
    assert result["index_seconds"] > 0


@pytest.mark.slow
def test_demo_indexes_the_samples_and_answers(capsys) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "added     " in out and "reservoir-report.pdf" in out
    assert "3.8 million cubic metres" in out
    assert "page 1" in out
