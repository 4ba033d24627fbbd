"""The probes of a check: every item of every benchmark sampled, and one matcher over all of them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..benchmarks import Benchmark
from ..config import DecontamConfig
from ..match import Matcher, ProbeGroup
from ..neardup import NearDupIndex
from ..runtime import gc_paused
from ..sample import ItemProbes, sample_items
from ..utf8 import char_to_byte

__all__ = ["ProbeSet", "probe_groups"]


@dataclass
class ProbeSet:
    """The probes of every item of every benchmark, and the matcher over them.

    Attributes:
        benchmarks: The benchmarks, in the order given.
        items: Per benchmark, the probes of each item (in item order).
        owner: Per matcher group, its ``(benchmark index, item index)``: items whose question normalizes to
            nothing have no group.
        matcher: The matcher over the non-empty items' probes.
        near: With ``config.near_dup``, the near-duplicate pass's index over the same groups' questions.
    """

    benchmarks: list[Benchmark]
    items: list[list[ItemProbes]]
    owner: list[tuple[int, int]]
    matcher: Matcher
    near: NearDupIndex | None = None

    @classmethod
    def build(cls, benchmarks: list[Benchmark], config: DecontamConfig) -> ProbeSet:
        """Draw the probes of every item and build the matcher over the non-empty ones."""
        with gc_paused():  # tens of thousands of small acyclic objects
            items = [sample_items(bench.name, ((it.id, it.question) for it in bench.items), config.sample,
                                  config.normalize) for bench in benchmarks]
            groups, owner = probe_groups(items)
            near = NearDupIndex([(gi, bi, items[bi][ii].normalized) for gi, (bi, ii) in enumerate(owner)],
                                config.near_dup_threshold) if config.near_dup else None
        return cls(benchmarks, items, owner, Matcher(groups, exhaustive=config.sample.mode == "all"), near)


def probe_groups(items: list[list[ItemProbes]]) -> tuple[list[ProbeGroup], list[tuple[int, int]]]:
    """The matcher's probe groups of the items that have probes, and each group's ``(benchmark, item)``.

    Equal to ``ProbeGroup.from_chars(p.normalized, p.offsets, p.length)`` per non-empty item (a test holds the
    two to each other), but the windows of all items are laid out in two arrays at once, and each group gets
    views of its slice: in ``all`` mode there are millions of windows.
    """
    owner = [(bi, ii) for bi, probes in enumerate(items) for ii, p in enumerate(probes) if len(p.offsets)]
    kept = [items[bi][ii] for bi, ii in owner]
    n = len(kept)
    offsets = [p.offsets for p in kept]
    counts = np.fromiter(map(len, offsets), dtype=np.int64, count=n)
    bounds = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=bounds[1:])
    total = int(bounds[-1])
    if n and counts.all() and all(type(o) is range and o.step == 1 for o in offsets):
        # ``all`` mode: consecutive windows. Each item's first offset is written as its step from the previous
        # item's last, every other entry as 1, then one cumulative sum in place: no temporary as large as the
        # two arrays the groups keep.
        first = np.fromiter((o.start for o in offsets), dtype=np.int64, count=n)
        starts = np.ones(total, dtype=np.int64)
        starts[0] = first[0]
        starts[bounds[1:-1]] = first[1:] - (first[:-1] + counts[:-1] - 1)
        np.cumsum(starts, out=starts)
    else:
        starts = np.fromiter(itertools.chain.from_iterable(offsets), dtype=np.int64, count=total)
    ends = np.repeat(np.fromiter((p.length for p in kept), dtype=np.int64, count=n), counts)
    ends += starts
    b = bounds.tolist()
    groups = []
    for i, p in enumerate(kept):
        norm = p.normalized
        q = norm.encode("utf-8")
        lo, hi = starts[b[i] : b[i + 1]], ends[b[i] : b[i + 1]]
        if len(q) != len(norm):  # characters of several bytes: map character offsets to byte offsets
            to_byte = char_to_byte(norm)
            lo, hi = to_byte[lo], to_byte[hi]
        groups.append(ProbeGroup(q, lo, hi))
    return groups, owner
