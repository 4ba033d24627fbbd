"""decontam.index.hashing: the minimizer guarantee (every window keeps its minimum key) and the density."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decontam.index import KGRAM, WINDOW, minimizers
from decontam.index.hashing import W, gram_keys, minimizer_order, stored_keys

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@SETTINGS
@given(st.one_of(st.lists(st.text(alphabet=st.sampled_from(list("ab")), max_size=400), min_size=1, max_size=4),
                 st.lists(st.text(alphabet=st.sampled_from(list("abcdefghij日")), max_size=300), min_size=1,
                          max_size=6),
                 # periodic documents, repeated, with short ones between: runs of one key across documents
                 st.lists(st.sampled_from(["a" * 130, "ab" * 61, "abc" * 37 + "a", "a" * 49, "x", "aab" * 30,
                                           "a" * 60 + "b" + "a" * 60]), min_size=1, max_size=8)))
def test_every_window_keeps_its_minimum_key(docs):
    """Every 50-byte window inside a document holds a stored position of its minimum gram's key: a probe's
    lookup key is always in the table, at a position inside the probe (the no-false-negative property),
    even on runs like 'aaaa' where thinning drops most of the tied positions."""
    raw = [d.encode() for d in docs]
    data = b"".join(raw)
    offsets = np.zeros(len(raw) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in raw], out=offsets[1:])
    keys, pos = minimizers(data, offsets)
    stored = set(zip(keys.tolist(), pos.tolist()))
    padded = np.frombuffer(data + b"\0" * 64, dtype=np.uint8)
    for d in range(len(raw)):
        ds, de = int(offsets[d]), int(offsets[d + 1])
        for s in range(ds, de - WINDOW + 1):
            gk = gram_keys(padded, s, s + W)
            order = minimizer_order(gk)
            v = stored_keys(gk[int(np.argmin(order))])
            assert any((int(v), p) in stored for p in range(s, s + W)), (d, s)
    # nothing is selected from a window that crosses documents or from a document shorter than a window
    for p in pos.tolist():
        d = int(np.searchsorted(offsets, p, side="right")) - 1
        assert p + KGRAM <= offsets[d + 1] and offsets[d + 1] - offsets[d] >= WINDOW


def test_density_is_about_two_in_w_plus_one():
    rng = np.random.default_rng(0)
    data = bytes(rng.integers(97, 123, 200_000, dtype=np.uint8))
    keys, _ = minimizers(data, np.array([0, len(data)]))
    assert abs(len(keys) / len(data) - 2 / (W + 1)) < 0.01


@SETTINGS
@given(st.lists(st.one_of(st.text(alphabet=st.sampled_from(list("ab")), max_size=300),
                          st.sampled_from(["a" * 130, "ab" * 61, "x", "a" * 60 + "b" + "a" * 60])),
                min_size=1, max_size=6), st.integers(0, 3 * W))
def test_a_documents_pairs_depend_on_its_text_alone(docs, shift):
    """Thinning counts stretches from each document's start: the pairs of a document are those of the document
    on its own, moved to where it lies, whatever lies before it (how a build in parts gets the pairs of a build
    in one piece, and merged indexes those of one index)."""
    raw = [b"z" * shift] + [d.encode() for d in docs]
    offsets = np.zeros(len(raw) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in raw], out=offsets[1:])
    together = minimizers(b"".join(raw), offsets)
    alone = [minimizers(r, np.array([0, len(r)])) for r in raw]
    expected = {(int(k), int(p) + int(at)) for (ks, ps), at in zip(alone, offsets[:-1])
                for k, p in zip(ks.tolist(), ps.tolist())}
    assert set(zip(together[0].tolist(), together[1].tolist())) == expected
    assert len(together[0]) == len(expected)
