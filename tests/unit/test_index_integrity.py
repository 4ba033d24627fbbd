"""An index or portrait that is not what this decontam wrote is refused, naming what is wrong: a manifest that
does not list a file the format needs, a format version of the wrong type (in a manifest or in a portrait
header), a field the format needs. Each fault is made on real files, the manifest's (or header's) checksum
sealed again so that only the fault is left (docs/index.md: SHA-256 of the canonical JSON)."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import pytest

from decontam.errors import IndexMismatchError
from decontam.index import CorpusIndex, Portrait
from decontam.index.format import needed_files

QUESTION = "Write a function that returns the sum of two integers given as arguments, please."


def _canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _edit_manifest(folder: Path, edit) -> None:
    """Apply ``edit`` to the manifest, then seal it again (a valid checksum: only the edit is wrong)."""
    m = json.loads((folder / "manifest.json").read_text("utf-8"))
    edit(m)
    m.pop("checksum", None)
    m["checksum"] = "sha256:" + hashlib.sha256(_canonical(m)).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(m, indent=1), "utf-8")


def _edit_portrait(path: Path, edit) -> None:
    """Apply ``edit`` to a portrait file's header JSON, and write the file again as the format lays it out
    (header length, header SHA-256, padding to 64 bytes, then the same Bloom filter bits)."""
    blob = path.read_bytes()
    magic, (version, hlen) = blob[:16], struct.unpack("<II", blob[16:24])
    start = 24 + hlen + 32
    bits = blob[start + (-start % 64):]
    header = json.loads(blob[24 : 24 + hlen])
    edit(header)
    new = _canonical(header)
    head = magic + struct.pack("<II", version, len(new)) + new + hashlib.sha256(new).digest()
    path.write_bytes(head + b"\0" * (-len(head) % 64) + bits)


@pytest.fixture()
def built(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps({"text": f"doc {i} " + QUESTION}) + "\n" for i in range(5)), "utf-8")
    CorpusIndex.build([corpus], tmp_path / "ix", progress=False)
    return tmp_path / "ix"


def test_the_helpers_change_nothing_but_the_edit(built, tmp_path):
    """Sealing again an unedited manifest or header gives files that open and answer as before."""
    p = CorpusIndex.load(built).export_portrait(tmp_path / "p.dcp")
    before = p.read_bytes()
    _edit_portrait(p, lambda h: None)
    assert p.read_bytes() == before
    _edit_manifest(built, lambda m: None)
    CorpusIndex.load(built)
    Portrait.load(p)


@pytest.mark.parametrize("name", needed_files("u4"))
def test_a_manifest_that_omits_a_needed_file_is_refused_by_name(built, name):
    _edit_manifest(built, lambda m: m["files"].pop(name))
    with pytest.raises(IndexMismatchError, match=rf"manifest\.json: the manifest's files list no {name}, which an "
                                                 "index needs.*rebuild"):
        CorpusIndex.load(built, verify=False)


def test_a_missing_file_the_manifest_omits_is_named_not_a_raw_os_error(built):
    """The fault of issue 11: the file gone and its entry with it used to end in "cannot open index ([Errno 2]
    No such file or directory: '.../keys.u64')"."""
    (built / "keys.u64").unlink()
    _edit_manifest(built, lambda m: m["files"].pop("keys.u64"))
    with pytest.raises(IndexMismatchError, match="the manifest's files list no keys.u64, which an index needs") as exc:
        CorpusIndex.load(built)
    assert "Errno" not in str(exc.value)


@pytest.mark.parametrize("field", ["table", "files", "params", "corpus"])
def test_a_manifest_without_a_field_is_refused_by_name(built, field):
    _edit_manifest(built, lambda m: m.pop(field))
    with pytest.raises(IndexMismatchError, match=f"the manifest has no {field}:"):
        CorpusIndex.load(built)


def test_a_bad_table_description_is_refused(built):
    _edit_manifest(built, lambda m: m["table"].update(pos_dtype="u2"))
    with pytest.raises(IndexMismatchError, match=r"pos_dtype \(\"u4\" or \"u8\"\)"):
        CorpusIndex.load(built)


@pytest.mark.parametrize(("value", "found"), [
    ("2", 'format_version "2" (a string)'),
    (2.0, "format_version 2.0 (a number)"),
    (True, "format_version true (a boolean)"),
    (None, "no format_version"),
])
def test_a_manifest_version_of_the_wrong_type_says_what_was_found_and_expected(built, value, found):
    _edit_manifest(built, lambda m: m.update(format_version=value))
    with pytest.raises(IndexMismatchError) as exc:
        CorpusIndex.load(built)
    msg = str(exc.value)
    assert f"index has {found}, expected an integer (this decontam" in msg and "reads version 2)" in msg
    assert "newer" not in msg and "older" not in msg


@pytest.mark.parametrize(("value", "found"), [("2", 'format_version "2" (a string)'), (None, "no format_version")])
def test_a_portrait_header_version_of_the_wrong_type_says_what_was_found_and_expected(built, tmp_path, value,
                                                                                       found):
    p = CorpusIndex.load(built).export_portrait(tmp_path / "p.dcp")
    _edit_portrait(p, lambda h: h.update(format_version=value))
    with pytest.raises(IndexMismatchError) as exc:
        Portrait.load(p)
    msg = str(exc.value)
    assert f"portrait header has {found}, expected an integer" in msg and "reads version 2)" in msg
    assert "newer" not in msg


def test_a_portrait_header_that_disagrees_with_its_file_or_lacks_a_field_is_refused(built, tmp_path):
    p = CorpusIndex.load(built).export_portrait(tmp_path / "p.dcp")
    blob = p.read_bytes()
    _edit_portrait(p, lambda h: h.update(format_version=3))
    with pytest.raises(IndexMismatchError, match="portrait header format version 3 is newer"):
        Portrait.load(p)
    p.write_bytes(blob)
    _edit_portrait(p, lambda h: h.pop("normalize"))
    with pytest.raises(IndexMismatchError, match="the portrait header has no normalize; export the portrait again"):
        Portrait.load(p)
    p.write_bytes(blob)
    _edit_portrait(p, lambda h: h.update(payload_size="many"))
    with pytest.raises(IndexMismatchError, match='payload_size "many", expected a byte count'):
        Portrait.load(p)


def test_verify_names_the_corrupted_file(built, tmp_path):
    """Sizes are always checked; a flipped byte is found by the SHA-256 check only, which names the file."""
    p = CorpusIndex.load(built).export_portrait(tmp_path / "p.dcp")
    for target in (built / "raw.zst", p):
        blob = bytearray(target.read_bytes())
        blob[-1] ^= 0x01
        target.write_bytes(bytes(blob))
    CorpusIndex.load(built, verify=False)
    Portrait.load(p, verify=False)
    with pytest.raises(IndexMismatchError, match=r"raw\.zst: corrupted index file \(checksum mismatch\)"):
        CorpusIndex.load(built, verify=True)
    with pytest.raises(IndexMismatchError, match=r"p\.dcp: portrait bits are corrupted \(checksum mismatch\)"):
        Portrait.load(p, verify=True)
