"""Bloom filter: no false negatives, the false-positive rate it promises, union, (de)serialization."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import decontam.bloom as bloom_mod
from decontam.bloom import BloomFilter, optimal_parameters


def test_optimal_parameters_textbook_values():
    assert optimal_parameters(1000, 1e-6) == (28756, 20)
    assert optimal_parameters(1000, 1e-3)[1] == 10
    with pytest.raises(ValueError, match="in \\(0, 1\\)"):
        optimal_parameters(10, 0.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=3000),
       st.sampled_from([1e-2, 1e-4, 1e-6]), st.integers(0, 2**32), st.sampled_from(["mix", "key"]),
       st.sampled_from([0, 60_000, 600_000]))
def test_no_false_negatives(keys, fp, seed, partition_by, capacity):
    """Every added key is found, in filters of one partition, of several, and of more partitions than add()
    updates at once (sized for more keys than are added: 3,000 keys alone always fit in one partition)."""
    arr = np.array(keys, dtype=np.uint64)
    bf = BloomFilter.for_capacity(max(len(set(keys)), capacity), fp, seed, partition_by)
    if capacity:
        assert bf.n_partitions > 1
    half = len(arr) // 2
    bf.add(arr[:half])  # added in two calls, in any order
    bf.add(arr[half:][::-1])
    assert bf.contains(arr).all()


@pytest.mark.parametrize("fp", [1e-2, 1e-3])
def test_false_positive_rate_is_as_sized(fp):
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 2**63, 200_000, dtype=np.int64).astype(np.uint64) * np.uint64(2)  # even keys
    bf = BloomFilter.for_capacity(len(keys), fp, seed=3)
    bf.add(keys)
    absent = keys[:400_000 // 2] + np.uint64(1)  # odd: never added
    measured = float(bf.contains(np.concatenate([absent, absent ^ np.uint64(1 << 62)])).mean())
    assert measured < fp * 1.3
    assert bf.fp_rate() < fp * 1.05  # the fill-based estimate the reports quote
    assert abs(bf.fp_rate() - measured) < fp * 0.3


def test_large_filter_meets_1e6_at_29_bits_per_key():
    keys = np.random.default_rng(2).integers(0, 2**63, 300_000, dtype=np.int64).astype(np.uint64)
    bf = BloomFilter.for_capacity(len(keys), 1e-6)
    bf.add(keys)
    assert bf.fp_rate() <= 1e-6
    assert bf.nbytes * 8 / len(keys) < 31  # 28.8 bits/key + 2 % slack + rounding to whole partitions


def test_union_is_or_and_needs_same_parameters():
    a = np.arange(1, 500, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    b = np.arange(500, 1000, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    fa, fb = BloomFilter.for_capacity(1000, 1e-4, 5), BloomFilter.for_capacity(1000, 1e-4, 5)
    fa.add(a)
    fb.add(b)
    both = fa.union(fb)
    assert both.contains(np.concatenate([a, b])).all()
    ref = BloomFilter.for_capacity(1000, 1e-4, 5)
    ref.add(np.concatenate([a, b]))
    assert np.array_equal(ref.bits, both.bits)
    with pytest.raises(ValueError, match="different parameters"):
        fa.union(BloomFilter.for_capacity(1000, 1e-4, 6))


def test_from_params_roundtrip_and_size_check():
    bf = BloomFilter.for_capacity(100, 1e-3, 9)
    keys = np.arange(100, dtype=np.uint64)
    bf.add(keys)
    again = BloomFilter.from_params(json.loads(json.dumps(bf.params())), bf.bits.copy())  # as an index stores it
    assert again.params() == bf.params()
    assert again.contains(keys).all()
    absent = np.arange(1000, 21_000, dtype=np.uint64)
    assert np.array_equal(again.contains(absent), bf.contains(absent))  # the same false positives too
    with pytest.raises(ValueError, match="expected"):
        BloomFilter.from_params(bf.params(), bf.bits[:-8])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=5000), st.integers(0, 2**32))
def test_key_partitioned_filter_takes_sorted_keys_as_they_come(keys, seed):
    """partition_by="key": sorted keys are grouped by partition already (add() skips grouping them); the bits
    are the same as for the keys in any order, in any number of calls."""
    arr = np.array(keys, dtype=np.uint64)
    n = max(len(set(keys)), 20_000)  # enough keys for several partitions
    a = BloomFilter.for_capacity(n, 1e-6, seed, partition_by="key")
    b = BloomFilter.for_capacity(n, 1e-6, seed, partition_by="key")
    assert a.n_partitions > 1
    a.add(np.sort(arr))
    shuffled = np.random.default_rng(seed).permutation(arr)
    b.add(shuffled[: len(arr) // 3])
    b.add(shuffled[len(arr) // 3 :])
    assert np.array_equal(a.bits, b.bits)
    assert a.contains(arr).all()


def test_key_partitioning_is_recorded_and_not_mixed_up():
    keys = np.random.default_rng(4).integers(0, 2**64, 50_000, dtype=np.uint64)  # uniform over all 64 bits
    by_key = BloomFilter.for_capacity(len(keys), 1e-4, 1, partition_by="key")
    by_key.add(keys)
    assert by_key.fp_rate() < 1e-4 * 1.05  # uniform keys: partitions stay balanced
    again = BloomFilter.from_params(by_key.params(), by_key.bits.copy())
    assert again.partition_by == "key" and again.contains(keys).all()
    by_mix = BloomFilter.for_capacity(len(keys), 1e-4, 1)
    with pytest.raises(ValueError, match="different parameters"):
        by_key.union(by_mix)
    with pytest.raises(ValueError, match="partition_by"):
        BloomFilter.for_capacity(10, 1e-4, partition_by="top")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=3000), st.integers(1, 12),
       st.integers(20_000, 400_000))
def test_slices_cut_at_key_cuts_set_bits_in_disjoint_bytes(keys, n, capacity):
    """Sorted keys cut at ``key_cuts(n)`` (at most ``n`` slices), each added on its own into a filter of its own:
    every slice sets bits only in its own bytes (whole partition groups, which ``add`` rewrites at once), so
    processes can fill one shared filter side by side; together they make the filter of all keys."""
    arr = np.sort(np.array(keys, dtype=np.uint64))
    whole = BloomFilter.for_capacity(capacity, 1e-6, 3, partition_by="key")
    whole.add(arr)
    cuts = whole.key_cuts(n)
    assert len(cuts) < n and cuts == sorted(set(cuts))
    if whole.n_partitions >= 2 * 16 * n:  # enough groups of 16 partitions for n slices
        assert len(cuts) == n - 1
    at = [0, *np.searchsorted(arr, np.array(cuts, dtype=np.uint64)).tolist(), len(arr)]
    first_partitions = [((c >> 32) * whole.n_partitions) >> 32 for c in cuts]
    group_bytes = max(1, bloom_mod._GROUP_BITS // (whole.stride * 8)) * whole.stride
    byte_cuts = [0, *(p * whole.stride for p in first_partitions), len(whole.bits)]
    assert all(b % group_bytes == 0 for b in byte_cuts[1:-1])  # whole groups, which add() rewrites at once
    assert all((((c - 1) >> 32) * whole.n_partitions) >> 32 < p for c, p in zip(cuts, first_partitions))
    combined = np.zeros_like(whole.bits)
    for i, (a, b) in enumerate(zip(at[:-1], at[1:])):
        part = BloomFilter.for_capacity(capacity, 1e-6, 3, partition_by="key")
        part.add(arr[a:b])
        touched = np.flatnonzero(part.bits)
        assert ((touched >= byte_cuts[i]) & (touched < byte_cuts[i + 1])).all()
        combined |= part.bits
    assert np.array_equal(combined, whole.bits)


def test_key_cuts_need_a_filter_partitioned_by_key():
    with pytest.raises(ValueError, match="partitioned by key"):
        BloomFilter.for_capacity(10_000, 1e-6).key_cuts(2)
