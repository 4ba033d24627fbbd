"""The corpus index as users see it: :class:`CorpusIndex` (open, build, merge, add, check, export the
portrait), and the shortcuts :func:`open_index` and :func:`build_index`."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..atomic import Commit
from ..config import DEFAULT_ID_FIELD, DecontamConfig, NormalizeConfig, make_config
from ..errors import ConfigError
from ..guard import OutputLock, check_outputs
from ..inputs import as_paths, expand_corpus, is_pathlike, require_id_field
from ..report import Report, first_overlap
from .build import build_into, check_mergeable, merge_into
from .format import PORTRAIT_FILE, IndexFiles, check_normalizer, refuse_method
from .portrait import Portrait
from .query import index_report, prepare_check

__all__ = ["CorpusIndex", "build_index", "open_index"]


class CorpusIndex(IndexFiles):
    """A built corpus index, memory-mapped (see ``docs/index.md``).

    Open one with :meth:`load`, make one with :meth:`build`, combine with :meth:`merge`, grow with :meth:`add`.
    Its files are the attributes of :class:`~decontam.index.format.IndexFiles`.
    """

    __module__ = "decontam.index"  # its public home (documented, and pickled, under that name)

    @classmethod
    def build(cls, corpus: Any, output: str | os.PathLike[str], config: DecontamConfig | None = None, *,
              bloom_fp: float = 1e-6, overwrite: bool = False, progress: bool | None = None,
              **options: Any) -> CorpusIndex:
        """Index a corpus into the folder ``output`` (staged beside it, put in place when complete).

        Args:
            corpus: Files or folders (``.jsonl``, ``.jsonl.gz``, ``.parquet``), a ``datasets.Dataset``, a
                ``pyarrow.Table`` or a list of strings or dicts (as :func:`decontam.check` takes).
            output: A new folder (or an empty one).
            config: Options: the normalizer, ``text_field``, ``id_field``, ``on_error``, ``num_proc`` (files, large
                ones in parts, are indexed by that many processes into the very bytes of a one-process build).
            bloom_fp: False-positive rate of the Bloom filter per lookup.
            overwrite: Replace ``output`` if it exists (never an input).
            progress: Progress bar on stderr (default: when stderr is a terminal).

        Returns:
            The opened index.

        Raises:
            OutputExistsError: ``output`` exists and ``overwrite`` is False (checked before any work).
            PathConflictError: ``output`` is, lies inside or holds an input.
        """
        cfg = make_config(config, **options)
        refuse_method(cfg)
        if cfg.redact is not None:
            raise ConfigError("an index holds the corpus as it is: redaction (action='redact') applies to filter; "
                              "build the index without it")
        if cfg.near_dup:
            raise ConfigError("near_dup is an option of a check, not of an index: build the index without it (a "
                              "check of the corpus itself runs the near-duplicate pass: check / "
                              "filter_dataset with near_dup=True)")
        if len(cfg.text_fields) > 1:
            raise ConfigError(f"an index holds one text per document; got text_field={list(cfg.text_fields)}: index "
                              "one string field, or check the corpus without an index (check / "
                              "filter_dataset), which reads several fields")
        if is_pathlike(corpus) and cfg.id_field and cfg.id_field != DEFAULT_ID_FIELD:
            require_id_field(expand_corpus(as_paths(corpus), "skip", []), cfg.id_field)  # a misspelt name
        with _writing(output, as_paths(corpus) if is_pathlike(corpus) else [], overwrite) as commit:
            stage = commit.temp(output, directory=True)
            build_into(corpus, stage, cfg, bloom_fp, progress)
            commit.stage(stage, output)
            commit.apply()
        return cls.load(output, verify=False)

    @classmethod
    def merge(cls, indexes: Sequence[str | os.PathLike[str] | CorpusIndex], output: str | os.PathLike[str], *,
              bloom_fp: float | None = None, overwrite: bool = False) -> CorpusIndex:
        """Merge indexes (their corpora in the given order) into a new index folder.

        The result answers exactly like an index built from all the corpora at once (same sources, documents,
        row numbers and fingerprint); its Bloom filter is rebuilt for the merged key set.

        Raises:
            IndexMismatchError: The indexes were built with different normalizers or parameters.
            ConfigError: Two of the indexes hold the same source file (or the same index is given twice).
            OutputExistsError: ``output`` exists and ``overwrite`` is False.
            PathConflictError: ``output`` is, lies inside or holds one of the indexes.
        """
        if not indexes:
            raise ConfigError("merge needs at least one index")
        paths = [i.path if isinstance(i, IndexFiles) else Path(i) for i in indexes]
        with _writing(output, paths, overwrite) as commit:
            opened = [i if isinstance(i, CorpusIndex) else cls.load(i) for i in indexes]
            check_mergeable(opened)  # (a mismatch first: it says more than an overlap)
            hit = first_overlap([ix.manifest["corpus"]["sources"] for ix in opened])
            if hit is not None:
                raise ConfigError(f"indexes {paths[hit[0]]} and {paths[hit[1]]} both hold {hit[2]}: merging them "
                                  "would count its documents twice; give each index once")
            stage = commit.temp(output, directory=True)
            merge_into(opened, stage, bloom_fp)
            commit.stage(stage, output)
            commit.apply()
        return cls.load(output, verify=False)

    def add(self, corpus: Any, *, progress: bool | None = None, **options: Any) -> CorpusIndex:
        """Add documents to this index's folder (atomically: the folder is replaced whole when the new index is
        complete); returns the updated index. This object still reads the files it had opened: use the one
        returned (``index = index.add(corpus)``).

        A link to an index folder stays a link: the folder it points to is replaced. Options are the index's
        unless given: ``on_error="skip"`` skips malformed rows of ``corpus`` (the index then records ``skip``).

        Raises:
            ConfigError: The index already holds a source of ``corpus``, or it changed since this object opened it
                (another run added to it: open it again); the index is left as it was.
        """
        cfg = make_config(self.config(), **options)
        refuse_method(cfg)
        check_normalizer(self.manifest["normalize"], cfg.normalize, f"index {self.path}")
        target = Path(os.path.realpath(self.path))  # the folder itself, not a link to it
        with OutputLock([target]), Commit() as commit:
            if IndexFiles.load(target, verify=False).manifest != self.manifest:
                raise ConfigError(f"the index {self.path} changed since it was opened (another run added to it): "
                                  "open it again, then add; nothing was changed")
            part = commit.temp(target, directory=True) / "part"
            build_into(corpus, part, cfg, self.manifest["bloom"]["target_fp_rate"], progress)
            added = IndexFiles.load(part, verify=False)
            hit = first_overlap([self.manifest["corpus"]["sources"], added.manifest["corpus"]["sources"]])
            if hit is not None:
                raise ConfigError(f"the index {self.path} already holds {hit[2]}: adding it again would count its "
                                  "documents twice (a file that grew: build the index again, or add only its new "
                                  "rows as another file)")
            merged = commit.temp(target, directory=True)
            merge_into([self, added], merged, None)
            commit.stage(merged, target)
            commit.apply()
        return CorpusIndex.load(self.path, verify=False)

    def export_portrait(self, output: str | os.PathLike[str], overwrite: bool = False) -> Path:
        """Copy the portrait (Bloom filter + header, no text, no document ids) to a file, atomically.

        Raises:
            OutputExistsError: ``output`` exists and ``overwrite`` is False.
            PathConflictError: ``output`` lies inside the index.
        """
        with _writing(output, [self.path], overwrite) as commit:
            tmp = commit.temp(output)
            shutil.copyfile(self.path / PORTRAIT_FILE, tmp)
            commit.stage(tmp, output)
            commit.apply()
        return Path(output)

    def check(self, benchmarks: Any, config: DecontamConfig | None = None, *, answer_field: str | None = None,
              question_field: str | None = None, item_id_field: str | None = None, **options: Any) -> Report:
        """Check benchmarks against the index: the report :func:`decontam.check` gives on the same corpus.

        Args:
            benchmarks: As in :func:`decontam.check`.
            config: Method options (probes, seed, normalizer: it must be the index's; ``probe_answers``); the
                corpus fields are the index's.
            answer_field: Answer field of custom benchmarks (with ``probe_answers=True``).
            question_field: Question field of custom ``"NAME=PATH"`` benchmarks (as ``--question-field``).
            item_id_field: Item id field of custom benchmarks (as ``--item-id-field``).

        Raises:
            IndexMismatchError: The normalizer differs from the one the index was built with.
        """
        probes, cfg = prepare_check(self.manifest, f"index {self.path}", benchmarks, config, options, answer_field,
                                    question_field, item_id_field)
        return index_report(self, probes, cfg)


def open_index(path: str | os.PathLike[str], normalize: NormalizeConfig | None = None) -> CorpusIndex | Portrait:
    """Open an index folder or a portrait file, whichever ``path`` is."""
    if Path(path).is_dir():
        return CorpusIndex.load(path, normalize)
    return Portrait.load(path, normalize)


def build_index(corpus: Any, output: str | os.PathLike[str], config: DecontamConfig | None = None,
                **options: Any) -> CorpusIndex:
    """Build a :class:`CorpusIndex` (shortcut for :meth:`CorpusIndex.build`)."""
    return CorpusIndex.build(corpus, output, config, **options)


@contextlib.contextmanager
def _writing(output: str | os.PathLike[str], inputs: Sequence[str | os.PathLike[str]],
             overwrite: bool) -> Iterator[Commit]:
    """Check an output (before any work, and again under its lock), hold its lock, and give the commit that
    puts it in place, or removes every temporary on failure."""
    check_outputs([("output", output)], inputs, overwrite)
    with OutputLock([output]), Commit() as commit:
        check_outputs([("output", output)], inputs, overwrite)
        yield commit
