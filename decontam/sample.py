"""Probe sampling: normalized question -> the substrings searched for in the training data.

GPT-4 rule: three random 50-character substrings of the normalized question; a question shorter than 50
normalized characters is used whole. ``mode="all"`` takes every window instead (exhaustive).

Reproducibility: the probes of an item depend only on ``(seed, benchmark name, item id, question)`` (and the
normalizer options, which define the normalized question). The random generator is seeded from a SHA-256 of
those values, never from global state, so the same inputs give the same probes on every machine and run.

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
import random
from collections.abc import Sequence
from dataclasses import dataclass

from .config import NormalizeConfig, SampleConfig
from .normalize import normalize

__all__ = ["ItemProbes", "probe_seed", "sample_item"]

_DEFAULT_NORM = NormalizeConfig()


@dataclass(frozen=True)
class ItemProbes:
    """The probes of one benchmark item.

    Attributes:
        item_id: The item's id in its benchmark.
        normalized: The normalized question.
        length: Probe length in characters (``min(config.length, len(normalized))``; 0 when empty).
        offsets: Start offsets (in characters of ``normalized``) of the probes, increasing. In ``all`` mode a
            ``range`` over every window.
    """

    item_id: str | int
    normalized: str
    length: int
    offsets: Sequence[int]

    @property
    def empty(self) -> bool:
        """True when the question normalized to nothing (the item has no probe and can never match)."""
        return not self.normalized

    @property
    def probes(self) -> tuple[str, ...]:
        """The probe strings, in offset order."""
        return tuple(self.normalized[o : o + self.length] for o in self.offsets)

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
    """
    norm = normalize(question, normalize_config)
    if not norm:
        return ItemProbes(item_id, norm, 0, ())
    length = min(config.length, len(norm))
    n_windows = len(norm) - length + 1
    if config.mode == "all":
        return ItemProbes(item_id, norm, length, range(n_windows))
    if n_windows <= config.n_probes:
        return ItemProbes(item_id, norm, length, tuple(range(n_windows)))
    rng = random.Random(probe_seed(config.seed, benchmark, item_id, question))
    return ItemProbes(item_id, norm, length, tuple(sorted(rng.sample(range(n_windows), config.n_probes))))
