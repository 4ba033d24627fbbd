"""Tests of decontam.keys: the key choice and the gram hashes against their plain definitions.

The key choice must give every window a key at every residue of its stride (what makes the strided scan
lossless: checked through the matcher in ``test_match.py``); here its fast, run-by-run form is held to a dense
reference, and the strided hashes to the hashes at arbitrary positions.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decontam.keys import KEY_BYTES, choose_keys, gram_hashes, hash_at, keys_by_class, plan_keys


def reference_keys(lo, hi, stride, qbuf, length, exhaustive):
    """The key choice written plainly, over the whole buffer (how the matcher first did it): a dense
    (windows x positions) cost matrix and an argmin over its blocks."""
    n = len(qbuf)
    chosen = np.zeros(n, dtype=bool)
    if exhaustive:
        wide = hi - lo + 1 >= 2 * stride
        for a, b in zip(lo[wide].tolist(), hi[wide].tolist()):
            chosen[a : b + 1] |= (np.arange(a, b + 1) // stride) % 2 == 0
        lo, hi = lo[~wide], hi[~wide]
    if len(lo):
        width = -(-(int((hi - lo).max()) + 1) // stride) * stride
        idx = lo[:, None] + np.arange(width)[None, :]
        valid = idx <= hi[:, None]
        idx = np.where(valid, idx, lo[:, None])
        seen = np.zeros(n, dtype=bool)
        seen[idx] = True
        covered_at = np.flatnonzero(seen)
        bucket = (hash_at(qbuf, covered_at, length) >> np.uint64(44)).view(np.int64)
        pos_cost = np.zeros(n, dtype=np.int64)
        pos_cost[covered_at] = np.bincount(bucket, minlength=1 << 20)[bucket]
        cost = pos_cost[idx]
        cost[~valid] = np.iinfo(np.int64).max
        best = np.argmin(cost.reshape(len(lo), width // stride, stride), axis=1)
        chosen[(lo[:, None] + best * stride + np.arange(stride)[None, :]).ravel()] = True
    return np.flatnonzero(chosen)


@st.composite
def key_problems(draw):
    """Windows over a small-alphabet buffer (repeated grams, so cost ties are common), in any order,
    overlapping or not, some much wider than the others."""
    data = draw(st.text(draw(st.sampled_from(["ab", "abc", "abcdefgh"])), min_size=1, max_size=300)).encode()
    stride = draw(st.sampled_from([1, 2, 4, 8, 16]))
    length = draw(st.integers(1, KEY_BYTES))
    windows = []
    for _ in range(draw(st.integers(1, 12))):
        reach = draw(st.integers(stride - 1, 3 * stride + 5))
        if reach + length > len(data):
            continue
        start = draw(st.integers(0, len(data) - length - reach))
        windows.append((start, start + reach))
    if not windows:
        windows = [(0, 0)]
        data, stride, length = data + b"x" * KEY_BYTES, 1, 1
    if draw(st.booleans()):
        windows.sort()
    lo, hi = (np.array(c, dtype=np.int64) for c in zip(*windows))
    qbuf = np.frombuffer(data + b"\0" * (KEY_BYTES + 8), dtype=np.uint8)
    return lo, hi, stride, qbuf, length, draw(st.booleans())


@settings(max_examples=400, deadline=None)
@given(key_problems())
def test_key_choice_equals_its_plain_definition(problem):
    """The compact, run-by-run key choice picks exactly the dense definition's keys, with their hashes."""
    lo, hi, stride, qbuf, length, exhaustive = problem
    keys, hashes = choose_keys(lo, hi, stride, qbuf, length, exhaustive)
    assert keys.tolist() == reference_keys(lo, hi, stride, qbuf, length, exhaustive).tolist()
    assert hashes.tolist() == hash_at(qbuf, keys, length).tolist()


@pytest.mark.parametrize("stride", [16, 4, 1])
@pytest.mark.parametrize("exhaustive", [False, True])
def test_key_choice_over_many_windows_equals_its_plain_definition(stride, exhaustive):
    """Enough windows for the choice to go in several steps, a few much wider than the rest (as a question of
    multi-byte characters among ASCII ones makes them)."""
    rng = np.random.default_rng(stride)
    data = rng.choice(np.frombuffer(b"abcd", dtype=np.uint8), size=300_000).tobytes()
    n_windows = 70_000 // stride + 7
    reach = rng.integers(stride - 1, 2 * stride + 3, size=n_windows)
    reach[rng.integers(0, n_windows, size=5)] = 5 * stride
    lo = np.sort(rng.integers(0, len(data) - KEY_BYTES - reach.max(), size=n_windows))
    qbuf = np.frombuffer(data + b"\0" * (KEY_BYTES + 8), dtype=np.uint8)
    problem = (lo, lo + reach, stride, qbuf, stride, exhaustive)  # key length: the stride, as plan_keys has it
    keys, hashes = choose_keys(*problem)
    assert keys.tolist() == reference_keys(*problem).tolist()
    assert hashes.tolist() == hash_at(qbuf, keys, stride).tolist()


def test_plan_keys_table_matches_its_thresholds():
    w = np.arange(-3, 300)
    k, s = plan_keys(w)
    assert k.tolist() == np.select([w >= 31, w >= 15, w >= 7, w >= 3], [16, 8, 4, 2], 1).tolist()
    assert s.tolist() == np.select([w >= 31, w >= 15, w >= 7, w >= 2], [16, 8, 4, 2], 1).tolist()


@pytest.mark.parametrize("exhaustive", [False, True])
def test_keys_by_class_is_the_key_choice_of_each_plan(exhaustive):
    """Windows of every width, in any order: one entry per (key length, stride) of plan_keys, widest first,
    each the key choice of exactly the windows planned so."""
    rng = np.random.default_rng(7)
    data = rng.choice(np.frombuffer("abcé".encode(), dtype=np.uint8), size=5000).tobytes()
    qbuf = np.frombuffer(data + b"\0" * (KEY_BYTES + 8), dtype=np.uint8)
    width = rng.integers(1, 60, size=400)
    lo = rng.integers(0, len(data) - 60, size=400)
    got = keys_by_class(lo, width, qbuf, exhaustive)
    k, s = plan_keys(width)
    plans = sorted(set(zip(k.tolist(), s.tolist())), reverse=True)
    assert [(gk, gs) for gk, gs, _, _ in got] == plans
    for gk, gs, at, hashes in got:
        sel = (k == gk) & (s == gs)
        want_at, want_hashes = choose_keys(lo[sel], lo[sel] + width[sel] - gk, gs, qbuf, gk, exhaustive)
        assert at.tolist() == want_at.tolist() and hashes.tolist() == want_hashes.tolist()


@pytest.mark.parametrize("length", range(1, KEY_BYTES + 1))
def test_strided_hashes_equal_the_hashes_at_those_positions(length):
    """Every path of gram_hashes (contiguous words, 16-byte pairs, masked strided words) gives hash_at's
    value, and equal grams hash equal wherever they are."""
    rng = np.random.default_rng(length)
    data = rng.choice(np.frombuffer(b"ab", dtype=np.uint8), size=2000).tobytes()
    padded = np.frombuffer(data + b"\0" * (KEY_BYTES + 8), dtype=np.uint8)
    for step in (1, 2, 4, 8, 16):
        for start in (0, 3):
            stop = len(data) - length + 1
            got = gram_hashes(padded, start, stop, length, step)
            at = np.arange(start, stop, step)
            assert got.tolist() == hash_at(padded, at, length).tolist()
    h = hash_at(padded, np.arange(len(data) - length + 1), length)
    grams = [data[i : i + length] for i in range(len(data) - length + 1)]
    first = {}
    for g, v in zip(grams, h.tolist()):
        assert first.setdefault(g, v) == v
