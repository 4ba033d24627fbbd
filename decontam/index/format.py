"""The on-disk format of an index folder and of a portrait file, and the low-level opener of an index.

Owns the format version and the parameters recorded with every index (:func:`params`), the manifest (written
last, with a checksum and the size and SHA-256 of every file: :func:`write_manifest`, :func:`read_manifest`),
the portrait file (:func:`write_portrait`, :func:`read_portrait`), the Arrow tables of documents and text
blocks, and :class:`IndexFiles`: an opened index folder (manifest, memory-mapped table, Bloom filter, document
table, text stores) as the build (merging parts) and the queries use it. The layout is documented in
``docs/index.md``.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
from pyarrow import ipc

from ..bloom import BloomFilter
from ..config import DecontamConfig, NormalizeConfig
from ..errors import ConfigError, IndexMismatchError
from ..version import __version__
from .hashing import GRAM_HASH, HASH_SEED, KGRAM, WINDOW, W
from .store import HashingWriter, TextStore, TextWriter, sha256_file

__all__ = [
    "BLOOM_SEED",
    "FORMAT_VERSION",
    "MANIFEST",
    "PORTRAIT_FILE",
    "PORTRAIT_FORMAT",
    "IndexFiles",
    "check_normalizer",
    "check_params",
    "int_column",
    "needed_files",
    "params",
    "read_manifest",
    "read_portrait",
    "refuse_method",
    "string_array",
    "write_block_table",
    "write_docs",
    "write_manifest",
    "write_portrait",
]

FORMAT_VERSION = 2  # 2: the Bloom filter is partitioned by the stored key's top bits (1: by a mix of it)
BLOOM_SEED = 0x5EED_DEC0_B100_0002
MANIFEST = "manifest.json"
PORTRAIT_FILE = "portrait.dcp"
PORTRAIT_FORMAT = "decontam-portrait"
_INDEX_FORMAT = "decontam-index"
_MAGIC = b"DECONTAM"
_PORTRAIT_KIND = b"PORTRAIT"
_Files = TypeVar("_Files", bound="IndexFiles")


# ------------------------------------------------------------------------------------ versions and params


def params() -> dict[str, Any]:
    """The hashing and selection parameters an index is built with (recorded in its manifest and portrait)."""
    return {"window": WINDOW, "kgram": KGRAM, "grams_per_window": W, "hash_seed": HASH_SEED,
            "bloom_seed": BLOOM_SEED, "gram_hash": GRAM_HASH,
            "order": "top 32 bits | 1",
            "thinning": "first and last of each run of consecutive selections with one key and one "
                        "(position - document start) // W"}


def check_params(recorded: dict[str, Any], where: str) -> None:
    """Refuse an index or portrait whose keys this decontam would compute otherwise.

    Raises:
        IndexMismatchError: A parameter differs; the message says to rebuild.
    """
    mine = params()
    for k in ("window", "kgram", "grams_per_window", "hash_seed", "bloom_seed", "gram_hash"):
        if recorded.get(k) != mine[k]:
            raise IndexMismatchError(
                f"{where} uses {k}={recorded.get(k)!r}, this decontam uses {mine[k]!r}; rebuild the index")


def refuse_method(cfg: DecontamConfig) -> None:
    """Refuse a method other than the GPT-4 rule: an index stores GPT-4-normalized text and its grams.

    Raises:
        ConfigError: Naming the method and what to use instead.
    """
    if cfg.method != "gpt4":
        raise ConfigError(f"the corpus index serves the GPT-4 rule only (it stores letters and digits, no words); "
                          f"method {cfg.method!r} runs on the corpus itself: decontam check/filter "
                          f"--method {cfg.method}")


def check_normalizer(recorded: dict[str, Any], wanted: NormalizeConfig, where: str) -> None:
    """Refuse to query (or merge) under another normalizer than the one recorded: it would find nothing.

    Raises:
        IndexMismatchError: The normalizers differ; the message names the options.
    """
    have = NormalizeConfig(**recorded)
    if have != wanted:
        diff = ", ".join(f"{k}={getattr(have, k)} (asked {getattr(wanted, k)})"
                         for k in ("lowercase", "nfkc", "unescape") if getattr(have, k) != getattr(wanted, k))
        raise IndexMismatchError(
            f"{where} was built with another normalizer: {diff}; query with the same options "
            f"(e.g. --lowercase/--nfkc/--unescape) or rebuild the index")


def _check_version(version: Any, kind: str, where: Path) -> None:
    """Refuse a format this decontam does not read, saying what to do: upgrade (newer) or rebuild (older); a
    version that is not an integer (an edited file, or another tool's) is named with its type."""
    if isinstance(version, bool) or not isinstance(version, int):
        found = "no format_version" if version is None else \
            f"format_version {json.dumps(version)} (a {_json_type(version)})"
        raise IndexMismatchError(
            f"{where}: {kind} has {found}, expected an integer (this decontam ({__version__}) reads version "
            f"{FORMAT_VERSION}); it was edited or not written by decontam: rebuild it with `decontam index build`")
    if version > FORMAT_VERSION:
        raise IndexMismatchError(
            f"{where}: {kind} format version {version} is newer than this decontam ({__version__}) reads "
            f"(version {FORMAT_VERSION}); upgrade decontam")
    if version < FORMAT_VERSION:
        raise IndexMismatchError(
            f"{where}: {kind} format version {version} is older than this decontam ({__version__}) reads "
            f"(version {FORMAT_VERSION}); rebuild it with `decontam index build` "
            "(and export its portrait again)")


def _json_type(value: Any) -> str:
    """The JSON name of a value's type, for messages.

    Example:
        >>> _json_type("2"), _json_type(2.0), _json_type([2])
        ('string', 'number', 'array')
    """
    for types, name in ((str, "string"), (bool, "boolean"), ((int, float), "number"), (list, "array"),
                        (dict, "object")):
        if isinstance(value, types):
            return name
    return type(value).__name__


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# ------------------------------------------------------------------------------------------ Arrow tables


def _int_array(values: Any, dtype: str) -> pa.Array:
    """Integers as an Arrow ``int64``/``int32`` array, without ``pa.array`` (which imports pandas).

    Example:
        >>> _int_array([3, 1], "int32").to_pylist()
        [3, 1]
    """
    arr = np.ascontiguousarray(values, dtype=dtype)
    return pa.Array.from_buffers(pa.type_for_alias(dtype), len(arr), [None, pa.py_buffer(arr)])


def string_array(pieces: Sequence[bytes | None]) -> pa.Array:
    """UTF-8 byte strings (None: null) as an Arrow ``large_string`` array, without ``pa.array``.

    Example:
        >>> string_array([b"ab", None, "é".encode()]).to_pylist()
        ['ab', None, 'é']
    """
    valid = np.fromiter((p is not None for p in pieces), dtype=bool, count=len(pieces))
    offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
    lengths = np.fromiter((len(p) if p is not None else 0 for p in pieces), dtype=np.int64, count=len(pieces))
    np.cumsum(lengths, out=offsets[1:])
    data = b"".join(p for p in pieces if p is not None)
    validity = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little").tobytes())
    buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(data)]
    nulls = int(len(pieces) - valid.sum())
    return pa.Array.from_buffers(pa.large_string(), len(pieces), buffers, null_count=nulls)


def int_column(table: pa.Table, name: str) -> np.ndarray:
    """An integer column without nulls as a numpy array (zero-copy), without ``to_numpy`` (it imports pandas).

    Example:
        >>> int_column(_table({"a": _int_array([4, 5], "int32")}), "a").tolist()
        [4, 5]
    """
    col = table.column(name)
    dtype = np.dtype(str(col.type))
    chunks = [np.frombuffer(c.buffers()[1], dtype=dtype)[c.offset : c.offset + len(c)] for c in col.chunks
              if len(c)]
    if not chunks:
        return np.zeros(0, dtype=dtype)
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


def _table(columns: dict[str, pa.Array]) -> pa.Table:
    return pa.Table.from_arrays(list(columns.values()), names=list(columns))


def _write_table(path: Path, table: pa.Table) -> dict[str, Any]:
    """Write an Arrow IPC file; returns its manifest entry (``size``, ``sha256``)."""
    with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return {"size": path.stat().st_size, "sha256": sha256_file(path)}


def _read_table(path: Path) -> pa.Table:
    return ipc.open_file(pa.memory_map(str(path))).read_all()


def write_docs(folder: Path, docs: dict[str, Any]) -> dict[str, Any]:
    """Write ``docs.arrow``, one row per document: normalized and original start, source number, row, line
    and id (JSON text, or None). Returns its manifest entry."""
    return _write_table(folder / "docs.arrow", _table({
        "start": _int_array(docs["start"], "int64"),
        "raw_start": _int_array(docs["raw_start"], "int64"),
        "source": _int_array(docs["source"], "int32"),
        "row": _int_array(docs["row"], "int64"),
        "line": _int_array(docs["line"], "int64"),
        "id": string_array([None if i is None else i.encode("utf-8") for i in docs["id"]]),
    }))


def write_block_table(folder: Path, name: str, writer: TextWriter) -> dict[str, Any]:
    """Write ``{name}.blocks.arrow``, the block table of a closed text store. Returns its manifest entry."""
    return _write_table(folder / f"{name}.blocks.arrow", _table({
        "start": _int_array(writer.block_starts, "int64"),
        "comp_offset": _int_array(writer.comp_offsets, "int64")}))


# --------------------------------------------------------------------------------------------- manifest


def write_manifest(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Add the checksum and write ``manifest.json``, last: an index folder without it is incomplete.

    Returns:
        The manifest, with its checksum.
    """
    manifest = {"format": _INDEX_FORMAT, "format_version": FORMAT_VERSION} | manifest
    manifest["checksum"] = "sha256:" + hashlib.sha256(_canonical(manifest)).hexdigest()
    blob = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")
    with open(folder / MANIFEST, "wb") as fh:
        fh.write(blob)
        fh.flush()
        os.fsync(fh.fileno())
    return manifest


def read_manifest(path: Path, normalize: NormalizeConfig | None = None, verify: bool = True) -> dict[str, Any]:
    """Read and check an index folder's manifest, and check its files against it.

    Args:
        path: The index folder.
        normalize: The normalizer the caller will query with; it must be the one the index was built with.
        verify: Check every file's SHA-256 as well as its size (reads each file once).

    Raises:
        IndexMismatchError: Not an index, an incomplete (interrupted) build, a newer or older format, other
            settings, or a truncated or corrupted file.
    """
    mpath = path / MANIFEST
    if not path.is_dir():
        raise IndexMismatchError(f"{path}: not an index folder (for a portrait file use the portrait commands)")
    if not mpath.exists():
        raise IndexMismatchError(f"{path}: no {MANIFEST}: not a decontam index, or its build did not finish")
    try:
        manifest = json.loads(mpath.read_bytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise IndexMismatchError(f"{mpath}: corrupted manifest ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != _INDEX_FORMAT:
        raise IndexMismatchError(f"{mpath}: not a decontam index manifest")
    _check_version(manifest.get("format_version"), "index", path)
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    if manifest.get("checksum") != "sha256:" + hashlib.sha256(_canonical(body)).hexdigest():
        raise IndexMismatchError(f"{mpath}: manifest is corrupted (checksum mismatch)")
    _check_layout(manifest, mpath)
    check_params(manifest["params"], str(path))
    if normalize is not None:
        check_normalizer(manifest["normalize"], normalize, f"index {path}")
    for name, info in manifest["files"].items():
        fp = path / name
        if not fp.exists():
            raise IndexMismatchError(f"{fp}: missing index file")
        if fp.stat().st_size != info["size"]:
            raise IndexMismatchError(
                f"{fp}: truncated or corrupted index file ({fp.stat().st_size} bytes, expected {info['size']})")
        if verify and sha256_file(fp) != info["sha256"]:
            raise IndexMismatchError(f"{fp}: corrupted index file (checksum mismatch)")
    return manifest


def needed_files(pos_dtype: str) -> list[str]:
    """The files an index folder of this format holds (each listed in its manifest's ``files``).

    Example:
        >>> needed_files("u4")[:3]
        ['keys.u64', 'pos.u4', 'portrait.dcp']
    """
    return ["keys.u64", f"pos.{pos_dtype}", PORTRAIT_FILE, "docs.arrow", "text.zst", "text.blocks.arrow",
            "raw.zst", "raw.blocks.arrow"]


_MANIFEST_FIELDS = ("params", "normalize", "text_field", "id_field", "on_error", "corpus", "bloom", "table",
                    "files")


def _check_layout(manifest: dict[str, Any], mpath: Path) -> None:
    """Refuse a manifest that lacks a field, or a file, an index of this format needs, naming it (an index
    would otherwise fail later with a raw error about a file it cannot open)."""
    missing = [k for k in _MANIFEST_FIELDS if k not in manifest]
    if missing:
        raise IndexMismatchError(f"{mpath}: the manifest has no {', '.join(missing)}: not an index this decontam "
                                 f"({__version__}) reads; rebuild it with `decontam index build`")
    table, files = manifest["table"], manifest["files"]
    dtype = table.get("pos_dtype") if isinstance(table, dict) else None
    if dtype not in ("u4", "u8") or not isinstance(table.get("n_entries"), int):
        raise IndexMismatchError(f"{mpath}: the manifest's table is {json.dumps(table)}, expected n_entries (an "
                                 "integer) and pos_dtype (\"u4\" or \"u8\"); rebuild the index")
    if not isinstance(files, dict):
        raise IndexMismatchError(f"{mpath}: the manifest's files is a {_json_type(files)}, expected an object")
    absent = [name for name in needed_files(dtype) if name not in files]
    if absent:
        raise IndexMismatchError(
            f"{mpath}: the manifest's files list no {', '.join(absent)}, which an index needs; the index is "
            "incomplete or its manifest was edited: rebuild it with `decontam index build`")
    for name, info in files.items():
        if not (isinstance(info, dict) and isinstance(info.get("size"), int) and isinstance(info.get("sha256"), str)):
            raise IndexMismatchError(f"{mpath}: the manifest's entry for {name} is {json.dumps(info)}, expected "
                                     "its size (an integer) and sha256; rebuild the index")


# --------------------------------------------------------------------------------------------- portrait


def write_portrait(path: Path, header: dict[str, Any], bits: np.ndarray) -> dict[str, Any]:
    """Portrait file: magic, kind, version, header length, header JSON (``header`` with the format, its
    version and the payload's size and SHA-256), its sha256, padding, Bloom bits.

    Returns:
        The file's manifest entry (``size``, ``sha256``).
    """
    payload = np.ascontiguousarray(bits, dtype=np.uint8)
    digest = hashlib.sha256(memoryview(payload)).hexdigest()
    header = {"format": PORTRAIT_FORMAT, "format_version": FORMAT_VERSION} | header | {
        "payload_size": int(payload.nbytes), "payload_sha256": digest}
    blob = _canonical(header)
    head = _MAGIC + _PORTRAIT_KIND + struct.pack("<II", FORMAT_VERSION, len(blob)) + blob
    head += hashlib.sha256(blob).digest()
    head += b"\0" * (-len(head) % 64)
    w = HashingWriter(path)
    w.write(head)
    w.write(payload)
    return w.close()


def read_portrait(path: Path, verify: bool = True) -> tuple[dict[str, Any], np.ndarray]:
    """Read a portrait file: its header and its Bloom filter bits (memory-mapped).

    Args:
        path: The portrait file (or an index folder's ``portrait.dcp``).
        verify: Check the bits' SHA-256 (the header's is always checked).

    Raises:
        IndexMismatchError: Not a portrait, a newer or older format, truncated or corrupted.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            fixed = fh.read(24)
            if len(fixed) < 24 or fixed[:8] != _MAGIC or fixed[8:16] != _PORTRAIT_KIND:
                raise IndexMismatchError(f"{path}: not a decontam portrait file (bad magic bytes)")
            version, hlen = struct.unpack("<II", fixed[16:24])
            _check_version(version, "portrait", path)
            blob = fh.read(hlen)
            digest = fh.read(32)
    except OSError as exc:
        raise IndexMismatchError(f"{path}: cannot read portrait ({exc})") from exc
    if len(blob) != hlen or len(digest) != 32:
        raise IndexMismatchError(f"{path}: portrait file is truncated (header incomplete)")
    if hashlib.sha256(blob).digest() != digest:
        raise IndexMismatchError(f"{path}: portrait header is corrupted (checksum mismatch)")
    header = _portrait_header(path, blob, version)
    start = 24 + hlen + 32
    start += -start % 64
    if size != start + header["payload_size"]:
        raise IndexMismatchError(
            f"{path}: portrait file is truncated or has extra bytes ({size} bytes, expected "
            f"{start + header['payload_size']})")
    bits = np.memmap(path, dtype=np.uint8, mode="r", offset=start, shape=(header["payload_size"],)) \
        if header["payload_size"] else np.zeros(0, dtype=np.uint8)
    if verify and hashlib.sha256(memoryview(bits)).hexdigest() != header.get("payload_sha256"):
        raise IndexMismatchError(f"{path}: portrait bits are corrupted (checksum mismatch)")
    return header, bits


def _portrait_header(path: Path, blob: bytes, version: int) -> dict[str, Any]:
    """The portrait's header JSON, checked: an object whose format version is the file's, and a payload size."""
    try:
        header = json.loads(blob.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise IndexMismatchError(f"{path}: portrait header is corrupted ({exc})") from exc
    if not isinstance(header, dict):
        raise IndexMismatchError(f"{path}: portrait header is a {_json_type(header)}, expected an object")
    _check_version(header.get("format_version"), "portrait header", path)
    if header["format_version"] != version:
        raise IndexMismatchError(f"{path}: portrait header says format version {header['format_version']}, its "
                                 f"file says {version}; the file was edited: export the portrait again")
    size = header.get("payload_size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise IndexMismatchError(f"{path}: portrait header has payload_size {json.dumps(size)}, expected a "
                                 "byte count (a non-negative integer); export the portrait again")
    return header


# ----------------------------------------------------------------------------------- an opened index


class IndexFiles:
    """An index folder, opened: its manifest and its files, memory-mapped.

    What the build reads when it merges indexes and what a query reads; :class:`decontam.index.CorpusIndex`
    adds building, merging and checking on top.

    Attributes:
        path: The folder.
        manifest: The manifest (checked by :meth:`load`).
        keys: Stored keys of the table (``uint64``), sorted by their top 32 bits then position.
        positions: Their byte positions in the normalized text.
        bloom: The Bloom filter over the distinct keys (the portrait's).
        docs: The document table (``docs.arrow``).
        text: The normalized text; ``raw``: the original text.
        doc_starts: Each document's start in ``text``, and the end of the last; ``raw_starts``: the same in
            ``raw``.
    """

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = Path(path)
        self.manifest = manifest
        n = manifest["table"]["n_entries"]
        dt = manifest["table"]["pos_dtype"]
        self.keys = np.memmap(self.path / "keys.u64", dtype="<u8", mode="r", shape=(n,)) if n else \
            np.zeros(0, dtype=np.uint64)
        self.positions = np.memmap(self.path / f"pos.{dt}", dtype="<" + dt, mode="r", shape=(n,)) if n else \
            np.zeros(0, dtype=np.int64)
        header, bits = read_portrait(self.path / PORTRAIT_FILE, verify=False)
        self.bloom = BloomFilter.from_params(header["bloom"], bits)
        self.docs = _read_table(self.path / "docs.arrow")
        self.text = self._store("text")
        self.raw = self._store("raw")
        self.doc_starts = np.append(int_column(self.docs, "start"), self.text.total).astype(np.int64)
        self.raw_starts = np.append(int_column(self.docs, "raw_start"), self.raw.total).astype(np.int64)

    def _store(self, name: str) -> TextStore:
        blocks = _read_table(self.path / f"{name}.blocks.arrow")
        size = self.manifest["files"][f"{name}.zst"]["size"]
        comp = np.memmap(self.path / f"{name}.zst", dtype=np.uint8, mode="r", shape=(size,)) if size else \
            np.zeros(0, dtype=np.uint8)
        return TextStore(comp, int_column(blocks, "start"), int_column(blocks, "comp_offset"),
                         str(self.path / f"{name}.zst"))

    @classmethod
    def load(cls: type[_Files], path: str | os.PathLike[str],  # noqa: PYI019 (typing.Self: Python 3.11)
             normalize: NormalizeConfig | None = None, verify: bool = True) -> _Files:
        """Open an index folder.

        Args:
            path: The folder written by :meth:`decontam.index.CorpusIndex.build`.
            normalize: The normalizer the caller will query with; it must be the one the index was built with.
            verify: Check every file's size and SHA-256 (reads each file once).

        Returns:
            The opened index (an instance of the class it is called on).

        Raises:
            IndexMismatchError: Not an index, an incomplete (interrupted) build, a newer format, other
                settings, or a truncated or corrupted file.
        """
        p = Path(path)
        manifest = read_manifest(p, normalize, verify)
        try:
            return cls(p, manifest)
        except (OSError, pa.ArrowException, KeyError, ValueError) as exc:
            raise IndexMismatchError(f"{p}: cannot open index ({exc})") from exc

    @property
    def normalize(self) -> NormalizeConfig:
        """The normalizer the index was built with."""
        return NormalizeConfig(**self.manifest["normalize"])

    @property
    def n_documents(self) -> int:
        """Documents indexed."""
        return int(self.manifest["corpus"]["n_documents"])

    @property
    def fingerprint(self) -> str:
        """The corpus fingerprint (the one ``check`` reports for the same corpus)."""
        return str(self.manifest["corpus"]["fingerprint"])

    def config(self) -> DecontamConfig:
        """The build options recorded in the index (normalizer and corpus fields)."""
        return DecontamConfig(normalize=self.normalize, text_field=self.manifest["text_field"],
                              id_field=self.manifest["id_field"], on_error=self.manifest["on_error"])

    def sizes(self) -> dict[str, int]:
        """Bytes on disk per part: ``portrait``, ``table`` (keys + positions), ``text`` (normalized),
        ``raw`` (original text, for evidence), ``docs`` (document table and block tables)."""
        f = self.manifest["files"]
        table = sum(v["size"] for k, v in f.items() if k.startswith(("keys.", "pos.")))
        return {"portrait": f[PORTRAIT_FILE]["size"], "table": table, "text": f["text.zst"]["size"],
                "raw": f["raw.zst"]["size"],
                "docs": sum(v["size"] for k, v in f.items() if k.endswith(".arrow"))}
