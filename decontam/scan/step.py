"""The scan step: one batch of corpus rows -> normalized, matched, and accounted for.

Both directions run it: ``check``/``filter`` on every batch of the corpus, the index on the documents its
lookups found. Accounting happens where the batch is read: every row is counted, its text hashed into the
source's fingerprint, and each matched row recorded with what was found in it and the evidence, so that every
input row ends up kept, removed, or rejected with a reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from ..config import NgramRule, NormalizeConfig, RedactConfig, TextRule
from ..errors import InputError
from ..evidence import match_evidence, word_evidence
from ..inputs import Batch, Rejected, TextEdit, cut_text, text_buffers
from ..match import Matcher
from ..neardup import NearDupIndex
from ..normalize import normalize_many
from ..redact import RowRedaction, TextRedaction, decide, redact_texts
from ..utf8 import count_characters
from ..words import word_text_many

__all__ = [
    "DocMatch",
    "FrozenDigest",
    "NearDoc",
    "NearRow",
    "RowMatch",
    "SourceResult",
    "account_batch",
    "hash_texts",
    "match_texts",
    "record_matches",
    "redact_matches",
    "require_rows",
    "scan_batch",
    "scan_batches",
    "scan_texts",
]

Found = list[tuple[int, tuple[int, ...], tuple[int, int]]]  # (group, window indices, run in the question)
# One matched document of a batch: its index in the batch, what was found, where each group's run lies in the
# normalized document, and the evidence in its original text.
DocMatch = tuple[int, Found, dict[int, tuple[int, int]], dict[int, dict[str, Any]]]
# One near match of a document: (group, measured containment, estimated containment, evidence).
Near = tuple[int, float, float, dict[str, Any]]
# The near matches of one document of a batch: its index in the batch, and its near matches by group.
NearDoc = tuple[int, list[Near]]


@dataclass
class RowMatch:
    """The matches of one corpus row: ``(group, window indices, run)`` per item found in it.

    Attributes:
        row: 0-based row number within its source (rejected rows counted).
        line: 1-based line (JSONL) or row number within its source.
        doc_id: The id field, or None: the report then names the row by its corpus-wide row number.
        found: Per item found, ``(group, window indices, longest run in the question's bytes)``.
        doc_runs: Per group, where that run lies in the *normalized document* (bytes).
        evidence: Per group, the evidence object in the *original* document (:func:`decontam.evidence.excerpt`).
    """

    row: int
    line: int
    doc_id: Any
    found: Found
    doc_runs: dict[int, tuple[int, int]] = field(default_factory=dict)
    evidence: dict[int, dict[str, Any]] = field(default_factory=dict)
    # Rows of several segments: per group, each window's (label, run) in the segment it was found in (the one
    # with the longest run, when several); the group's run and evidence are those of its longest run.
    fields: dict[int, dict[int, tuple[str, tuple[int, int]]]] = field(default_factory=dict)
    # Under redaction (``action="redact"``): what was cut from the row, and whether it is kept or dropped.
    redaction: RowRedaction | None = None

    def to_list(self) -> list[Any]:
        """The match as plain JSON data (for engines that pass results through files)."""
        return [self.row, self.line, self.doc_id, [[g, list(w), list(r)] for g, w, r in self.found],
                [[g, list(r)] for g, r in self.doc_runs.items()], [[g, e] for g, e in self.evidence.items()],
                [[g, [[w, lab, list(r)] for w, (lab, r) in f.items()]] for g, f in self.fields.items()],
                self.redaction.to_list() if self.redaction is not None else None]

    @classmethod
    def from_list(cls, data: list[Any]) -> RowMatch:
        """Read back :meth:`to_list` (also a list without the redaction, as a ``datasets`` cache of an earlier
        version holds)."""
        row, line, doc_id, found, doc_runs, evidence, fields, *rest = data
        redaction = rest[0] if rest else None
        return cls(row, line, doc_id, [(g, tuple(w), (r[0], r[1])) for g, w, r in found],
                   {g: (r[0], r[1]) for g, r in doc_runs}, {g: e for g, e in evidence},
                   {g: {w: (lab, (r[0], r[1])) for w, lab, r in f} for g, f in fields},
                   RowRedaction.from_list(redaction) if redaction is not None else None)

    @property
    def kept(self) -> bool:
        """Whether the row is written (redacted) rather than removed."""
        return self.redaction is not None and self.redaction.outcome == "redacted"


@dataclass
class NearRow:
    """The near matches of one corpus row (the near-duplicate pass: :mod:`decontam.neardup`).

    Attributes:
        row: 0-based row number within its source (rejected rows counted).
        line: 1-based line (JSONL) or row number within its source.
        doc_id: The id field, or None (the report then names the row by its corpus-wide row number).
        found: Per item, ``(group, measured containment, estimated containment, evidence)``; in a row of
            several segments, the segment with the highest measured containment, its label in the evidence
            (``"field"``).
    """

    row: int
    line: int
    doc_id: Any
    found: list[Near]

    def to_list(self) -> list[Any]:
        """The row as plain JSON data (for engines that pass results through files)."""
        return [self.row, self.line, self.doc_id, [list(f) for f in self.found]]

    @classmethod
    def from_list(cls, data: list[Any]) -> NearRow:
        """Read back :meth:`to_list`."""
        row, line, doc_id, found = data
        return cls(row, line, doc_id, [(g, c, e, ev) for g, c, e, ev in found])


@dataclass(frozen=True)
class FrozenDigest:
    """A finished digest (hashlib objects do not pickle, and a source read back from a file has only this)."""

    value: bytes

    def digest(self) -> bytes:
        """The digest's bytes."""
        return self.value

    def hexdigest(self) -> str:
        """The digest in hex."""
        return self.value.hex()


@dataclass
class SourceResult:
    """What reading one source (a file, a table, a dataset) yields; results of sources add up in order.

    Attributes:
        source: The source's label (its path, or ``<list>``...).
        n_documents: Rows read and checked.
        n_characters: Characters of their text.
        text_digest: SHA-256 of the texts, end to end, in row order.
        length_digest: SHA-256 of the texts' byte lengths (little-endian int64): with the text digest, the
            source's part of the corpus fingerprint.
        rows: The matched rows, in order.
        rejected: The skipped rows, in order.
        fields: The text fields read, when not the one plain field asked for.
        near_rows: The rows where the near-duplicate pass found an item, in order (whether the exact rule
            matched them or not).
    """

    source: str
    n_documents: int = 0
    n_characters: int = 0
    text_digest: Any = field(default_factory=hashlib.sha256)
    length_digest: Any = field(default_factory=hashlib.sha256)
    rows: list[RowMatch] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    fields: tuple[str, ...] | None = None  # the text fields read, when not the one plain field asked for
    near_rows: list[NearRow] = field(default_factory=list)  # the near-duplicate pass's rows, in order

    def digests(self) -> bytes:
        """The two digests end to end (what the corpus fingerprint hashes, source after source)."""
        return self.text_digest.digest() + self.length_digest.digest()

    def to_dict(self) -> dict[str, Any]:
        """The source's totals and digests (an index manifest's ``corpus.sources`` entry)."""
        return {"source": self.source, "n_documents": self.n_documents, "n_characters": self.n_characters,
                "text_sha256": self.text_digest.hexdigest(), "lengths_sha256": self.length_digest.hexdigest(),
                "rejected": [r.to_dict() for r in self.rejected]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SourceResult:
        """Read back :meth:`to_dict` (no matched rows)."""
        return cls(data["source"], n_documents=data["n_documents"], n_characters=data["n_characters"],
                   text_digest=FrozenDigest(bytes.fromhex(data["text_sha256"])),
                   length_digest=FrozenDigest(bytes.fromhex(data["lengths_sha256"])),
                   rejected=[Rejected.from_dict(r) for r in data["rejected"]])

    def __getstate__(self) -> dict[str, Any]:  # results cross process boundaries: finish the digests
        state = dict(self.__dict__)
        state["text_digest"] = FrozenDigest(self.text_digest.digest())
        state["length_digest"] = FrozenDigest(self.length_digest.digest())
        return state


def require_rows(results: Sequence[SourceResult], allow_empty: bool = False) -> None:
    """Refuse a run that did not do its job: an input of which every row was rejected, or (unless
    ``allow_empty``, as for an in-memory batch that may well be empty) a corpus without a single row.

    Raises:
        InputError: Naming the input (and its first rejected row's reason), or every input when all are empty.
    """
    for r in results:
        if r.n_documents == 0 and r.rejected:
            first = r.rejected[0]
            raise InputError(f"no row of this input was accepted ({len(r.rejected)} rejected; the first, line "
                             f"{first.line}: {first.reason}); check --text-field and the input", path=r.source)
    if not allow_empty and not any(r.n_documents or r.rejected for r in results):
        raise InputError("the corpus is empty (no rows: only empty files or blank lines); check the corpus path",
                         path=", ".join(r.source for r in results))


def account_batch(batch: Batch, result: SourceResult) -> None:
    """Add a batch's rows, characters and text to its source's totals and digests."""
    result.n_characters += hash_texts(batch.texts, result)
    result.n_documents += len(batch)
    if batch.fields is not None:
        result.fields = batch.fields


def hash_texts(texts: pa.Array, result: SourceResult) -> int:
    """Add texts (in row order) to the source's digests; returns their number of characters."""
    data, offsets = text_buffers(texts)
    text = data[int(offsets[0]) : int(offsets[-1])]
    result.text_digest.update(text)
    result.length_digest.update(np.diff(offsets).astype("<i8").tobytes())
    if len(text) == 0 or np.frombuffer(text, dtype=np.uint8).max() < 0x80:  # ASCII: a character per byte
        return len(text)
    return count_characters(text)


def match_texts(matcher: Matcher, texts: pa.Array, norm: TextRule) -> list[DocMatch]:
    """Normalize and scan a string array; per matched document, in order: its index, what was found in it,
    where each run lies in the normalized document, and the evidence in the original text.

    ``norm`` is the GPT-4 normalizer's options, or the 13-gram rule (:class:`~decontam.config.NgramRule`): the
    documents are then scanned as word text (:func:`decontam.words.word_text_many`)."""
    return scan_texts(matcher, texts, norm)[0]


def scan_texts(matcher: Matcher, texts: pa.Array, norm: TextRule,
               near: NearDupIndex | None = None) -> tuple[list[DocMatch], list[NearDoc]]:
    """:func:`match_texts`, and with ``near`` the near-duplicate pass over the same normalized text: per
    document where it found an item, in order, its index and its near matches with their evidence (the GPT-4
    rule only: ``near`` is refused with the 13-gram rule)."""
    data, offsets = text_buffers(texts)
    base, end = int(offsets[0]), int(offsets[-1])
    marks: dict[int, list[int]] = {}
    if isinstance(norm, NgramRule):
        normalized, norm_offsets = word_text_many(data[base:end], offsets - base)
    else:
        normalized, norm_offsets = normalize_many(data[base:end], offsets - base, norm, marks)
    found = matcher.scan(normalized, norm_offsets)
    by_doc: dict[int, Found] = {}
    for (doc, gi), windows in found.windows.items():
        by_doc.setdefault(doc, []).append((gi, tuple(sorted(windows)), found.runs[(doc, gi)]))
    out: list[DocMatch] = []
    for doc in sorted(by_doc):
        found_here = sorted(by_doc[doc])
        doc_runs = {gi: found.doc_runs[(doc, gi)] for gi, _, _ in found_here}
        doc_norm = normalized[int(norm_offsets[doc]) : int(norm_offsets[doc + 1])]
        if isinstance(norm, NgramRule):
            evidence = word_evidence(texts[doc].as_py(), doc_norm, doc_runs)
        else:
            evidence = match_evidence(texts[doc].as_py(), doc_norm, doc_runs, norm, marks=marks.get(doc))
        out.append((doc, found_here, doc_runs, evidence))
    if near is None:
        return out, []
    near_by_doc: dict[int, list[Any]] = {}
    for f in near.find(normalized, norm_offsets):
        near_by_doc.setdefault(f.doc, []).append(f)
    near_out: list[NearDoc] = []
    for doc, fs in sorted(near_by_doc.items()):
        fs.sort(key=lambda f: f.group)
        evidence = match_evidence(texts[doc].as_py(), normalized[int(norm_offsets[doc]) : int(norm_offsets[doc + 1])],
                                  {f.group: f.span for f in fs}, norm, marks=marks.get(doc))
        near_out.append((doc, [(f.group, f.containment, f.estimate, evidence[f.group]) for f in fs]))
    return out, near_out


def redact_matches(matcher: Matcher, texts: pa.Array, matches: list[DocMatch], norm: NormalizeConfig,
                   config: RedactConfig) -> dict[int, TextRedaction]:
    """Redact the matched texts of a batch (:func:`decontam.redact.redact_texts`): per matched text (its index
    in ``texts``), what is cut."""
    docs = [m[0] for m in matches]
    found = [{gi: windows for gi, windows, _ in m[1]} for m in matches]
    cut = redact_texts(matcher, [texts[d].as_py() for d in docs], found, norm, config.context)
    return dict(zip(docs, cut))


def record_matches(batch: Batch, matches: list[DocMatch], result: SourceResult,
                   redactions: dict[int, TextRedaction] | None = None,
                   redact: RedactConfig | None = None, near: Sequence[NearDoc] = ()) -> np.ndarray:
    """Record a batch's matches (and near matches) in ``result`` (ids resolved here, where the batch is); return
    the keep mask over its rows: without the rows that hold a match or a near match. The matches of a row's
    segments are gathered into the row's one :class:`RowMatch` (:class:`NearRow`).

    Under redaction (``redactions`` of the matched texts, and the ``redact`` options), a matched row is kept
    unless :func:`decontam.redact.decide` drops it; its texts to write redacted go to ``batch.edits``.
    """
    keep = np.ones(len(batch), dtype=bool)
    if batch.segment_row is not None:
        matches = _by_row(matches, batch.segment_row, batch.labels or [])
        near = _near_by_row(near, batch.segment_row, batch.labels or [])
    ids = batch.doc_ids([m[0] for m in matches])
    for (doc, found_here, doc_runs, evidence, *labels), doc_id in zip(matches, ids):
        keep[doc] = False
        rm = RowMatch(int(batch.rows[doc]), int(batch.lines[doc]), doc_id, found_here, doc_runs, evidence,
                      labels[0] if labels else {})
        if redactions is not None and redact is not None:
            rm.redaction = _row_redaction(batch, doc, redactions, redact)
            keep[doc] = rm.kept
        result.rows.append(rm)
    for (doc, found_here), doc_id in zip(near, batch.doc_ids([n[0] for n in near])):
        keep[doc] = False
        result.near_rows.append(NearRow(int(batch.rows[doc]), int(batch.lines[doc]), doc_id, found_here))
    return keep


def _near_by_row(near: Sequence[NearDoc], segment_row: np.ndarray, labels: list[str]) -> list[NearDoc]:
    """Segment near matches -> row near matches: per row and item, the segment with the highest measured
    containment (the first of equal ones), named in its evidence; rows in order."""
    rows: dict[int, dict[int, Near]] = {}
    for seg, found in near:
        per_item = rows.setdefault(int(segment_row[seg]), {})
        for gi, containment, estimate, evidence in found:
            if gi not in per_item or containment > per_item[gi][1]:
                per_item[gi] = (gi, containment, estimate, {**evidence, "field": labels[seg]})
    return [(row, [per_item[gi] for gi in sorted(per_item)]) for row, per_item in sorted(rows.items())]


def _row_redaction(batch: Batch, row: int, redactions: dict[int, TextRedaction],
                   redact: RedactConfig) -> RowRedaction:
    """Decide a matched row's fate from its texts' redactions; a row kept gets its edits in ``batch.edits``."""
    if batch.segment_row is None:
        segments = range(row, row + 1)
    else:
        segments = range(int(np.searchsorted(batch.segment_row, row, "left")),
                         int(np.searchsorted(batch.segment_row, row, "right")))
    texts = {seg: batch.texts[seg].as_py() for seg in segments}
    label = (lambda seg: None) if batch.labels is None else (lambda seg: batch.labels[seg])  # type: ignore[index]
    cut = [(seg, label(seg), redactions[seg]) for seg in segments if seg in redactions]
    decided = decide([(lab, r) for _, lab, r in cut], sum(map(len, texts.values())), redact)
    if decided.outcome == "redacted":
        if batch.edits is None:
            batch.edits = {}
        batch.edits[row] = [TextEdit(lab, r.cuts, r.n_characters, cut_text(texts[seg], r.cuts)) for seg, lab, r in cut]
    return decided


def _by_row(matches: list[DocMatch], segment_row: np.ndarray, labels: list[str]) -> list[Any]:
    """Segment matches -> row matches: per row and item, the windows found in any of its segments (each with
    the segment it was found in), and the longest run, with its evidence; rows in order."""
    rows: dict[int, dict[int, Any]] = {}
    for seg, found_here, doc_runs, evidence in matches:
        per_item = rows.setdefault(int(segment_row[seg]), {})
        for gi, windows, run in found_here:
            label = labels[seg]
            prev = per_item.get(gi)
            if prev is None:
                per_item[gi] = [{w: (label, run) for w in windows}, run, doc_runs[gi], evidence.get(gi)]
                continue
            longer = run[1] - run[0]
            for w in windows:
                old = prev[0].get(w)
                if old is None or longer > old[1][1] - old[1][0]:
                    prev[0][w] = (label, run)
            if longer > prev[1][1] - prev[1][0]:
                prev[1:] = [run, doc_runs[gi], evidence.get(gi)]
    out = []
    for row in sorted(rows):
        items = rows[row]
        found = [(gi, tuple(sorted(v[0])), v[1]) for gi, v in sorted(items.items())]
        out.append((row, found, {gi: v[2] for gi, v in items.items()},
                    {gi: v[3] for gi, v in items.items() if v[3] is not None},
                    {gi: dict(sorted(v[0].items())) for gi, v in items.items()}))
    return out


def scan_batch(matcher: Matcher, batch: Batch, norm: TextRule, result: SourceResult,
               redact: RedactConfig | None = None, near: NearDupIndex | None = None) -> np.ndarray:
    """Account for one batch, scan it (and with ``near``, run the near-duplicate pass) and record what was found
    in ``result``; return the keep mask. With ``redact``, matched rows are redacted (see :func:`record_matches`)."""
    account_batch(batch, result)
    matches, near_docs = scan_texts(matcher, batch.texts, norm, near)
    redactions = redact_matches(matcher, batch.texts, matches, norm, redact) if redact is not None else None
    return record_matches(batch, matches, result, redactions, redact, near_docs)


def scan_batches(batches: Iterable[Batch], matcher: Matcher, norm: TextRule, result: SourceResult,
                 redact: RedactConfig | None = None,
                 near: NearDupIndex | None = None) -> Iterator[tuple[Batch, np.ndarray]]:
    """:func:`scan_batch` over a source's batches, yielding each batch with its keep mask as it goes."""
    for batch in batches:
        yield batch, scan_batch(matcher, batch, norm, result, redact, near)
