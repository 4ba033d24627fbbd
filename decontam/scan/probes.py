"""The probes of a check: every item of every benchmark sampled, and one matcher over all of them.

With ``probe_answers`` the items' answers are sampled too, by the same sampler (an answer shorter than the probe
length is not probed), and their groups follow the questions' in the one matcher: a corpus is read once for both.
Group ``g`` is a question's when ``g < len(owner)``, else an answer's (:meth:`ProbeSet.answer_of`).

Under the 13-gram rule (``method="ngram13"``) an item's probes are its word 13-grams, and the matcher looks for
each as ``" w1 … w13 "`` in the documents' word text (:mod:`decontam.words`): the same exact substring matcher.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..benchmarks import Benchmark, BenchmarkArg, load_benchmarks
from ..config import DecontamConfig, NgramRule
from ..errors import ConfigError
from ..match import Matcher, ProbeGroup
from ..neardup import NearDupIndex
from ..runtime import gc_paused
from ..sample import ItemProbes, ngram_items, sample_items
from ..utf8 import char_span, char_to_byte
from ..words import whole_words

__all__ = ["ANSWER_SEED_TAG", "ProbeSet", "answer_probes", "ngram_groups", "probe_groups", "require_probes"]

ANSWER_SEED_TAG = "\x1fanswer"  # appended to the benchmark name in an answer's seed: its draw is its own


@dataclass
class ProbeSet:
    """The probes of every item of every benchmark, and the matcher over them.

    Attributes:
        benchmarks: The benchmarks, in the order given.
        items: Per benchmark, the probes of each item (in item order).
        owner: Per question group of the matcher (the first ``len(owner)`` groups), its ``(benchmark index, item
            index)``: items whose question normalizes to nothing have no group.
        matcher: The matcher over the non-empty items' probes (questions, then answers).
        answers: With ``probe_answers``: per benchmark, the probes of each item's answer (``None`` for an item
            without an answer); else ``None``.
        answer_owner: Per answer group (groups ``len(owner)`` onwards), its ``(benchmark index, item index)``.
        near: With ``near_dup``, the near-duplicate pass's index over the questions (its groups are the
            question groups).
        words: True under the 13-gram rule: the matcher's questions are word texts (:func:`ngram_groups`).
    """

    benchmarks: list[Benchmark]
    items: list[list[ItemProbes]]
    owner: list[tuple[int, int]]
    matcher: Matcher
    answers: list[list[ItemProbes | None]] | None = None
    answer_owner: list[tuple[int, int]] = field(default_factory=list)
    near: NearDupIndex | None = None
    words: bool = False

    @classmethod
    def build(cls, benchmarks: list[Benchmark], config: DecontamConfig) -> ProbeSet:
        """Draw the probes of every item (and, with ``probe_answers``, of every answer) and build the matcher
        over the non-empty ones."""
        rule = config.text_rule
        with gc_paused():  # tens of thousands of small acyclic objects
            if isinstance(rule, NgramRule):
                items = [ngram_items(((it.id, it.question) for it in bench.items), rule.n) for bench in benchmarks]
                groups, owner = ngram_groups(items)
            else:
                items = [sample_items(bench.name, ((it.id, it.question) for it in bench.items), config.sample,
                                      config.normalize) for bench in benchmarks]
                groups, owner = probe_groups(items)
            answers = [answer_probes(bench, config) for bench in benchmarks] if config.probe_answers else None
            answer_owner: list[tuple[int, int]] = []
            if answers is not None:
                a_groups, answer_owner = probe_groups(answers)
                groups += a_groups
            near = NearDupIndex([(gi, bi, items[bi][ii].normalized) for gi, (bi, ii) in enumerate(owner)],
                                config.near_dup_threshold) if config.near_dup else None
        return cls(benchmarks, items, owner, Matcher(groups, exhaustive=config.every_window), answers,
                   answer_owner, near, words=isinstance(rule, NgramRule))

    @classmethod
    def load(cls, benchmarks: BenchmarkArg | Sequence[BenchmarkArg], config: DecontamConfig,
             question_field: str | None = None, item_id_field: str | None = None,
             answer_field: str | None = None) -> ProbeSet:
        """Load the benchmarks of a check (with their answers when ``config.probe_answers`` says so; see
        :func:`decontam.benchmarks.load_benchmarks`) and :meth:`build` their probes.

        Raises:
            ConfigError: ``answer_field`` without ``probe_answers`` (an answer field is read for nothing else).
        """
        if answer_field is not None and not config.probe_answers:
            raise ConfigError(f"answer_field={answer_field!r} (--answer-field) is read only to probe answers: add "
                              "probe_answers=True (--probe-answers)")
        return cls.build(load_benchmarks(benchmarks, question_field, item_id_field, answer_field,
                                         answers=config.probe_answers), config)

    def answer_of(self, group: int) -> tuple[int, int] | None:
        """The ``(benchmark index, item index)`` whose answer matcher group ``group`` holds, or ``None`` for a
        question's group."""
        k = group - len(self.owner)
        return self.answer_owner[k] if k >= 0 else None

    def question_span(self, item: ItemProbes, run: tuple[int, int]) -> tuple[int, int]:
        """A matched run of the matcher's question bytes as a character span of ``item.normalized``.

        Under the 13-gram rule the matcher's question is the word text ``" " + normalized + " "``: the span is that
        of the words lying wholly in the run (:func:`decontam.words.whole_words`), past the leading space.
        """
        if not self.words:
            return char_span(item.normalized, *run)
        text = " " + item.normalized + " "
        start, end = whole_words(text, *char_span(text, *run))
        return start - 1, end - 1


def require_probes(benchmarks: Sequence[Benchmark], config: DecontamConfig) -> None:
    """Refuse a run in which no item of ``benchmarks`` has a probe (every question normalizes to nothing, or is
    left out as too short): it would read the corpus, check nothing and report every item clean or left out.
    Cheap: it stops at the first item with a probe. The command line calls it; a library caller gets the report,
    whose warnings say so.

    Raises:
        ConfigError: Saying, per benchmark, how many questions are empty and how many too short.
    """
    if config.probe_answers:  # (answers may have probes where questions have none)
        return
    rule = config.text_rule

    def drawn(bench: Benchmark, item: Any) -> ItemProbes:
        pair = [(item.id, item.question)]
        return (ngram_items(pair, rule.n) if isinstance(rule, NgramRule)
                else sample_items(bench.name, pair, config.sample, config.normalize))[0]

    items: list[list[ItemProbes]] = []
    for bench in benchmarks:
        items.append([])
        for item in bench.items:
            probes = drawn(bench, item)
            if len(probes.offsets):
                return
            items[-1].append(probes)

    def why(bench: Benchmark, its: list[ItemProbes]) -> str:
        empty, short = sum(1 for p in its if p.empty), sum(1 for p in its if p.too_short)
        parts = [f"{empty} of {len(its)} questions normalize to nothing (is its question field the right one?)"
                 if empty else "", f"{short} of {len(its)} are too short (--min-question-chars, or fewer words than "
                 "the 13-gram rule's 13)" if short else ""]
        return f"{bench.name}: " + "; ".join(p for p in parts if p)

    raise ConfigError("no item of the benchmarks has a probe, so nothing would be checked: "
                      + "; ".join(why(b, its) for b, its in zip(benchmarks, items)))


def answer_probes(bench: Benchmark, config: DecontamConfig) -> list[ItemProbes | None]:
    """The probes of each item's answer (``None``: the item has no answer).

    Drawn as questions are (:func:`decontam.sample.sample_items`), seeded by ``(seed, benchmark name +
    ANSWER_SEED_TAG, item id, answer)``, with one departure: an answer shorter than the probe length is not
    probed (``too_short``), since a short answer (``B``, ``42``, ``True``) is a coincidence in any corpus, where a
    short question used whole is the rule's own choice.
    """
    sample = dataclasses.replace(config.sample, min_question_chars=config.sample.length)
    with_answer = [(it.id, it.answer) for it in bench.items if it.answer is not None]
    drawn = iter(sample_items(bench.name + ANSWER_SEED_TAG, with_answer, sample, config.normalize))
    return [next(drawn) if it.answer is not None else None for it in bench.items]


def probe_groups(items: list[list[ItemProbes]] | list[list[ItemProbes | None]],
                 ) -> tuple[list[ProbeGroup], list[tuple[int, int]]]:
    """The matcher's probe groups of the items that have probes, and each group's ``(benchmark, item)``
    (``None`` entries, answers an item does not have, have no group).

    Equal to ``ProbeGroup.from_chars(p.normalized, p.offsets, p.length)`` per non-empty item (a test holds the
    two to each other), but the windows of all items are laid out in two arrays at once, and each group gets
    views of its slice: in ``all`` mode there are millions of windows.
    """
    owner = [(bi, ii) for bi, probes in enumerate(items) for ii, p in enumerate(probes)
             if p is not None and len(p.offsets)]
    kept: list[ItemProbes] = [items[bi][ii] for bi, ii in owner]  # type: ignore[misc]
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


def ngram_groups(items: list[list[ItemProbes]]) -> tuple[list[ProbeGroup], list[tuple[int, int]]]:
    """The matcher's probe groups under the 13-gram rule, and each group's ``(benchmark, item)``.

    An item's question is its word text ``" " + normalized + " "`` (:func:`decontam.words.word_text`); its probe
    ``w`` is the n-gram with a space on each side: from the space before its first word (the character at
    ``offsets[w]`` of the word text) to the space after its last (``ends[w] + 2``), so that it matches only whole
    words of a document's word text.
    """
    owner = [(bi, ii) for bi, probes in enumerate(items) for ii, p in enumerate(probes) if len(p.offsets)]
    groups = []
    for bi, ii in owner:
        p = items[bi][ii]
        text = " " + p.normalized + " "
        starts = np.asarray(p.offsets, dtype=np.int64)
        ends = np.asarray(p.ends, dtype=np.int64) + 2
        if not text.isascii():
            to_byte = char_to_byte(text)
            starts, ends = to_byte[starts], to_byte[ends]
        groups.append(ProbeGroup(text.encode("utf-8", "surrogatepass"), starts, ends))  # a lone surrogate: no match
    return groups, owner
