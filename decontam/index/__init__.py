"""Corpus index: a Bloom filter over minimizers in front, an exact table and the normalized text behind it.

Built once over a training corpus, it answers the same question as :func:`decontam.check` (which probes occur in
which documents) without reading the corpus again; its Bloom filter alone, the *portrait*, can be published so
that others can test benchmarks against a corpus they cannot see. The format is documented in ``docs/index.md``.

How a probe is found (every probe of at least ``WINDOW`` = 50 bytes of normalized UTF-8; a 50-character probe is
at least 50 bytes):

1. **Minimizers** (:mod:`.hashing`). Every 32-byte gram of every normalized document gets a 64-bit key. In
   every *window* of ``W = 19`` consecutive grams (50 bytes of text, inside one document) the gram whose key
   has the smallest top 32 bits is *selected* (all of them on ties). Any 50-byte probe that occurs in a
   document contains one whole window, so the probe's own minimum gram is selected there: looking up that one
   key loses nothing. About 2 in ``W + 1`` positions are selected.
2. **Bloom filter** (:mod:`decontam.bloom`) over the distinct selected keys, at 1e-6 false positives per lookup:
   the portrait (:mod:`.portrait`).
3. **Exact table**: every selected (key, position) pair, sorted by key (memory-mapped). A Bloom hit is looked up
   there, and each corpus position of the key is *confirmed* by comparing the text around it with the question,
   byte for byte, inside the document's bounds (:mod:`.query`). Hits with no confirmed occurrence are
   *rejected*.
4. **Report.** The documents that hold a confirmed probe are read back from the stored original text (zstd
   blocks, :mod:`.store`) and scanned with the same :class:`~decontam.match.Matcher` that ``check`` uses, so
   the report (items, documents, probes, spans) is the one ``check`` writes for the same corpus and probes.

Probes shorter than 50 bytes (questions shorter than 50 normalized characters, used whole; or a
``--probe-length`` under 50) have no whole window: the index answers them exactly by scanning its stored text
with the streaming matcher (slower); a portrait cannot answer them: it reports such items *undecided*, neither
contaminated nor clean (its Bloom-positive items are *possible*: an unverified upper bound).

Modules, imports pointing one way: :mod:`.hashing` and :mod:`.store` -> :mod:`.format` (versions, manifest,
portrait file, the opener of an index folder) -> :mod:`.write` (the table, the Bloom filter, the folder) and
:mod:`.part` (documents batch by batch) -> :mod:`.parts` (a build by a pool of processes) -> :mod:`.build` and
:mod:`.query` -> :mod:`.portrait` and :mod:`.corpus_index` (:class:`CorpusIndex`).
"""

from .corpus_index import CorpusIndex, build_index, open_index
from .format import FORMAT_VERSION
from .hashing import KGRAM, WINDOW, minimizers
from .portrait import Portrait

__all__ = [
    "FORMAT_VERSION",
    "KGRAM",
    "WINDOW",
    "CorpusIndex",
    "Portrait",
    "build_index",
    "minimizers",
    "open_index",
]
