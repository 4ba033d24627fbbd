"""Tests of decontam.match: the streaming matcher against a brute-force oracle (``probe in document``).

Documents and questions are drawn from small alphabets so that near-misses and repeated grams are common;
probes are planted whole, at document starts and ends, split across two adjacent documents (never a match:
matches do not span documents) and with one character changed. Probe lengths run from 1 to 60 characters, so
every key class (16, 8, 4, 2, 1 bytes) is used, and the alphabets include 2-, 3- and 4-byte UTF-8 characters.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from decontam.arrays import stable_argsort
from decontam.config import SampleConfig
from decontam.keys import KEY_BYTES, plan_keys
from decontam.match import Matcher, MatchSet, ProbeGroup, _KeyTable
from decontam.sample import sample_item

ALPHABETS = ["ab", "abc", "abcd", "aé", "ab中", "a𝐀", "aé中𝐀", "xyzé"]


def pack(docs: list[str]) -> tuple[bytes, np.ndarray]:
    enc = [d.encode("utf-8") for d in docs]
    return b"".join(enc), np.array([0, *itertools.accumulate(map(len, enc))], dtype=np.int64)


def build(questions: list[str], cfg: SampleConfig):
    items = [sample_item("bench", i, q, cfg) for i, q in enumerate(questions)]
    groups = [ProbeGroup.from_chars(it.normalized, it.offsets, it.length) for it in items]
    return items, Matcher(groups, exhaustive=cfg.mode == "all")


def oracle(items, docs: list[str]) -> dict[tuple[int, int], set[int]]:
    """(doc, group) -> indices of the group's probes that are substrings of the document."""
    out = {}
    for d, doc in enumerate(docs):
        for g, item in enumerate(items):
            hit = {i for i, p in enumerate(item.probes) if p in doc}
            if hit:
                out[(d, g)] = hit
    return out


def check_exact(items, matcher: Matcher, docs: list[str], result: MatchSet) -> None:
    expected = oracle(items, docs)
    got = {k: set(v) for k, v in result.windows.items() if v}
    assert got == expected  # no false negative, no false positive
    assert set(result.runs) == set(expected)
    assert result.docs() == sorted({d for d, _ in expected})
    for (d, g), (rs, re_) in result.runs.items():
        q = matcher.groups[g].question
        doc = docs[d].encode("utf-8")
        assert 0 <= rs < re_ <= len(q)
        assert q[rs:re_] in doc  # the reported run of the question really is in that document
        # every window reported for this pair lies inside a run that is in the document; the longest such run
        # is at least as long as the longest window found
        longest = max(int(matcher.groups[g].ends[i] - matcher.groups[g].starts[i]) for i in expected[(d, g)])
        assert re_ - rs >= longest
        ds, de = result.doc_runs[(d, g)]
        assert doc[ds:de] == q[rs:re_]  # and it is where the evidence says it is


# ----------------------------------------------------------------------------------------- the property


@st.composite
def scenarios(draw):
    alphabet = draw(st.sampled_from(ALPHABETS))
    text = lambda lo, hi: st.text(alphabet, min_size=lo, max_size=hi)  # noqa: E731
    base = draw(text(0, 90))
    questions = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["fresh", "prefix", "shared prefix", "empty"]))
        if kind == "fresh":
            questions.append(draw(text(1, 90)))
        elif kind == "prefix":
            questions.append(base[: draw(st.integers(0, len(base)))])
        elif kind == "shared prefix":  # like MMLU's "Which of the following"
            questions.append(base + draw(text(0, 30)))
        else:
            questions.append(draw(st.sampled_from(["", "?! ..."])))
    cfg = SampleConfig(
        length=draw(st.integers(1, 60)),
        n_probes=draw(st.integers(1, 5)),
        mode=draw(st.sampled_from(["sample", "all"])),
        seed=draw(st.integers(0, 1000)),
    )
    items = [sample_item("bench", i, q, cfg) for i, q in enumerate(questions)]
    probes = [p for it in items for p in it.probes]

    docs: list[str] = []
    for _ in range(draw(st.integers(0, 8))):
        pieces = []
        for _ in range(draw(st.integers(0, 4))):
            what = draw(st.sampled_from(["noise", "probe", "near miss", "question"]))
            if what == "noise" or not probes:
                pieces.append(draw(text(0, 40)))
            elif what == "question":
                q = items[draw(st.integers(0, len(items) - 1))].normalized
                a = draw(st.integers(0, len(q)))
                pieces.append(q[a: draw(st.integers(a, len(q)))])  # any piece of a question
            else:
                p = draw(st.sampled_from(probes))
                if what == "near miss":
                    i = draw(st.integers(0, len(p) - 1))
                    p = p[:i] + draw(st.sampled_from(alphabet)) + p[i + 1:]
                pieces.append(p)
        docs.append("".join(pieces))
    # Split a probe across two adjacent documents: the tail of one and the head of the next.
    if len(docs) >= 2 and probes and draw(st.booleans()):
        p = draw(st.sampled_from(probes))
        d = draw(st.integers(0, len(docs) - 2))
        cut = draw(st.integers(1, max(1, len(p) - 1)))
        docs[d] = docs[d] + p[:cut]
        docs[d + 1] = p[cut:] + docs[d + 1]
    if draw(st.booleans()):
        docs.insert(draw(st.integers(0, len(docs))), "")  # empty documents change nothing
    return questions, cfg, docs


@settings(max_examples=600, deadline=None)
@given(scenarios())
def test_matches_equal_brute_force_oracle(scenario):
    questions, cfg, docs = scenario
    items, matcher = build(questions, cfg)
    data, offsets = pack(docs)
    result = matcher.scan(data, offsets)
    check_exact(items, matcher, docs, result)
    widths = {int(e - s) for g in matcher.groups for s, e in zip(g.starts, g.ends)}
    event(f"mode={cfg.mode}")
    event("short keys (< 16 bytes)" if any(w < KEY_BYTES for w in widths) else "16-byte keys only")
    event("multi-byte" if any(len(d.encode()) != len(d) for d in docs) else "ASCII")
    event("matches" if result.windows else "no match")


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.data())
def test_batches_give_the_same_matches_as_one_scan(scenario, data):
    questions, cfg, docs = scenario
    items, matcher = build(questions, cfg)
    whole = matcher.scan(*pack(docs))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(docs)), max_size=4)))
    merged: dict[tuple[int, int], set[int]] = {}
    merged_runs = {}
    for lo, hi in zip([0, *cuts], [*cuts, len(docs)]):
        part = matcher.scan(*pack(docs[lo:hi]))  # document numbers are local to the batch
        for (d, g), w in part.windows.items():
            merged[(d + lo, g)] = set(w)
            merged_runs[(d + lo, g)] = part.runs[(d, g)]
    assert merged == {k: set(v) for k, v in whole.windows.items()}
    assert merged_runs == whole.runs


# ---------------------------------------------------------------------------------------- fixed cases


def test_equally_long_runs_are_chosen_the_same_way_whatever_the_batch():
    """Found by hypothesis: "éaé" occurs twice in the question "éaéaé"; the strided scan meets the two
    occurrences in an order that depends on where the batch starts, so the tie must be broken canonically
    (first in the question, then in the document) for the report not to depend on batch boundaries."""
    questions = ["a", "a", "", "", "éaéaé", "a"]
    items, m = build(questions, SampleConfig(length=3, n_probes=1, mode="all", seed=0))
    docs = ["a", "éaé"]
    whole = m.scan(*pack(docs))
    alone = m.scan(*pack(docs[1:]))
    assert alone.runs[(0, 4)] == whole.runs[(1, 4)] == (0, 5)
    assert alone.doc_runs[(0, 4)] == whole.doc_runs[(1, 4)] == (0, 5)
    for shift in range(1, 40):  # every alignment of the document against the stride
        res = m.scan(*pack(["x" * shift, "éaéxéaé"]))
        assert res.runs[(1, 4)] == (0, 5) and res.doc_runs[(1, 4)] == (0, 5)
    check_exact(items, m, docs, whole)


def test_probe_split_across_documents_is_not_a_match():
    q = "abcdefghijklmnopqrstuvwxyz"
    items, m = build([q, q[:5]], SampleConfig(length=26))
    for cut in range(1, 26):
        docs = ["xx" + q[:cut], q[cut:] + "yy"]
        res = m.scan(*pack(docs))
        expected = oracle(items, docs)
        assert {k: set(v) for k, v in res.windows.items()} == expected
        assert all(g != 0 for _, g in res.windows)  # the long question is in neither document
    res = m.scan(*pack(["", "xx" + q + "yy", ""]))
    assert dict(res.windows) == {(1, 0): {0}, (1, 1): {0}}


@pytest.mark.parametrize("n_bytes", range(1, 2 * KEY_BYTES + 2))
def test_every_probe_byte_length(n_bytes):
    """Whole short questions of each byte length (key classes 1, 2, 4, 8, 16) are found, exactly."""
    q = "".join(chr(ord("A") + (i * 7) % 26) for i in range(n_bytes))
    items, m = build([q], SampleConfig(length=100))
    assert items[0].probes == (q,)
    docs = [q, "zz" + q + "zz", q[:-1], q[1:], "zz" + q[:-1] + "z" + "zz", q[::-1] if n_bytes > 1 else "z",
            q[:-1] + "zz" + q[-1:]]
    res = m.scan(*pack(docs))
    assert {0, 1} <= {d for d, _ in res.windows}
    assert (2, 0) not in res.windows and (4, 0) not in res.windows  # one character short: no match
    check_exact(items, m, docs, res)


@pytest.mark.parametrize("exhaustive", [False, True])
def test_many_items_sharing_a_common_prefix(exhaustive):
    """MMLU-like: hundreds of questions start with the same words; every key is then far from unique."""
    stems = ["Whichofthefollowingisthebestexplanationfor", "Whichofthefollowingstatementsistrueabout",
             "Whichofthefollowing"]
    topics = ["photosynthesis", "thebalanceofpayments", "Kant'scategoricalimperative", "theKrebscycle",
              "mitosis", "inflation", "Gödel'stheorem", "theFrenchrevolution", "entropy", "Bayes'rule"]
    questions = [f"{stems[i % 3]} {topics[i % 10]} case {i}?" for i in range(300)]
    cfg = SampleConfig(length=50, n_probes=3, mode="all" if exhaustive else "sample", seed=1)
    items, m = build(questions, cfg)
    norm = [it.normalized for it in items]
    docs = [
        "intro" + norm[0] + "outro",  # a whole question
        norm[17][:-1],  # a question missing its last character
        norm[42] + norm[43],  # two questions back to back
        "Whichofthefollowing" * 5,  # the common prefix alone
        norm[7][:60],  # a leading part of one question
        norm[123][5:] + "zz" + norm[124][:20],  # a question missing its start
        "".join(n[-40:] for n in norm[200:210]),  # many question tails
        norm[299].lower(),  # case differs: no match with the default normalizer
    ]
    res = m.scan(*pack(docs))
    check_exact(items, m, docs, res)
    assert (0, 0) in res.windows and (2, 42) in res.windows and (2, 43) in res.windows
    assert not any(d == 7 for d, _ in res.windows)


@pytest.mark.parametrize("exhaustive", [False, True])
@pytest.mark.parametrize("alphabet", ["ab", "aé中𝐀", "abcdefghijklmnopqrstuvwxyz"])
@pytest.mark.parametrize("length", [1, 2, 3, 5, 7, 9, 15, 16, 17, 20, 30, 31, 50])
def test_every_window_holds_a_key_at_every_residue(exhaustive, alphabet, length):
    """The key choice covers every window: for the window's key length ``k`` and stride ``s``, keys lying
    wholly inside the window start at every residue modulo ``s`` (relative to the window's start).

    That is what makes the strided scan lossless: wherever a probe starts in a document, one of its positions
    that falls on the stride (one per residue) holds a key, at a known alignment.
    """
    rng = np.random.default_rng(length)
    questions = ["".join(rng.choice(list(alphabet), size=int(n))) for n in rng.integers(1, 120, size=25)]
    cfg = SampleConfig(length=length, n_probes=4, mode="all" if exhaustive else "sample", seed=length)
    _, m = build(questions, cfg)
    keys: dict[tuple[int, int], dict[int, list[int]]] = {}
    for t in m.tables:
        assert len(t.hashes) == len(t.groups) == len(t.positions)
        table = keys.setdefault((t.length, t.stride), {})
        for kg, kp in zip(t.groups.tolist(), t.positions.tolist()):
            table.setdefault(kg, []).append(kp)
    for gi, g in enumerate(m.groups):
        for s, e in zip(g.starts.tolist(), g.ends.tolist()):
            k, stride = (int(x[0]) for x in plan_keys(np.array([e - s])))
            assert k + stride - 1 <= e - s
            inside = [kp for kp in keys[(k, stride)].get(gi, []) if s <= kp <= e - k]
            assert {(kp - s) % stride for kp in inside} == set(range(stride)), (gi, s, e, k, stride)


def test_exhaustive_keys_are_few():
    """All-windows mode keys an ASCII question at about half of its positions (every other block of 16)."""
    q = "".join(chr(ord("a") + (i * 11) % 26) for i in range(400))
    _, m = build([q], SampleConfig(length=50, mode="all"))
    positions = 400 - KEY_BYTES + 1
    assert positions // 2 - KEY_BYTES <= m.n_keys <= positions // 2 + KEY_BYTES


def test_empty_inputs():
    items, m = build(["Some question text here, long enough."], SampleConfig(length=10))
    assert dict(m.scan(b"", np.array([0])).windows) == {}
    assert dict(m.scan(b"", np.array([0, 0, 0])).windows) == {}
    nothing = Matcher([])
    assert nothing.n_keys == 0
    assert dict(nothing.scan(*pack(["abc", "def"])).windows) == {}
    empty_item = sample_item("b", 0, "?!", SampleConfig())
    m2 = Matcher([ProbeGroup.from_chars(empty_item.normalized, empty_item.offsets, empty_item.length)])
    assert dict(m2.scan(*pack(["abc", ""])).windows) == {}


def test_from_chars_maps_character_offsets_to_bytes():
    g = ProbeGroup.from_chars("aé中𝐀b", [0, 1, 2], 3)
    assert g.question == "aé中𝐀b".encode()
    assert [g.question[s:e].decode() for s, e in zip(g.starts, g.ends)] == ["aé中", "é中𝐀", "中𝐀b"]


# ---------------------------------------------------------------- the key tables against plain definitions


@pytest.mark.parametrize("n", [0, 1, 100, 5000, 70000])
def test_two_pass_argsort_is_the_stable_argsort(n):
    """Equal hashes keep their order; values whose top bits carry nothing still sort right."""
    rng = np.random.default_rng(n)
    mixed = rng.integers(0, 1 << 63, size=n, dtype=np.int64).view(np.uint64) * np.uint64(3)
    for values in (mixed, mixed[rng.integers(0, max(1, n // 10), size=n)] if n else mixed,
                   rng.integers(0, 50, size=n).astype(np.uint64)):
        assert stable_argsort(values).tolist() == np.argsort(values, kind="stable").tolist()


@pytest.mark.parametrize("n", [10, 5000, 70000])
def test_key_table_bitmaps_hold_every_key_and_nothing_else(n):
    """The packed first-stage bitmap has exactly the bits of the keys' hashes (bit i of byte j: entry 8j + i),
    and the columns are sorted by hash, equal hashes in their given order."""
    rng = np.random.default_rng(n)
    hashes = rng.integers(0, 1 << 63, size=n, dtype=np.int64).view(np.uint64) * np.uint64(5)
    hashes[::7] = hashes[3]  # keys shared by several items
    groups, positions = rng.integers(0, 1000, size=n), rng.integers(0, 5000, size=n)
    t = _KeyTable.build(16, 16, hashes, groups, positions)
    order = np.argsort(hashes, kind="stable")
    assert t.hashes.tolist() == hashes[order].tolist()
    assert t.groups.tolist() == groups[order].tolist() and t.positions.tolist() == positions[order].tolist()
    entries = np.unique((hashes >> t.shift).astype(np.int64))
    if t.bitmap.dtype == bool:
        assert np.flatnonzero(t.bitmap).tolist() == entries.tolist()
    else:
        assert np.flatnonzero(np.unpackbits(t.bitmap, bitorder="little")).tolist() == entries.tolist()


# ------------------------------------------------------------- scan fast paths against the general path


def _general_path(matcher: Matcher) -> Matcher:
    """The same matcher with the whole-question shortcuts off: every candidate extended by _run_length."""
    matcher._whole = np.zeros_like(matcher._whole)
    matcher._near = {}
    return matcher


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_whole_question_shortcuts_equal_the_general_path(scenario):
    """Short questions used whole are confirmed by aligned-word filters and word compares; the MatchSet must be
    exactly the one of the general run extension (windows, runs and evidence)."""
    questions, cfg, docs = scenario
    _, fast = build(questions, cfg)
    _, slow = build(questions, cfg)
    slow = _general_path(slow)
    data, offsets = pack(docs)
    a, b = fast.scan(data, offsets), slow.scan(data, offsets)
    assert dict(a.windows) == dict(b.windows) and a.runs == b.runs and a.doc_runs == b.doc_runs


@pytest.mark.parametrize("seed", range(4))
def test_whole_question_shortcuts_on_dense_short_questions(seed):
    """Many occurrences and near misses of 1..32-byte questions at every alignment, documents cutting them."""
    rng = np.random.default_rng(seed)
    alphabet = np.frombuffer(b"ab4", dtype=np.uint8)
    questions = ["".join(map(chr, rng.choice(alphabet, size=int(n)))) for n in rng.integers(1, 33, size=40)]
    cfg = SampleConfig(length=50, n_probes=3, seed=seed)
    _, fast = build(questions, cfg)
    slow = _general_path(build(questions, cfg)[1])
    assert fast._near and fast._whole.any()  # the shortcuts are in use
    docs = ["".join(map(chr, rng.choice(alphabet, size=int(n)))) for n in rng.integers(0, 300, size=60)]
    docs = [d[:i] + questions[int(rng.integers(len(questions)))] + d[i:] for d in docs for i in [len(d) // 3]]
    data, offsets = pack(docs)
    a, b = fast.scan(data, offsets), slow.scan(data, offsets)
    assert dict(a.windows) == dict(b.windows) and a.runs == b.runs and a.doc_runs == b.doc_runs
    items = [sample_item("bench", i, q, cfg) for i, q in enumerate(questions)]
    check_exact(items, fast, docs, a)


@pytest.mark.parametrize("n", [1, 10, 5000, 70000])
def test_key_table_lookup_equals_its_plain_definition(n):
    """The bucket-index lookup returns every (position, key) with an equal hash, by position then key: what
    the binary search on the sorted hashes gave."""
    rng = np.random.default_rng(n)
    hashes = rng.integers(0, 1 << 63, size=n, dtype=np.int64).view(np.uint64) * np.uint64(5)
    hashes[::7] = hashes[0]  # keys shared by several items
    t = _KeyTable.build(16, 16, hashes, rng.integers(0, 1000, size=n), rng.integers(0, 5000, size=n))
    hv = np.concatenate([hashes[rng.integers(0, n, size=3000)],
                         rng.integers(0, 1 << 63, size=3000, dtype=np.int64).view(np.uint64),
                         hashes[rng.integers(0, n, size=100)] ^ np.uint64(1)])  # near misses
    pos = np.arange(len(hv), dtype=np.int64) * 16
    first = np.searchsorted(t.hashes, hv, side="left")
    count = np.searchsorted(t.hashes, hv, side="right") - first
    # (With n = 70000, one hash is shared by 10,000 keys: millions of pairs, built as arrays, not tuples.)
    want_pos = np.repeat(pos, count)
    want_key = np.concatenate([np.arange(f, f + c) for f, c in zip(first.tolist(), count.tolist())])
    slices = list(t.lookup(pos, hv))
    got_pos, got_key = (np.concatenate([sl[i] for sl in slices]) for i in (0, 1))
    assert np.array_equal(got_pos, want_pos) and np.array_equal(got_key, want_key)


def test_pair_table_lookup_equals_its_plain_definition():
    """The byte-pair index gives every (position, table, key) whose 1 or 2 key bytes are there, in order."""
    _, m = build(["43", "ab", "Keynes", "IBS", "Glu", "4a3"], SampleConfig(length=50, n_probes=3, seed=1))
    direct = m._direct[2]
    rng = np.random.default_rng(0)
    data = bytes(rng.choice(np.frombuffer(b"43abKeynsIBSGlu", dtype=np.uint8), size=4000))
    padded = np.frombuffer(data + b"\0" * 24, dtype=np.uint8)
    pairs = padded[: len(data) + 1 : 2].astype(np.int64) | (padded[1 : len(data) + 2 : 2].astype(np.int64) << 8)
    pos = np.arange(len(pairs), dtype=np.int64) * 2
    want = []
    for p in pos.tolist():
        for i, t in enumerate(direct.tables):
            for k in range(len(t.groups)):
                at = m._bases[t.groups[k]] + t.positions[k]
                if data[p : p + t.length] == m._qfull[8 + at : 8 + at + t.length].tobytes():
                    want.append((p, i, k))
    got = [t for sl in direct.lookup(pos, pairs) for t in zip(*(x.tolist() for x in sl))]
    got = sorted(got)
    # beyond the data a 2-byte key cannot start (the scan bounds it by ``n - length``)
    assert [g for g in got if g[0] + direct.tables[g[1]].length <= len(data)] == sorted(want)


def test_keys_many_questions_share_are_looked_up_in_bounded_slices(monkeypatch):
    """Templated questions (the same boilerplate, a number apart) in a corpus that holds each of them: a key of
    the boilerplate is every question's, so each occurrence gave one candidate per question, all held at once
    (20,000 such questions and documents: 5.8 GB, 65 s). Candidates are now looked up and confirmed in slices
    of at most about ``_MAX_PAIRS`` (a single position's may exceed it), in position order: the same matches,
    the brute-force oracle's."""
    import decontam.match as match_module
    from decontam.normalize import normalize

    questions = [f"Question {i}: how many widgets does warehouse number {i} hold at the end of the year?"
                 for i in range(300)]
    docs = [normalize(d) for d in [f"intro {q} outro" for q in questions[::2]] + ["nothing", questions[7] + questions[8]]]
    cfg = SampleConfig(length=50, n_probes=3, seed=1)
    items, matcher = build(questions, cfg)
    whole = matcher.scan(*pack(docs))
    check_exact(items, matcher, docs, whole)
    seen: list[int] = []
    real_slices = match_module.bounded_slices

    def recorded(count, limit):
        for a, b in real_slices(count, limit):
            seen.append(int(count[a:b].sum()) if b - a > 1 else 0)  # a lone position may exceed the bound
            yield a, b

    monkeypatch.setattr(match_module, "_MAX_PAIRS", 64)
    monkeypatch.setattr(match_module, "bounded_slices", recorded)
    sliced = matcher.scan(*pack(docs))
    assert len(seen) > 10 and max(seen) <= 64  # sliced, and bounded
    check_exact(items, matcher, docs, sliced)
    assert {k: set(v) for k, v in sliced.windows.items()} == {k: set(v) for k, v in whole.windows.items()}
    assert sliced.runs == whole.runs and sliced.doc_runs == whole.doc_runs


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.integers(1, 40))
def test_lookups_in_slices_give_the_matches_of_one_slice(scenario, max_pairs):
    """Whatever the slice size, the matches (windows, runs, evidence) are those of one lookup."""
    import decontam.match as match_module

    questions, cfg, docs = scenario
    items, matcher = build(questions, cfg)
    whole = matcher.scan(*pack(docs))
    saved = match_module._MAX_PAIRS
    match_module._MAX_PAIRS = max_pairs
    try:
        sliced = matcher.scan(*pack(docs))
    finally:
        match_module._MAX_PAIRS = saved
    assert {k: set(v) for k, v in sliced.windows.items()} == {k: set(v) for k, v in whole.windows.items()}
    assert sliced.runs == whole.runs and sliced.doc_runs == whole.doc_runs


def test_names_other_modules_import_from_match_stay_there():
    """The key names moved to decontam.keys are still importable from decontam.match, as the same objects."""
    import decontam.keys
    import decontam.match

    for name in ("KEY_BYTES", "gram_hashes", "plan_keys"):
        assert getattr(decontam.match, name) is getattr(decontam.keys, name)
    assert set(decontam.match.__all__) >= {"Matcher", "MatchSet", "ProbeGroup", "scan_all"}


@pytest.mark.parametrize("protocol", ["out-of-band", "in-band"])
@pytest.mark.parametrize("seed", range(3))
def test_a_pickled_matcher_finds_what_the_original_finds(seed, protocol):
    """A matcher sent to another process (Ray's object store pickles it with its arrays out of band) finds the
    same matches; its groups are the original's, and its whole-question shortcut tables, keyed by the identity
    of their key tables, are keyed by the loaded key tables (not carried over with the original's identities)."""
    import pickle

    rng = np.random.default_rng(seed)
    alphabet = np.frombuffer(b"ab4", dtype=np.uint8)
    questions = ["".join(map(chr, rng.choice(alphabet, size=int(n)))) for n in rng.integers(1, 33, size=40)]
    questions += ["".join(map(chr, rng.choice(alphabet, size=int(n)))) for n in rng.integers(60, 200, size=20)]
    cfg = SampleConfig(length=50, n_probes=3, seed=seed)
    items, matcher = build(questions, cfg)
    buffers: list[pickle.PickleBuffer] = []
    if protocol == "out-of-band":
        blob = pickle.dumps(matcher, protocol=5, buffer_callback=buffers.append)
        loaded = pickle.loads(blob, buffers=[b.raw() for b in buffers])
        assert buffers  # the arrays did go out of band
    else:
        loaded = pickle.loads(pickle.dumps(matcher))
    assert [(g.question, g.starts.tolist(), g.ends.tolist()) for g in loaded.groups] == \
        [(g.question, g.starts.tolist(), g.ends.tolist()) for g in matcher.groups]
    assert matcher._near and set(loaded._near) <= {id(t) for t in loaded.tables}
    assert len(loaded._near) == len(matcher._near)
    docs = ["".join(map(chr, rng.choice(alphabet, size=int(n)))) for n in rng.integers(0, 300, size=60)]
    docs = [d[:i] + questions[int(rng.integers(len(questions)))] + d[i:] for d in docs for i in [len(d) // 3]]
    data, offsets = pack(docs)
    a, b = matcher.scan(data, offsets), loaded.scan(data, offsets)
    assert a.windows and dict(a.windows) == dict(b.windows) and a.runs == b.runs and a.doc_runs == b.doc_runs
    check_exact(items, loaded, docs, b)
