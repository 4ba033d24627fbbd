"""Evidence in original text: a match in normalized text maps back to its exact span in the original document."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decontam import Benchmark, Item, check
from decontam.config import NormalizeConfig
from decontam.evidence import DocumentMap, excerpt, match_evidence, original_span
from decontam.normalize import normalize

CONFIGS = [NormalizeConfig(lowercase=lo, nfkc=nf, unescape=un)
           for lo in (False, True) for nf in (False, True) for un in (False, True)]
# text with what makes mapping hard: escapes, entities, compatibility characters, case changes of varying length
ALPHABET = st.sampled_from(list("ab AZ09_-.\n\\\"&;#xun") + ["é", "e\u0301", "ﬁ", "①", "İ", "Σ", "ß", "\\n",
                                                              "\\u00e9", "&amp;", "&#39;", "Ａ", "٣", "ǅ"])
texts = st.lists(ALPHABET, min_size=1, max_size=40).map("".join)


def _ranges(n: int) -> st.SearchStrategy[tuple[int, int]]:
    return st.tuples(st.integers(0, n - 1), st.integers(1, n)).filter(lambda t: t[0] < t[1])


@settings(max_examples=400, deadline=None)
@given(text=texts, cfg=st.sampled_from(CONFIGS), data=st.data())
def test_span_normalizes_to_contain_the_run_and_is_minimal(text, cfg, data):
    norm = normalize(text, cfg)
    if not norm:
        return
    start, end = data.draw(_ranges(len(norm)))
    target = norm[start:end]
    doc = DocumentMap(text, cfg)
    s, e = doc.span(start, end)
    assert 0 <= s < e <= len(text)
    assert target in normalize(text[s:e], cfg)
    # minimal: neither end can be dropped
    assert target not in normalize(text[s + 1 : e], cfg)
    assert target not in normalize(text[s : e - 1], cfg)
    if doc.per_character:  # exact: the span is the run itself, at that position
        assert normalize(text[s:e], cfg) == target
        assert len(normalize(text[:s], cfg)) == start


@settings(max_examples=300, deadline=None)
@given(text=st.text(min_size=1, max_size=200), data=st.data())
def test_default_rule_maps_every_run_exactly(text, data):
    """The GPT-4 rule on any Unicode text: the span normalizes to the run itself, where it was found."""
    norm = normalize(text)
    if not norm:
        return
    start, end = data.draw(_ranges(len(norm)))
    s, e = original_span(text, start, end)
    assert normalize(text[s:e]) == norm[start:end]
    assert normalize(text[:s]) == norm[:start]
    assert normalize(text[s:e][:1]) and normalize(text[s:e][-1:])  # starts and ends on kept characters


@pytest.mark.parametrize("text, cfg, start, end, want, why", [
    ("x  Hello,\n world!  y", NormalizeConfig(), 1, 11, "Hello,\n world", "spaces, punctuation, newline inside"),
    ('print("caf\\u00e9 au lait")', NormalizeConfig(unescape=True), 5, 15, "caf\\u00e9 au lait",
     "escape inside the span: kept whole"),
    ("Tom &amp; Jerry", NormalizeConfig(unescape=True), 0, 8, "Tom &amp; Jerry", "entity removed by strip"),
    ("the ﬁrst one", NormalizeConfig(nfkc=True), 3, 8, "ﬁrst", "one character -> two"),
    ("ABC-DEF", NormalizeConfig(lowercase=True), 1, 5, "BC-DE", "lowercase on ASCII: per character"),
])
def test_known_cases(text, cfg, start, end, want, why):
    s, e = original_span(text, start, end, cfg)
    assert text[s:e] == want, why


def test_excerpt_is_bounded_and_highlight_points_at_the_span():
    text = "a" * 1000 + "NEEDLE" + "b" * 1000
    ev = excerpt(text, 1000, 1006, context=50)
    assert len(ev["excerpt"]) == 106 and ev["start"] == 950 and ev["doc_chars"] == 2006
    hs, he = ev["highlight"]
    assert ev["excerpt"][hs:he] == "NEEDLE"
    assert excerpt("xNEEDLEy", 1, 7, context=300) == {"start": 0, "excerpt": "xNEEDLEy", "highlight": [1, 7],
                                                      "doc_chars": 8}


def test_match_evidence_converts_utf8_byte_runs():
    text = "Ünïcödé — «quoted» text: Grüße aus Köln!"
    norm = normalize(text)
    raw = norm.encode("utf-8")
    target = "GrüßeausKöln"
    bs = raw.index(target.encode())
    ev = match_evidence(text, raw, {7: (bs, bs + len(target.encode()))})[7]
    hs, he = ev["highlight"]
    assert ev["excerpt"][hs:he] == "Grüße aus Köln"


@pytest.mark.parametrize("cfg", [NormalizeConfig(), NormalizeConfig(lowercase=True, nfkc=True, unescape=True)])
def test_report_evidence_from_a_check(cfg):
    """End to end: each match's evidence is a window of the original document whose highlight holds the probe."""
    q = "Write a function that returns the sum of two integers given as arguments; test it."
    docs = [{"id": "plain", "text": "intro\n" + q.replace(" ", "\n   ") + "\noutro"},
            {"id": "escaped", "text": 'code = "' + json.dumps(q.upper())[1:-1].replace(" ", "\\n") + '"'},
            {"text": "no id here: " + q}]
    bench = Benchmark.from_items("demo", [Item("q1", q)])
    report = check(docs, [bench], progress=False, lowercase=cfg.lowercase, nfkc=cfg.nfkc,
                   unescape=cfg.unescape).to_dict()
    item = report["benchmarks"][0]["items"][0]
    assert item["question"] == q
    found = {json.dumps(m["doc_id"]) for m in item["matches"]}
    # the escaped, upper-cased copy is found only with the departures: it is the one mapped by the general path
    assert found == {'"plain"', "2"} | ({'"escaped"'} if cfg.unescape else set())
    # One evidence object per document, on its first match entry; every entry's probe lies in that highlight.
    evidence_of = {}
    for m in item["matches"]:
        key = json.dumps(m["doc_id"])
        if "evidence" in m:
            assert key not in evidence_of, "evidence repeated for the same document"
            evidence_of[key] = m["evidence"]
        else:
            assert key in evidence_of, "a document's first match entry must carry its evidence"
    for m in item["matches"]:
        ev = evidence_of[json.dumps(m["doc_id"])]
        doc = next(d["text"] for k, d in enumerate(docs) if d.get("id", k) == m["doc_id"])
        assert doc[ev["start"] : ev["start"] + len(ev["excerpt"])] == ev["excerpt"]
        hs, he = ev["highlight"]
        assert m["probe"] in normalize(ev["excerpt"][hs:he], cfg)
        qs, qe = ev["question_highlight"]
        assert normalize(q, cfg)[m["span"][0] : m["span"][1]] in normalize(q[qs:qe], cfg)
        assert m["row"] == [d.get("id", k) for k, d in enumerate(docs)].index(m["doc_id"])
        assert m.get("id_is_row", False) == (m["doc_id"] == 2)


def test_evidence_survives_the_datasets_map_path():
    import datasets  # a core dependency: imported, not skipped
    q = "Write a function that returns the sum of two integers given as arguments; test it."
    ds = datasets.Dataset.from_list([{"id": "a", "text": "x"}, {"id": "b", "text": "Ünï — " + q}])
    bench = Benchmark.from_items("demo", [Item("q1", q)])
    via_ds = check(ds, [bench], progress=False).to_dict()
    via_list = check([{"id": "a", "text": "x"}, {"id": "b", "text": "Ünï — " + q}], [bench],
                     progress=False).to_dict()
    m_ds = via_ds["benchmarks"][0]["items"][0]["matches"]
    m_list = via_list["benchmarks"][0]["items"][0]["matches"]
    assert m_ds == m_list  # evidence included (on each document's first match entry)
    assert sum("evidence" in m for m in m_ds) == 1
    assert m_ds[0]["evidence"]["excerpt"].startswith("Ünï — Write")


@settings(max_examples=200, deadline=None)
@given(text=texts, cfg=st.sampled_from(CONFIGS[1:]), data=st.data())
def test_chunk_estimate_errors_are_absorbed(text, cfg, data):
    """Tiny chunks cut escapes and compositions everywhere: the located span must still be exact and minimal."""
    import decontam.evidence as ev

    norm = normalize(text, cfg)
    if not norm:
        return
    start, end = data.draw(_ranges(len(norm)))
    old = ev._CHUNK
    ev._CHUNK = 3
    try:
        s, e = ev._general_span(text, start, end, norm[start:end], cfg)
    finally:
        ev._CHUNK = old
    assert norm[start:end] in normalize(text[s:e], cfg)
    assert norm[start:end] not in normalize(text[s + 1 : e], cfg)
    assert norm[start:end] not in normalize(text[s : e - 1], cfg)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab Z9_-.\n") + ["é", "中", "😀", "\u0301", "٣", "\ud800", "—"]),
                    min_size=1, max_size=200),
       block=st.integers(1, 17), data=st.data())
def test_blocks_map_every_kept_character(text, block, data):
    """Documents are mapped block by block (read only as far as needed): with tiny blocks, every run maps to
    the very characters a character-by-character map gives, across block boundaries, ASCII or not."""
    import decontam.evidence as ev

    norm = normalize(text)
    if not norm:
        return
    kept = [i for i, c in enumerate(text) if normalize(c)]
    start, end = data.draw(_ranges(len(norm)))
    old = ev._KeptIndex._BLOCK
    ev._KeptIndex._BLOCK = block
    try:
        assert DocumentMap(text).span(start, end) == (kept[start], kept[end - 1] + 1)
        with pytest.raises(ValueError, match="past the normalized text"):
            DocumentMap(text).span(start, len(norm) + 1)
    finally:
        ev._KeptIndex._BLOCK = old


def test_ascii_alnum_mask_is_the_normalizer_rule_on_every_ascii_byte():
    import numpy as np

    from decontam.evidence import _ascii_alnum

    mask = _ascii_alnum(np.arange(128, dtype=np.uint8))
    assert mask.tolist() == [bool(normalize(chr(b))) for b in range(128)]


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab Z9_-.\n")), min_size=1, max_size=200),
       block=st.integers(1, 17), data=st.data())
def test_marks_from_the_normalizer_map_like_counting(text, block, data):
    """The block counts ``normalize_many`` records while normalizing stand in for counting the document
    again: every run maps to the very characters a character-by-character map gives."""
    import importlib

    import numpy as np

    import decontam.evidence as ev

    nm = importlib.import_module("decontam.normalize")  # the package's `normalize` is the function

    norm = normalize(text)
    if not norm:
        return
    kept = [i for i, c in enumerate(text) if normalize(c)]
    start, end = data.draw(_ranges(len(norm)))
    old = nm.MARK_BLOCK, ev._KeptIndex._BLOCK
    nm.MARK_BLOCK = ev._KeptIndex._BLOCK = block
    try:
        marks: dict[int, list[int]] = {}
        nm.normalize_many(text.encode(), np.array([0, len(text)]), marks=marks)
        assert DocumentMap(text, marks=marks.get(0)).span(start, end) == (kept[start], kept[end - 1] + 1)
        with pytest.raises(ValueError, match="past the normalized text"):
            DocumentMap(text, marks=marks.get(0)).span(start, len(norm) + 1)
    finally:
        nm.MARK_BLOCK, ev._KeptIndex._BLOCK = old
