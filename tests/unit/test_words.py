"""Tests of decontam.words: the janitor's normalization and words, the batch path, and where words come from.

The oracle is lm-evaluation-harness's own definition, written out here in plain Python (``Janitor.normalize_string``
is ``str.translate`` with this table; ``word_ngrams`` splits with ``str.split``), not decontam's code.
"""

from __future__ import annotations

import string
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from decontam.evidence import WordMap, word_evidence
from decontam.words import (
    janitor_normalize,
    janitor_words,
    ngram_windows,
    token_spans,
    word_text,
    word_text_many,
)

# lm_eval/decontamination/janitor.py, Janitor.__init__ (delete_chars=string.punctuation)
JANITOR_TABLE = str.maketrans(string.ascii_lowercase + string.ascii_uppercase, string.ascii_lowercase * 2,
                              string.punctuation)


def oracle_words(text: str) -> list[str]:
    return text.translate(JANITOR_TABLE).split()


# Characters the janitor treats specially, or that str.split and bytes.split disagree on.
SPECIAL = [" ", "\t", "\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0", "\u1680", "\u2000",
           "\u2028", "\u2029", "\u202f", "\u3000", "-", "--", ".", "'", "’", "€", "$", "_", "#", ">>>", "É", "ß",
           "İ", "ǅ", "中", "😀", "Σ", "A", "Z", "a", "z", "0", "9", "\x00", "\x7f", "\u200b"]
chars = st.one_of(st.sampled_from(SPECIAL), st.characters(max_codepoint=127),
                  st.characters(blacklist_categories=("Cs",)))
texts = st.lists(chars, max_size=60).map("".join)


def test_every_whitespace_character_splits_words_on_both_paths():
    """The batch path splits the UTF-8 bytes on what ``str.split`` splits on: swept over every code point."""
    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    text = "".join(f"w{i}" + c for i, c in enumerate(spaces)) + "end"
    assert len(text.split()) == len(spaces) + 1
    raw = text.encode("utf-8")
    out, _ = word_text_many(raw, np.array([0, len(raw)]))
    assert out.decode("utf-8") == word_text(text) == " " + " ".join(text.split()) + " "
    # and nothing else splits: every other character of the BMP and beyond stays inside its word
    others = "".join(chr(c) for c in range(0x80, sys.maxunicode + 1)
                     if not chr(c).isspace() and not 0xD800 <= c < 0xE000)
    raw = ("a" + others + "b").encode("utf-8")
    out, _ = word_text_many(raw, np.array([0, len(raw)]))
    assert out.decode("utf-8") == " a" + others + "b "


@settings(max_examples=500, deadline=None)
@given(texts)
def test_words_are_the_janitors(text):
    assert janitor_normalize(text) == text.translate(JANITOR_TABLE)
    assert janitor_words(text) == oracle_words(text)
    words = oracle_words(text)
    assert word_text(text) == (" " + " ".join(words) + " " if words else "")


@settings(max_examples=300, deadline=None)
@given(st.lists(texts, max_size=8))
def test_batch_equals_one_at_a_time(docs):
    raw = [d.encode("utf-8") for d in docs]
    offsets = np.zeros(len(raw) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in raw], out=offsets[1:])
    out, offs = word_text_many(b"".join(raw), offsets)
    got = [out[offs[i] : offs[i + 1]].decode("utf-8") for i in range(len(raw))]
    assert got == [word_text(d) for d in docs]


def test_long_documents_are_split_into_words_block_by_block_with_the_same_result():
    # Longer than a block (1 MB): cut at ASCII whitespace, never inside a word or a character.
    word = "Héllo,wörld-" * 3
    doc = ((word + " ") * 40_000 + "\xa0x\u2028" + "y" * 2_000_000 + "\t" + "tail.")
    raw = doc.encode("utf-8")
    out, offs = word_text_many(raw, np.array([0, len(raw)]))
    assert out.decode("utf-8") == word_text(doc)
    ascii_doc = ("Word, " * 400_000) + "END"
    out, _ = word_text_many(ascii_doc.encode(), np.array([0, len(ascii_doc)]))
    assert out.decode() == word_text(ascii_doc)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_token_spans_are_where_each_word_comes_from(text):
    spans = token_spans(text).tolist()
    words = oracle_words(text)
    assert len(spans) == len(words)
    for (s, e), w in zip(spans, words):
        token = text[s:e]
        assert token.split() == [token]  # a whole whitespace token
        assert token.translate(JANITOR_TABLE) == w
    # and no other token keeps a character
    assert sum(1 for t in text.split() if t.translate(JANITOR_TABLE)) == len(spans)


@given(st.lists(st.lists(st.text(alphabet="abé", min_size=1, max_size=3), max_size=20), max_size=5),
       st.integers(1, 5))
def test_ngram_windows(texts, n):
    windows = ngram_windows(texts, n)
    assert len(windows) == len(texts)
    for words, (starts, ends) in zip(texts, windows):
        joined = " ".join(words)
        assert [joined[s:e] for s, e in zip(starts.tolist(), ends.tolist())] == [
            " ".join(words[i : i + n]) for i in range(len(words) - n + 1)]


@settings(max_examples=300, deadline=None)
@given(texts, st.data())
def test_word_map_spans_hold_exactly_the_words(text, data):
    words = oracle_words(text)
    if not words:
        return
    joined = " ".join(words)
    first = data.draw(st.integers(0, len(words) - 1))
    last = data.draw(st.integers(first, len(words) - 1))
    start = len(" ".join(words[:first])) + (1 if first else 0)
    end = len(" ".join(words[: last + 1]))
    s, e = WordMap(text).span(joined, start, end)
    assert oracle_words(text[s:e]) == words[first : last + 1]
    # the evidence of the same run in the document's word text (a leading space, and bytes)
    wt = word_text(text).encode("utf-8")
    bs = len((" " + joined[:start]).encode("utf-8")) - 1  # the space before the first word
    be = len((" " + joined[:end] + " ").encode("utf-8"))
    ev = word_evidence(text, wt, {0: (bs, be)}, context=5)[0]
    hs, he = ev["highlight"]
    assert ev["excerpt"][hs:he] == text[s:e]
