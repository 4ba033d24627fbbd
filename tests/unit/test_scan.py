"""Tests of decontam.scan: the probe set's layout, the engine's accounting and its bookkeeping of the process.

(The engine's results are held to the brute-force oracle through the public API in test_filter.py.)
"""

from __future__ import annotations

import gc

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from decontam import check
from decontam.benchmarks import Benchmark, Item
from decontam.config import SampleConfig
from decontam.match import ProbeGroup
from decontam.sample import ItemProbes, sample_items
from decontam.scan import probe_groups

LETTERS = ["a", "b", "ab", "ba", "A", "B", "0", "1", "7", "é", "É", "ß", "Ω", "ω", "\u0301", "ﬁ", "①", "２",
           "İ", "n", "u"]
SEPARATORS = [" ", "  ", ",", ".", "\n", "\t", "-", "_", "\u00a0", "\\n", "\\", "&amp;", "&#39;", "\\u00e9",
              "'", "$", "(", ")"]
token = st.sampled_from(LETTERS + SEPARATORS)
separator = st.sampled_from(SEPARATORS)
text = st.lists(token, max_size=40).map("".join)

Q_LONG = (
    "A farmer has 17 sheep and buys 5 more each week. After how many weeks will the farmer have "
    "exactly 62 sheep in the field?"
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.lists(st.sampled_from(LETTERS + SEPARATORS + ["中", "𝐀", "٣"]), max_size=30)
                         .map("".join), max_size=6), min_size=1, max_size=3),
       st.sampled_from(["sample", "all"]), st.integers(1, 12))
def test_probe_groups_equal_one_from_chars_per_item(benchmarks, mode, length):
    """ProbeSet.build lays out the groups of all items at once: the same groups as one from_chars per item."""
    cfg = SampleConfig(length=length, mode=mode)
    items = [sample_items(f"b{bi}", list(enumerate(qs)), cfg) for bi, qs in enumerate(benchmarks)]
    # Offsets as other callers may give them: ranges that do not start at 0, lists, no window at all.
    items.append([ItemProbes(0, "abcdef", 2, range(1, 4)), ItemProbes(1, "ébc中𝐀x", 2, range(2, 5)),
                  ItemProbes(2, "", 0, ()), ItemProbes(3, "xyz", 1, [2, 0]), ItemProbes(4, "xyz", 1, ())])
    for its in ([items[-1][:2]], items):  # with and without the items that are not ranges
        groups, owner = probe_groups(its)
        assert owner == [(bi, ii) for bi, ps in enumerate(its) for ii, p in enumerate(ps) if len(p.offsets)]
        assert len(groups) == len(owner)
        for g, (bi, ii) in zip(groups, owner):
            p = its[bi][ii]
            ref = ProbeGroup.from_chars(p.normalized, p.offsets, p.length)
            assert g.question == ref.question
            assert g.starts.dtype == ref.starts.dtype and g.ends.dtype == ref.ends.dtype
            assert np.array_equal(g.starts, ref.starts) and np.array_equal(g.ends, ref.ends)


def test_probe_set_and_report_leave_the_garbage_collector_as_they_found_it():
    b = Benchmark.from_items("demo", [Item("q0", Q_LONG)])
    assert gc.isenabled()
    check([Q_LONG], [b], progress=False)
    assert gc.isenabled()
    gc.disable()
    try:
        check([Q_LONG], [b], progress=False)
        assert not gc.isenabled()
    finally:
        gc.enable()
