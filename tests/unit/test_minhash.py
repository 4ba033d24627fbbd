"""Tests of decontam.minhash: shingles, and datasketch's MinHash computed with numpy, held to datasketch itself.

The oracle of :func:`signatures` is datasketch's own ``MinHash.update_batch`` (its permutations, its ``fmix32``
pre-mix, a Python call per shingle): the two must agree bit for bit, and the representative of every
permutation must be a shingle of the set whose permuted value is the minimum.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from decontam.minhash import (
    datasketch_minhash,
    datasketch_permutations,
    fmix32,
    fold_case,
    representatives,
    shingle_hash,
    shingle_hash_bytes,
    shingles,
    signatures,
    unfmix32,
)

ALPHABET = "abcXYZ019é中"
texts = st.text(ALPHABET, min_size=0, max_size=60).map(lambda t: t.encode("utf-8"))


@settings(max_examples=200, deadline=None)
@given(texts, st.integers(1, 8), st.booleans())
def test_shingles_are_the_substrings_at_every_position(raw, k, fold):
    got = shingles(raw, k, fold)
    source = bytes(fold_case(np.frombuffer(raw, dtype=np.uint8))) if fold else raw
    want = [int.from_bytes(source[i:i + k], "little") for i in range(len(raw) - k + 1)]
    assert got.tolist() == want


def test_fold_case_lowers_ascii_capitals_only():
    raw = "AZaz09@[`{Éé中".encode()
    folded = bytes(fold_case(np.frombuffer(raw, dtype=np.uint8)))
    assert folded == b"azaz09@[`{" + "Éé中".encode()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2 ** 32 - 1), min_size=1, max_size=50))
def test_unfmix32_inverts_fmix32(values):
    x = np.array(values, dtype=np.uint32)
    assert unfmix32(fmix32(x)).tolist() == values
    assert fmix32(unfmix32(x)).tolist() == values


def test_shingle_hash_of_bytes_is_the_vectorized_one():
    grams = shingles(b"thequickbrownfoxjumpsoverthelazydog")
    assert [shingle_hash_bytes(int(g).to_bytes(8, "little")) for g in grams] == shingle_hash(grams).tolist()


@settings(max_examples=60, deadline=None)
@given(st.lists(texts.filter(lambda t: len(t) >= 8), min_size=1, max_size=5), st.sampled_from([1, 7, 64]),
       st.sampled_from([1, 42]))
def test_signatures_are_datasketchs_minhash_bit_for_bit(questions, num_perm, seed):
    sets = [np.unique(shingles(q)) for q in questions]
    bounds = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in sets], out=bounds[1:])
    a, b = datasketch_permutations(num_perm, seed)
    sig = signatures(shingle_hash(np.concatenate(sets)), bounds, a, b)
    for row, grams in zip(sig, sets):
        reference = datasketch_minhash(grams, num_perm, seed)
        assert reference.hashvalues.dtype == np.uint32
        assert row.tolist() == reference.hashvalues.tolist()
    reps = representatives(sig, a, b)
    for i, grams in enumerate(sets):
        hashes = shingle_hash(grams)
        for p in range(num_perm):
            assert reps[i, p] in hashes  # the representative is one of the set's shingles ...
            permuted = fmix32(hashes) * a[p] + b[p]
            assert permuted.min() == sig[i, p]  # ... and the one whose permuted value is the minimum
            assert (fmix32(np.array([reps[i, p]], dtype=np.uint32)) * a[p] + b[p])[0] == sig[i, p]


def test_signatures_of_many_sets_in_several_steps(monkeypatch):
    """Sets are taken in steps of about a fixed number of cells; the cut between steps changes nothing."""
    from decontam import minhash

    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 40, size=30)
    hashes = rng.integers(0, 2 ** 32, size=int(sizes.sum()), dtype=np.uint32)
    bounds = np.concatenate(([0], np.cumsum(sizes)))
    a, b = datasketch_permutations(8, 1)
    whole = signatures(hashes, bounds, a, b)
    monkeypatch.setattr(minhash, "_CHUNK_CELLS", 50)
    assert np.array_equal(signatures(hashes, bounds, a, b), whole)
    want = np.array([[(fmix32(hashes[lo:hi]) * a[p] + b[p]).min() for p in range(8)]
                     for lo, hi in zip(bounds[:-1], bounds[1:])], dtype=np.uint32)
    assert np.array_equal(whole, want)
