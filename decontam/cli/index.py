"""Command line for corpus indexes: ``decontam index build|add|merge|check|portrait|info``.

Registered by :mod:`decontam.cli.app` (same exit codes: 0 success, 2 bad usage, 1 failure). See
``docs/index.md``. :mod:`decontam.index` loads when an ``index`` command runs, not when the parser is built.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import DEFAULT_ID_FIELD, DecontamConfig, NormalizeConfig, make_config
from ..errors import ConfigError
from ..inputs.files import expand_corpus, require_id_field
from ..scan.probes import require_probes
from .common import (
    add_benchmark_field_flags,
    add_benchmark_flag,
    add_engine_flags,
    add_normalizer_flags,
    add_num_proc_flag,
    add_output_flags,
    add_overwrite_flag,
    add_probe_answers_flag,
    add_probe_flags,
    check_output_paths,
    guard_outputs,
    load_benchmarks,
    spec_paths,
    write_outputs,
)

if TYPE_CHECKING:
    from ..index import CorpusIndex

__all__ = ["COMMANDS", "add_commands", "run"]

COMMANDS = ("index",)


def _normalizer_flags(p: argparse.ArgumentParser) -> None:
    add_normalizer_flags(p.add_argument_group("normalizer (must match the index's)"))


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``index`` command group to the top-level subparsers."""
    p = sub.add_parser("index", help="corpus index: build once, check benchmarks fast; export a portrait",
                       description="Index a training corpus once (Bloom filter + exact table + normalized text), "
                                   "then check any benchmark against it; publish its Bloom filter as a portrait.")
    isub = p.add_subparsers(dest="index_command", required=True, metavar="INDEX_COMMAND")

    b = isub.add_parser("build", help="index a corpus into a new folder",
                        description="Index a corpus (.jsonl, .jsonl.gz, .parquet files or folders) into -o.")
    b.add_argument("corpus", nargs="+", metavar="CORPUS")
    b.add_argument("-o", "--output", required=True, metavar="INDEX_DIR",
                   help="index folder (new or empty; with --append, an existing index to add to)")
    b.add_argument("--append", action="store_true", help="add the corpus to the existing index -o")
    b.add_argument("--text-field", action="append",
                   help="corpus field holding the text, a string (default: text; an index holds one text per row: "
                        "given twice, it is refused)")
    b.add_argument("--id-field", default="id", help="corpus field holding a document id (default: id)")
    b.add_argument("--bloom-fp", type=float, default=None,
                   help="Bloom filter false-positive rate per lookup (default: 1e-6; with --append, the index's)")
    _normalizer_flags(b)
    add_num_proc_flag(b, "large files are read in parts, one per process, and the index is byte for byte the "
                         "one-process one")
    add_engine_flags(b)
    b.add_argument("--on-error", choices=("raise", "skip"), default="raise",
                   help="malformed rows: stop with an error (default) or skip, count and report them")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_overwrite_flag(b)

    a = isub.add_parser("add", help="add documents to an existing index (in place, atomically)")
    a.add_argument("index", metavar="INDEX_DIR")
    a.add_argument("corpus", nargs="+", metavar="CORPUS")
    a.add_argument("--on-error", choices=("raise", "skip"), default=None,
                   help="malformed rows of the added files: stop with an error or skip, count and report them "
                        "(default: as the index was built; with skip, the index records skip)")
    a.add_argument("--no-progress", action="store_true", help="no progress bar")

    m = isub.add_parser("merge", help="merge indexes (shards, in order) into a new index")
    m.add_argument("indexes", nargs="+", metavar="INDEX_DIR")
    m.add_argument("-o", "--output", required=True, metavar="INDEX_DIR")
    add_overwrite_flag(m)

    c = isub.add_parser("check", help="check benchmarks against an index folder or a portrait file",
                        description="The report of `decontam check` on the indexed corpus (index folder), or an "
                                    "unverified report from a portrait file.")
    c.add_argument("index", metavar="INDEX_DIR|PORTRAIT")
    add_benchmark_flag(c)
    add_output_flags(c)
    add_benchmark_field_flags(c)
    add_probe_flags(c)
    _normalizer_flags(c)
    add_probe_answers_flag(c, removes=False)
    c.add_argument("--no-verify", action="store_true",
                   help="skip the SHA-256 check of the index files on load (sizes are still checked)")
    c.add_argument("--no-progress", action="store_true", help="(accepted for symmetry with check)")

    t = isub.add_parser("portrait", help="export the Bloom filter of an index as a portrait file")
    t.add_argument("index", metavar="INDEX_DIR")
    t.add_argument("-o", "--output", required=True, metavar="PORTRAIT_FILE")
    add_overwrite_flag(t)

    i = isub.add_parser("info", help="print an index's or a portrait's header (JSON)",
                        description="Print the header (JSON) of an index folder or a portrait file. Without "
                                    "--verify only the header's checksum and the files' sizes are checked.")
    i.add_argument("index", metavar="INDEX_DIR|PORTRAIT")
    i.add_argument("--verify", action="store_true",
                   help="also check every file's SHA-256 against the header (reads each file once); a file that "
                        "does not match is named and the exit code is 1")


def _progress(args: argparse.Namespace) -> bool | None:
    return False if args.no_progress else None


def _build(args: argparse.Namespace) -> int:
    from ..index import CorpusIndex

    fields = args.text_field or ["text"]
    cfg = make_config(DecontamConfig(), text_field=fields[0] if len(fields) == 1 else fields, id_field=args.id_field,
                      lowercase=args.lowercase, nfkc=args.nfkc, unescape=args.unescape,
                      num_proc=args.num_proc, on_error=args.on_error, engine=args.engine,
                      ray_address=args.ray_address)
    corpus = [Path(c) for c in args.corpus]
    if args.id_field != DEFAULT_ID_FIELD:
        require_id_field(expand_corpus(args.corpus, on_error="skip", skipped=[]), args.id_field, "--id-field")
    if args.append:
        index = CorpusIndex.load(args.output, cfg.normalize)
        for flag, key in (("--text-field", "text_field"), ("--id-field", "id_field")):
            if getattr(cfg, key) != index.manifest[key]:
                raise ConfigError(f"{flag} {getattr(cfg, key)!r} differs from the index's "
                                  f"({index.manifest[key]!r}): documents added to an index are read as it was built")
        if args.bloom_fp is not None:
            raise ConfigError(f"--bloom-fp: an index keeps the rate it was built with "
                              f"({index.manifest['bloom']['target_fp_rate']:g}); leave it out with --append")
        ix = index.add(corpus, progress=_progress(args), num_proc=args.num_proc, engine=args.engine,
                       ray_address=args.ray_address, on_error=args.on_error)
    else:
        bloom_fp = 1e-6 if args.bloom_fp is None else args.bloom_fp
        if not (0.0 < bloom_fp < 1.0):
            raise ConfigError(f"--bloom-fp must be in (0, 1), got {bloom_fp}")
        guard_outputs(args, [("-o", args.output)], args.corpus)
        ix = CorpusIndex.build(corpus, args.output, cfg, bloom_fp=bloom_fp, overwrite=args.overwrite,
                               progress=_progress(args))
    _summary(ix)
    return 0


def _add(args: argparse.Namespace) -> int:
    from ..index import CorpusIndex

    options = {} if args.on_error is None else {"on_error": args.on_error}
    _summary(CorpusIndex.load(args.index).add([Path(c) for c in args.corpus], progress=_progress(args), **options))
    return 0


def _merge(args: argparse.Namespace) -> int:
    from ..index import CorpusIndex

    guard_outputs(args, [("-o", args.output)], args.indexes)
    _summary(CorpusIndex.merge(args.indexes, args.output, overwrite=args.overwrite))
    return 0


def _portrait(args: argparse.Namespace) -> int:
    from ..index import CorpusIndex

    guard_outputs(args, [("-o", args.output)], [args.index])
    dest = CorpusIndex.load(args.index).export_portrait(args.output, overwrite=args.overwrite)
    print(f"portrait written to {dest}")
    return 0


def _info(args: argparse.Namespace) -> int:
    """The header as JSON on stdout; on stderr, what was verified (every file's SHA-256 with ``--verify``, else
    the header's checksum and the sizes only). A file that fails is named (IndexMismatchError: exit code 1)."""
    from ..index import CorpusIndex, Portrait

    if Path(args.index).is_dir():
        ix = CorpusIndex.load(args.index, verify=args.verify)
        info = {k: v for k, v in ix.manifest.items() if k != "files"} | {"sizes": ix.sizes()}
        files = sorted(ix.manifest["files"])
        checked = f"manifest checksum, and the size and SHA-256 of its {len(files)} files ({', '.join(files)})"
        unchecked = "the manifest's checksum and the files' sizes were checked, not their SHA-256"
    else:
        info = Portrait.load(args.index, verify=args.verify).header
        checked = "header checksum, size and the SHA-256 of its Bloom filter bits"
        unchecked = "the header's checksum and the file's size were checked, not the SHA-256 of its Bloom filter bits"
    sys.stdout.write(json.dumps(info, indent=1, ensure_ascii=False) + "\n")
    if args.verify:
        print(f"decontam: verified {args.index}: {checked} match", file=sys.stderr)
    else:
        print(f"decontam: not verified: {unchecked}; pass --verify to check every file", file=sys.stderr)
    return 0


def _check(args: argparse.Namespace) -> int:
    from ..index import CorpusIndex, Portrait

    check_output_paths(args)
    inputs = [args.index, *spec_paths(args.benchmark)]
    guard_outputs(args, [("--report", args.report), ("--markdown", args.markdown)], inputs)
    cfg = make_config(DecontamConfig(), seed=args.seed, probes=args.probes, probe_length=args.probe_length,
                      min_question_chars=args.min_question_chars,
                      lowercase=args.lowercase, nfkc=args.nfkc, unescape=args.unescape,
                      probe_answers=args.probe_answers)
    norm = NormalizeConfig(lowercase=args.lowercase, nfkc=args.nfkc, unescape=args.unescape)
    target = Path(args.index)
    opened = CorpusIndex.load(target, norm, verify=not args.no_verify) if target.is_dir() else \
        Portrait.load(target, norm, verify=not args.no_verify)
    benchmarks = load_benchmarks(args)
    require_probes(benchmarks, cfg)
    report = opened.check(benchmarks, cfg)
    write_outputs(report, args, inputs)
    return 0


def run(args: argparse.Namespace) -> int:
    """Run one ``index`` subcommand; returns the exit code (errors propagate to :func:`decontam.cli.main`)."""
    return {"build": _build, "add": _add, "merge": _merge, "portrait": _portrait, "info": _info,
            "check": _check}[args.index_command](args)


def _summary(ix: CorpusIndex) -> None:
    c = ix.manifest["corpus"]
    n = max(1, c["n_normalized_bytes"])
    sizes = ix.sizes()
    print(f"index {ix.path}: {c['n_documents']} documents, {c['n_characters']} characters "
          f"({c['n_normalized_bytes']} normalized bytes), {len(c['sources'])} sources, "
          f"fingerprint {c['fingerprint']}")
    if c["n_normalized_bytes"]:
        print("bytes per normalized character: " + ", ".join(f"{k} {v / n:.3f}" for k, v in sizes.items()))
    else:
        print("bytes per normalized character: none (no text normalizes to a letter or digit); bytes: "
              + ", ".join(f"{k} {v}" for k, v in sizes.items()))
    print(f"Bloom filter: {ix.manifest['bloom']['n_distinct_keys']} keys, "
          f"false-positive rate per lookup {ix.manifest['bloom']['fp_rate']:.2g}")
