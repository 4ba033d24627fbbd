"""Tests of decontam.normalize: the GPT-4 rule against a unicodedata oracle, the options, the batch path."""

from __future__ import annotations

import itertools
import json
import string
import sys
import unicodedata

import numpy as np
import pytest
import regex
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from decontam.config import NormalizeConfig
from decontam.normalize import normalize, normalize_many, unescape

ALL_CONFIGS = [
    NormalizeConfig(lowercase=lo, nfkc=nf, unescape=un)
    for lo, nf, un in itertools.product((False, True), repeat=3)
]

# ----------------------------------------------------------------------------------------------- oracle
#
# The oracle is Python's own ``unicodedata``: keep a character iff its general category starts with L, M or N.
# ``normalize`` strips with the ``regex`` module, which carries its own Unicode tables. They are not the same
# version here: Python 3.11's unicodedata is Unicode 14.0.0, and regex 2026.5.9 knows later versions. Measured
# (``test_regex_and_unicodedata_disagree_only_on_code_points_unassigned_in_unicodedata`` below does the sweep
# on every run, so this stays true on whatever versions are installed): 14,184 code points disagree, and every
# one of them is unassigned (category ``Cn``) in Python's database while regex already knows it as a letter,
# mark or number (e.g. U+088F, U+0C5C, U+1ACF..U+1ADD, U+A7CB). So the property tests draw characters from
# everything *except* ``Cn``: on that set the two databases agree, and the oracle is exact.


def oracle(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c)[0] in "LMN")


def test_regex_and_unicodedata_disagree_only_on_code_points_unassigned_in_unicodedata():
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    kept_by_regex = set(regex.findall(r"[\p{L}\p{M}\p{N}]", everything))
    disagree = [c for c in everything if (c in kept_by_regex) != (unicodedata.category(c)[0] in "LMN")]
    assert all(unicodedata.category(c) == "Cn" for c in disagree), [
        (hex(ord(c)), unicodedata.category(c)) for c in disagree if unicodedata.category(c) != "Cn"
    ][:10]
    # ... and outside Cn, normalize is exactly the oracle over the whole code space (surrogates included).
    assigned = "".join(c for c in everything if unicodedata.category(c) != "Cn")
    assert normalize(assigned) == oracle(assigned)


# Hand-picked characters the generic strategy rarely hits together.
SPECIAL = [
    "\ud800", "\udfff", "\ud83d",  # lone surrogates (category Cs): dropped
    "e\u0301", "\u0301", "\u20dd", "\u0903",  # combining marks Mn, Me, Mc: kept
    "😀", "👍🏽", "\u200d", "\ufe0f",  # emoji, ZWJ, variation selector: dropped (So, Cf, Mn!)
    "٣", "४", "৭", "໒", "١٢", "Ⅻ", "½", "²", "①",  # digits/numbers in other scripts: kept (Nd, Nl, No)
    "ß", "İ", "ǅ", "ﬁ", "Ａ", "ｱ", "中", "𝐀", "ª",  # letters of all kinds
    "_", "-", "\u00a0", "\u3000", "\u2028", "\x00", "\x7f", "\t", "\r\n",  # separators, controls, underscore
    "\\", "&", "&amp;", "\\n", "\\u00e9", "'", '"',
]
wide_chars = st.one_of(
    st.characters(exclude_categories=("Cn",)),  # includes surrogates (Cs), unlike the default of st.text
    st.sampled_from(SPECIAL),
    st.characters(max_codepoint=127),
)
wide_text = st.lists(wide_chars, max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(wide_text)
def test_default_keeps_exactly_letters_marks_numbers(text):
    assert normalize(text) == oracle(text)


# Long ASCII stretches with a few other characters between them: the path that strips each run of non-ASCII
# characters on its own (code and most Western text) rather than the whole text in one pass.
sparse_text = st.lists(
    st.one_of(st.text(alphabet=string.ascii_letters + string.digits + " _.,\n", min_size=100, max_size=300),
              wide_chars),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(sparse_text)
def test_default_on_sparse_non_ascii_text(text):
    assert normalize(text) == oracle(text)
    data = text.encode("utf-8", "surrogatepass")
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in text):  # the batch path takes valid UTF-8 only
        out, offs = normalize_many(data, np.array([0, len(data)]))
        assert out.decode("utf-8") == oracle(text) and offs.tolist() == [0, len(out)]


@settings(max_examples=200, deadline=None)
@given(wide_text)
def test_default_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("def add(a, b):\n    return a + b", "defaddabreturnab"),
        ("Hello, World", "HelloWorld"),
        ("ÉCOLE école", "ÉCOLEécole"),
        ("snake_case_name", "snakecasename"),
        ("x = 3.14 * r²", "x314r²"),
        ("e\u0301t\u00e9", "e\u0301t\u00e9"),  # the combining accent is a mark: kept, not composed
        ("ﬁle ①", "ﬁle①"),  # no folding by default
        ("😀 ok 👍", "ok"),
        ("\ud800a\udfffb", "ab"),
        ("٣ + ४ = ७", "٣४७"),
        ("", ""),
        ("  \t\n?!", ""),
    ],
    ids=[
        "code: punctuation and spaces go", "case kept", "case kept, non-ASCII", "underscore is not a letter",
        "superscript two is a number", "combining mark kept", "ligature and circled digit kept unfolded",
        "emoji go", "lone surrogates go", "digits of other scripts kept", "empty", "nothing left",
    ],
)
def test_default_cases(text, expected):
    assert normalize(text) == expected


# ---------------------------------------------------------------------------------------------- options

LOWER = NormalizeConfig(lowercase=True)
NFKC = NormalizeConfig(nfkc=True)
UNESC = NormalizeConfig(unescape=True)
DEFAULT = NormalizeConfig()

OPTION_CASES = [
    # (description, text, config, expected)
    ("lowercase: ASCII", "HeLLo World", LOWER, "helloworld"),
    ("lowercase: non-ASCII", "ÉCOLE Ärger", LOWER, "écoleärger"),
    ("lowercase: dotted I lowers to i + combining dot (a mark, kept)", "İ", LOWER, "i\u0307"),
    ("default keeps case", "HeLLo", DEFAULT, "HeLLo"),
    ("nfkc: fi ligature becomes fi", "ﬁle", NFKC, "file"),
    ("no nfkc: ligature kept as one letter", "ﬁle", DEFAULT, "ﬁle"),
    ("nfkc: circled one becomes 1", "①②", NFKC, "12"),
    ("nfkc: fullwidth letters become ASCII", "ＡＢＣ１", NFKC, "ABC1"),
    ("nfkc: superscript becomes digit", "x²", NFKC, "x2"),
    ("nfkc: composes e + combining acute", "e\u0301", NFKC, "\u00e9"),
    ("nfkc then lowercase", "ＡＢＣ", NormalizeConfig(nfkc=True, lowercase=True), "abc"),
    ("nfkc: one-half folds to 1/2, slash dropped", "½", NFKC, "12"),
    ("unescape: \\n inside a string literal is a newline", "line1\\nline2", UNESC, "line1line2"),
    ("no unescape: the n of \\n stays", "line1\\nline2", DEFAULT, "line1nline2"),
    ("unescape: \\\\n is an escaped backslash then n", "a\\\\nb", UNESC, "anb"),
    ("unescape: \\t and \\\"", 'say \\"hi\\"\\tnow', UNESC, "sayhinow"),
    ("unescape: \\u00e9", "caf\\u00e9", UNESC, "café"),
    ("no unescape: \\u00e9 stays as text", "caf\\u00e9", DEFAULT, "cafu00e9"),
    ("unescape: \\U0001F600 is an emoji, dropped", "a\\U0001F600b", UNESC, "ab"),
    ("unescape: \\x41", "\\x41BC", UNESC, "ABC"),
    ("unescape: \\U beyond U+10FFFF is dropped, not an error", "a\\UFFFFFFFFb", UNESC, "ab"),
    ("unescape: JSON surrogate pair \\ud835\\udc00 is one letter", "\\ud835\\udc00bc", UNESC, "\U0001d400bc"),
    ("unescape: lone \\ud800 is dropped", "a\\ud800b", UNESC, "ab"),
    ("unescape: &amp;", "fish &amp; chips", UNESC, "fishchips"),
    ("no unescape: &amp; leaves amp", "fish &amp; chips", DEFAULT, "fishampchips"),
    ("unescape: &#39;", "it&#39;s", UNESC, "its"),
    ("no unescape: &#39; leaves 39", "it&#39;s", DEFAULT, "it39s"),
    ("unescape: named entity &eacute;", "caf&eacute;", UNESC, "café"),
    ("unescape: numeric entity &#233;", "caf&#233;", UNESC, "café"),
    ("unescape then lowercase", "\\u00C9T\\u00C9", NormalizeConfig(unescape=True, lowercase=True), "été"),
    ("unescape then nfkc", "\\ufb01le", NormalizeConfig(unescape=True, nfkc=True), "file"),
]


@pytest.mark.parametrize(("text", "config", "expected"), [c[1:] for c in OPTION_CASES],
                         ids=[c[0] for c in OPTION_CASES])
def test_option_cases(text, config, expected):
    assert normalize(text, config) == expected


def test_unescape_reads_escapes_left_to_right():
    assert unescape("a\\\\nb") == "a\\nb"  # backslash, n: not a newline
    assert unescape("a\\\\\\nb") == "a\\\nb"  # backslash, then a newline
    assert unescape('say \\"hi\\"\\n &amp; caf\\u00e9') == 'say "hi"\n & café'


safe_text = wide_text.filter(lambda t: "\\" not in t and "&" not in t)


def _has_surrogate(text: str) -> bool:
    # Real questions are valid Unicode. A str holding lone surrogates side by side ("\ud835" "\udc00") is two
    # dropped characters to normalize, but its escaped form "\\ud835\\udc00" is one letter to a JSON reader.
    return any("\ud800" <= c <= "\udfff" for c in text)


@settings(max_examples=200, deadline=None)
@given(safe_text, st.sampled_from([c for c in ALL_CONFIGS if c.unescape]), st.booleans())
def test_unescape_sees_through_json_string_literals(text, config, ascii_only):
    """A question stored inside a JSON string literal normalizes like the question itself."""
    assume(not _has_surrogate(text))
    literal = json.dumps(text, ensure_ascii=ascii_only)
    assert normalize(literal, config) == normalize(text, config)


@settings(max_examples=200, deadline=None)
@given(safe_text, st.sampled_from([c for c in ALL_CONFIGS if c.unescape]))
def test_unescape_sees_through_python_string_literals(text, config):
    assume(not _has_surrogate(text))
    literal = repr(text)[1:-1]
    assert normalize(literal, config) == normalize(text, config)


@settings(max_examples=200, deadline=None)
@given(wide_text)
def test_lowercase_equals_lowercasing_first(text):
    assert normalize(text, LOWER) == normalize(text.lower())


@settings(max_examples=200, deadline=None)
@given(wide_text)
def test_nfkc_equals_folding_first(text):
    assert normalize(text, NFKC) == normalize(unicodedata.normalize("NFKC", text))


# ----------------------------------------------------------------------------------------- batch path

# Documents for the batch path must be valid UTF-8 (they come from Arrow buffers): no lone surrogates.
doc_chars = st.one_of(
    st.characters(max_codepoint=127),
    st.sampled_from(["\\", "&", "&amp;", "&#39;", "\\n", "\\\\", "\\u00e9", "\\ud835\\udc00", "\\x41",
                     "&eacute;",
                     "é", "É", "ﬁ", "①", "😀", "中", "𝐀", "e\u0301", "İ", "ß", "Ａ", " "]),
    st.characters(exclude_categories=("Cn", "Cs")),
)
doc = st.one_of(
    st.just(""),
    st.text(st.characters(max_codepoint=127), max_size=30),  # pure ASCII: the translate fast path
    st.lists(doc_chars, max_size=30).map("".join),
)


@pytest.mark.parametrize("config", ALL_CONFIGS,
                         ids=[f"lower={c.lowercase}-nfkc={c.nfkc}-unescape={c.unescape}"
                              for c in ALL_CONFIGS])
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.lists(doc, max_size=12), prefix=st.binary(max_size=5), as_int32=st.booleans())
def test_normalize_many_equals_normalize_per_document(config, docs, prefix, as_int32):
    encoded = [d.encode("utf-8") for d in docs]
    data = prefix + b"".join(encoded)  # bytes before the first document are not part of any document
    offsets = np.array([len(prefix)] + [len(prefix) + x for x in itertools.accumulate(map(len, encoded))],
                       dtype=np.int32 if as_int32 else np.int64)
    out, new_offsets = normalize_many(memoryview(data), offsets, config)
    expected = [normalize(d, config).encode("utf-8") for d in docs]
    assert out == b"".join(expected)
    assert new_offsets.dtype == np.int64
    assert new_offsets.tolist() == [0, *itertools.accumulate(map(len, expected))]
    for i, e in enumerate(expected):
        assert out[new_offsets[i]:new_offsets[i + 1]] == e


def test_normalize_many_empty_batch():
    out, offsets = normalize_many(b"", np.array([0]))
    assert out == b"" and offsets.tolist() == [0]


def test_normalize_many_rejects_invalid_utf8():
    data = b"ok" + b"caf\xe9"
    with pytest.raises(UnicodeDecodeError):
        normalize_many(data, np.array([0, 2, len(data)]))


@settings(max_examples=200, deadline=None)
@given(docs=st.lists(st.text(alphabet=st.sampled_from(list("ab Z9_-.\n\\&") + ["é", "中"]), max_size=60),
                     max_size=6),
       block=st.integers(1, 17), config=st.sampled_from(ALL_CONFIGS))
def test_normalize_many_marks_count_kept_characters_per_block(docs, block, config):
    """The marks of a document are the kept-character counts of its blocks, the same output either way; only
    ASCII documents stripped character by character (no unescape at work) longer than a block get them."""
    import importlib

    nm = importlib.import_module("decontam.normalize")  # the package's `normalize` is the function

    encoded = [d.encode("utf-8") for d in docs]
    offsets = np.array([0, *itertools.accumulate(map(len, encoded))], dtype=np.int64)
    old = nm.MARK_BLOCK
    nm.MARK_BLOCK = block
    try:
        marks: dict[int, list[int]] = {}
        out, new_offsets = normalize_many(b"".join(encoded), offsets, config, marks)
    finally:
        nm.MARK_BLOCK = old
    assert (out, new_offsets.tolist()) == tuple(x if i == 0 else x.tolist() for i, x in
                                                enumerate(normalize_many(b"".join(encoded), offsets, config)))
    for i, d in enumerate(docs):
        per_char = d.isascii() and not (config.unescape and ("\\" in d or "&" in d))
        if per_char and len(d) > block:
            counts = [len(normalize(d[j : j + block], config)) for j in range(0, len(d), block)]
            assert marks[i] == [0, *itertools.accumulate(counts)]
        else:
            assert i not in marks


@pytest.mark.parametrize("lowercase", [False, True])
def test_a_very_long_ascii_document_is_normalized_block_by_block_with_the_same_result(lowercase):
    """Documents over 16 MB are stripped straight from the input buffer (no copy of their own): same bytes,
    same kept-character counts, beside short documents and a long non-ASCII one (the general path)."""
    import numpy as np

    from decontam.normalize import MARK_BLOCK, normalize_many

    cfg = NormalizeConfig(lowercase=lowercase)
    long_ascii = ("def F(x):\n    return x * 2  # Some Code, text! " * 400_000)[: (1 << 24) + 12_345]
    long_other = "é" + long_ascii[: (1 << 24)]
    for docs in ([long_ascii], ["short one", long_ascii, "Another"], [long_other, "x"]):
        raw = [d.encode() for d in docs]
        data = b"".join(raw)
        offsets = np.concatenate(([0], np.cumsum([len(r) for r in raw])))
        marks: dict[int, list[int]] = {}
        out, new_offsets = normalize_many(data, offsets, cfg, marks)
        expected = [normalize(d, cfg).encode() for d in docs]
        assert bytes(out) == b"".join(expected)
        assert new_offsets.tolist() == np.concatenate(([0], np.cumsum([len(e) for e in expected]))).tolist()
        for i, d in enumerate(docs):
            if d.isascii() and len(d) > MARK_BLOCK:
                blocks = [normalize(d[j : j + MARK_BLOCK], cfg) for j in range(0, len(d), MARK_BLOCK)]
                assert marks[i] == list(np.concatenate(([0], np.cumsum([len(b) for b in blocks]))))


def test_a_value_that_is_not_a_str_is_a_type_error_saying_so():
    """``normalize(None)`` and ``sample_item(..., None)`` raised AttributeError from deep inside; bytes were read
    as nothing of the sort."""
    import pytest

    from decontam import sample_item

    for call in (lambda: normalize(None), lambda: normalize(b"abc"), lambda: sample_item("x", 1, None),
                 lambda: sample_item("x", 1, "a question", {"length": 2})):
        with pytest.raises(TypeError, match="takes a str"):
            call()
