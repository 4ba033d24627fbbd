"""Probe sampling: normalized question -> the substrings searched for in the training data.

GPT-4 rule: three random 50-character substrings of the normalized question; a question shorter than 50
normalized characters is used whole. ``mode="all"`` takes every window instead (exhaustive). The 13-gram rule
(:func:`ngram_items`) takes every word 13-gram of the question's janitor words (:mod:`decontam.words`).

Reproducibility: the probes of an item depend only on ``(seed, benchmark name, item id, question)`` (and the
normalizer options, which define the normalized question). The random generator is seeded from a SHA-256 of
those values, never from global state, so the same inputs give the same probes on every machine and run. The
draw itself is :func:`draw_offsets`: exactly ``random.Random(seed).sample(range(n), k)``, written out here on
top of the Mersenne Twister's ``getrandbits`` so that the probes do not hang on the library's ``sample``.

Example:
    >>> from decontam.config import SampleConfig
    >>> p = sample_item("demo", 1, "What is the capital of France? " * 3, SampleConfig(length=10, n_probes=2))
    >>> len(p.probes), all(len(x) == 10 for x in p.probes)
    (2, True)
    >>> sample_item("demo", 2, "Short one?", SampleConfig()).probes
    ('Shortone',)
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .config import NormalizeConfig, SampleConfig
from .normalize import ASCII_DELETE, normalize
from .words import janitor_words, ngram_windows

__all__ = ["ItemProbes", "draw_offsets", "ngram_items", "probe_seed", "sample_item", "sample_items"]

_DEFAULT_NORM = NormalizeConfig()


@dataclass(frozen=True)
class ItemProbes:
    """The probes of one benchmark item.

    Attributes:
        item_id: The item's id in its benchmark.
        normalized: The normalized question.
        length: Probe length in characters (``min(config.length, len(normalized))``; 0 when empty).
        offsets: Start offsets (in characters of ``normalized``) of the probes, increasing. In ``all`` mode a
            ``range`` over every window. None for an empty or too short item.
        too_short: The item was left out: its normalized question is shorter than ``min_question_chars``
            (the 13-gram rule: it has fewer words than an n-gram).
        ends: End offsets of the probes, when they differ in length (the 13-gram rule's word n-grams);
            otherwise None and each ends ``length`` characters after its start.
    """

    item_id: str | int
    normalized: str
    length: int
    offsets: Sequence[int]
    too_short: bool = False
    ends: Sequence[int] | None = None

    @property
    def empty(self) -> bool:
        """True when the question normalized to nothing (the item has no probe and can never match)."""
        return not self.normalized

    def probe(self, window: int) -> str:
        """The probe string of window number ``window`` (an index into :attr:`offsets`)."""
        start = self.offsets[window]
        end = start + self.length if self.ends is None else self.ends[window]
        return self.normalized[start:end]

    @property
    def probes(self) -> tuple[str, ...]:
        """The probe strings, in offset order."""
        norm, length = self.normalized, self.length
        if self.ends is not None:
            return tuple([norm[o:e] for o, e in zip(self.offsets, self.ends)])
        return tuple([norm[o : o + length] for o in self.offsets])

    def __len__(self) -> int:
        return len(self.offsets)


def probe_seed(seed: int, benchmark: str, item_id: str | int, question: str) -> int:
    """The integer seed of an item's random generator: a SHA-256 of its identifying values.

    Example:
        >>> probe_seed(0, "gsm8k", 3, "q") == probe_seed(0, "gsm8k", 3, "q")
        True
        >>> probe_seed(0, "gsm8k", 3, "q") == probe_seed(0, "gsm8k", "3", "q")
        False
    """
    # Unit separators keep the fields apart; the id's type is part of it (1 and "1" are different items).
    blob = f"{seed}\x1f{benchmark}\x1f{type(item_id).__name__}:{item_id}\x1f{question}"
    return int.from_bytes(hashlib.sha256(blob.encode("utf-8", "surrogatepass")).digest()[:8], "big")


def draw_offsets(rng: random.Random, n: int, k: int) -> list[int]:
    """``k`` distinct values of ``range(n)``, in draw order: exactly ``rng.sample(range(n), k)``.

    CPython's algorithm (the same from 3.10 to 3.13), written out so that reproducibility does not hang on
    the standard library keeping it, and without ``sample``'s generic overhead (about 40% of the cost of an
    item). Small populations are drawn from a shrinking pool, larger ones by rejection of repeats; every
    number below ``m`` is ``getrandbits(m.bit_length())``, redrawn until it is below ``m``.

    Example:
        >>> draw_offsets(random.Random(7), 100, 3) == random.Random(7).sample(range(100), 3)
        True
    """
    if not 0 <= k <= n:
        raise ValueError(f"cannot draw {k} distinct values from range({n})")
    bits = rng.getrandbits
    setsize = 21  # CPython's threshold between the two methods (a k-element set vs an n-element list)
    if k > 5:
        setsize += 4 ** math.ceil(math.log(k * 3, 4))
    out: list[int] = []
    if n <= setsize:
        pool = list(range(n))
        for i in range(k):
            m = n - i
            width = m.bit_length()
            j = bits(width)
            while j >= m:
                j = bits(width)
            out.append(pool[j])
            pool[j] = pool[m - 1]
        return out
    width = n.bit_length()
    while len(out) < k:  # k is small: a list is as fast as a set here
        j = bits(width)
        if j < n and j not in out:
            out.append(j)
    return out


def sample_items(
    benchmark: str,
    items: Iterable[tuple[str | int, str]],
    config: SampleConfig = SampleConfig(),
    normalize_config: NormalizeConfig = _DEFAULT_NORM,
) -> list[ItemProbes]:
    """:func:`sample_item` for many items of one benchmark (the same result, several times faster).

    Args:
        benchmark: Benchmark name (part of every seed).
        items: ``(item id, raw question)`` pairs.
        config: Probe length, count, mode and seed.
        normalize_config: Normalizer options.

    Returns:
        One :class:`ItemProbes` per item, in order.
    """
    rng: random.Random | None = None  # one generator, re-seeded per item (cheaper than a new one per item)
    plain = normalize_config == _DEFAULT_NORM
    length, n_probes, exhaustive = config.length, config.n_probes, config.mode == "all"
    out: list[ItemProbes] = []
    for item_id, question in items:
        if plain and question.isascii():  # the common case, inlined: the GPT-4 rule on ASCII
            norm = question.encode("ascii").translate(None, ASCII_DELETE).decode("ascii")
        else:
            norm = normalize(question, normalize_config)
        if not norm:
            out.append(ItemProbes(item_id, norm, 0, ()))
            continue
        if len(norm) < config.min_question_chars:
            out.append(ItemProbes(item_id, norm, 0, (), too_short=True))
            continue
        width = min(length, len(norm))
        n_windows = len(norm) - width + 1
        if exhaustive:
            offsets: Sequence[int] = range(n_windows)
        elif n_windows <= n_probes:
            offsets = tuple(range(n_windows))
        else:
            item_seed = probe_seed(config.seed, benchmark, item_id, question)
            if rng is None:
                rng = random.Random(item_seed)
            else:
                rng.seed(item_seed)
            offsets = tuple(sorted(draw_offsets(rng, n_windows, n_probes)))
        out.append(ItemProbes(item_id, norm, width, offsets))
    return out


def ngram_items(items: Iterable[tuple[str | int, str]], n: int) -> list[ItemProbes]:
    """The probes of the 13-gram rule: every word ``n``-gram of each question (no sampling, no seed).

    An item's normalized question is its janitor words joined by one space (:func:`decontam.words.janitor_words`,
    lm-evaluation-harness's ``Janitor.normalize_string`` then ``str.split``); each probe is one ``n``-gram of it,
    from the start of its first word to the end of its last. A question of fewer than ``n`` words has no n-gram
    and is too short to be checked; one without a word is empty.

    Example:
        >>> p = ngram_items([(1, "One, two: THREE four five!")], 3)[0]
        >>> p.normalized, p.probes
        ('one two three four five', ('one two three', 'two three four', 'three four five'))
        >>> ngram_items([(2, "Too short.")], 3)[0].too_short
        True
    """
    pairs = list(items)
    words = [janitor_words(question) for _, question in pairs]
    out: list[ItemProbes] = []
    for (item_id, _), ws, (starts, ends) in zip(pairs, words, ngram_windows(words, n)):
        joined = " ".join(ws)
        if len(ws) < n:
            out.append(ItemProbes(item_id, joined, 0, (), too_short=bool(ws)))
        else:  # the offsets are numpy arrays here: hundreds of thousands of n-grams, not Python ints
            out.append(ItemProbes(item_id, joined, 0, starts, ends=ends))
    return out


def sample_item(
    benchmark: str,
    item_id: str | int,
    question: str,
    config: SampleConfig = SampleConfig(),
    normalize_config: NormalizeConfig = _DEFAULT_NORM,
) -> ItemProbes:
    """Draw the probes of one item.

    Args:
        benchmark: Benchmark name (part of the seed).
        item_id: Item id (part of the seed).
        question: The raw question text (only the question: never the answer or choices).
        config: Probe length, count, mode and seed.
        normalize_config: Normalizer options.

    Returns:
        The item's :class:`ItemProbes`. An item whose question normalizes to nothing has no probe; callers
        count and report it.

    Raises:
        TypeError: ``question`` is not a ``str``, or a config is not of its type.
    """
    if not isinstance(question, str) or not isinstance(config, SampleConfig) \
            or not isinstance(normalize_config, NormalizeConfig):
        raise TypeError(f"sample_item takes a str question, a SampleConfig and a NormalizeConfig, got a "
                        f"{type(question).__name__}, a {type(config).__name__} and a "
                        f"{type(normalize_config).__name__}")
    return sample_items(benchmark, [(item_id, question)], config, normalize_config)[0]
