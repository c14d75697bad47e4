"""Chunk offsets always slice the page exactly; chunks respect the token budget."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.chunking import Chunker, approximate_counter, tokenizer_counter

WORDS = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12),
    st.sampled_from(["The", "cat.", "Dr.", "e.g.", "U.S.", "end!", "why?", "(see", "fig.)", "—"]),
    st.text(alphabet="abcdefghij", min_size=80, max_size=400),  # words longer than a chunk
)
SEPARATORS = st.sampled_from([" ", "  ", "\n", "\n\n", "\t", " \n "])


@st.composite
def page_texts(draw) -> str:
    words = draw(st.lists(WORDS, max_size=300))
    seps = draw(st.lists(SEPARATORS, min_size=len(words), max_size=len(words)))
    return draw(st.sampled_from(["", " ", "\n"])) + "".join(w + s for w, s in zip(words, seps))


@settings(max_examples=300, deadline=None)
@given(text=page_texts(), max_tokens=st.integers(8, 120), overlap=st.integers(0, 60))
def test_offsets_slice_the_page_exactly(text: str, max_tokens: int, overlap: int) -> None:
    chunker = Chunker(max_tokens, min(overlap, max_tokens // 2))
    spans = chunker.split(text)
    covered = [False] * len(text)
    previous = (-1, -1)
    for start, end in spans:
        piece = text[start:end]
        assert piece and piece == piece.strip()
        assert sum(approximate_counter(piece.split())) <= max_tokens or len(piece.split()) == 1
        assert start > previous[0] and end > previous[1]  # always moves forward
        previous = (start, end)
        for i in range(start, end):
            covered[i] = True
    # Every non-blank character lands in at least one chunk.
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())


def test_cuts_prefer_sentence_ends() -> None:
    text = " ".join(f"Sentence number {i} talks about topic {i} at some length." for i in range(60))
    spans = Chunker(40, 10).split(text)
    assert len(spans) > 5
    assert all(text[s:e].endswith(".") for s, e in spans)
    assert all(text[s:e].startswith("Sentence") for s, e in spans)


def test_overlap_repeats_the_end_of_the_previous_chunk() -> None:
    text = " ".join(f"w{i}" for i in range(500))  # no sentences: word-level overlap
    spans = Chunker(50, 10).split(text)
    for (s1, e1), (s2, _) in itertools.pairwise(spans):
        assert s2 < e1


@pytest.fixture(scope="module")
def real_tokenizer():
    from transformers import AutoTokenizer

    from assistant.nlp.models import base_model_path

    return AutoTokenizer.from_pretrained(base_model_path())


@pytest.mark.parametrize(
    "name",
    [
        "pdf/GeoTopo-komprimiert.pdf",
        "pdf/multicolumn.pdf",
        "pdf/nics-background-checks-2015-11.pdf",
        "pdf/paperqa-pasa.pdf",
        "pdf/scotus-transcript-p1.pdf",
        "news/bbc-business_001.txt",
    ],
)
def test_real_documents_round_trip_within_budget(
    shared_documents, real_tokenizer, name: str
) -> None:
    doc = shared_documents[name]
    chunker = Chunker(200, 40, tokenizer_counter(real_tokenizer))
    chunks = chunker.chunk_document(doc, doc_id=7)
    assert chunks
    for chunk in chunks:
        page = doc.pages[chunk.page_index]
        assert page.text[chunk.start : chunk.end] == chunk.text
        assert chunk.page == page.number and chunk.doc_id == 7
    # Word-by-word counting equals tokenizing the whole chunk, so the budget is exact.
    ids = real_tokenizer([c.text for c in chunks], add_special_tokens=False)["input_ids"]
    assert max(len(x) for x in ids) <= 200
    pages_with_text = {i for i, p in enumerate(doc.pages) if p.text.strip()}
    assert {c.page_index for c in chunks} == pages_with_text


def test_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError):
        Chunker(4, 0)
    with pytest.raises(ValueError):
        Chunker(100, 80)
