"""The corpus index as users see it: :class:`CorpusIndex` (open, build, merge, add, check, export the
portrait), and the shortcuts :func:`open_index` and :func:`build_index`."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..atomic import default_mode
from ..config import DecontamConfig, NormalizeConfig, make_config
from ..errors import ConfigError
from ..report import Report
from .build import build_into, commit, merge_into, staging
from .format import PORTRAIT_FILE, IndexFiles, check_normalizer
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
              bloom_fp: float = 1e-6, progress: bool | None = None, **options: Any) -> CorpusIndex:
        """Index a corpus into the folder ``output`` (written atomically: a staging folder renamed at the end).

        Args:
            corpus: Files or folders (``.jsonl``, ``.jsonl.gz``, ``.parquet``), a ``datasets.Dataset``, a
                ``pyarrow.Table`` or a list of strings or dicts (as :func:`decontam.check` takes).
            output: New (or empty) folder.
            config: Options: the normalizer, ``text_field``, ``id_field``, ``on_error``, ``num_proc`` (files are
                indexed in parallel, one file per process, then merged).
            bloom_fp: False-positive rate of the Bloom filter per lookup.
            progress: Progress bar on stderr (default: when stderr is a terminal).

        Returns:
            The opened index.
        """
        cfg = make_config(config, **options)
        dest = Path(output)
        if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
            raise ConfigError(f"index folder {dest} already exists and is not empty; remove it or choose "
                              "another -o")
        stage = staging(dest)
        try:
            build_into(corpus, stage, cfg, bloom_fp, progress)
            commit(stage, dest)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        return cls.load(dest, verify=False)

    @classmethod
    def merge(cls, indexes: Sequence[str | os.PathLike[str] | CorpusIndex], output: str | os.PathLike[str], *,
              bloom_fp: float | None = None, replace: bool = False) -> CorpusIndex:
        """Merge indexes (their corpora in the given order) into a new index folder.

        The result answers exactly like an index built from all the corpora at once (same sources, documents,
        row numbers and fingerprint); its Bloom filter is rebuilt for the merged key set.

        Raises:
            IndexMismatchError: The indexes were built with different normalizers or parameters.
        """
        opened = [i if isinstance(i, CorpusIndex) else cls.load(i) for i in indexes]
        if not opened:
            raise ConfigError("merge needs at least one index")
        dest = Path(output)
        stage = staging(dest)
        try:
            merge_into(opened, stage, bloom_fp)
            commit(stage, dest, replace=replace)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        return cls.load(dest, verify=False)

    def add(self, corpus: Any, *, progress: bool | None = None, **options: Any) -> CorpusIndex:
        """Add documents to this index (in place, atomically); returns the updated index."""
        cfg = make_config(self.config(), **options)
        check_normalizer(self.manifest["normalize"], cfg.normalize, f"index {self.path}")
        work = staging(self.path)
        merged = staging(self.path)
        try:
            part = work / "part"
            build_into(corpus, part, cfg, self.manifest["bloom"]["target_fp_rate"], progress)
            new = IndexFiles.load(part, verify=False)
            merge_into([self, new], merged, None)
            commit(merged, self.path, replace=True)
        except BaseException:
            shutil.rmtree(merged, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return CorpusIndex.load(self.path, verify=False)

    def export_portrait(self, output: str | os.PathLike[str]) -> Path:
        """Copy the portrait (Bloom filter + header, no text, no document ids) to a file, atomically."""
        dest = Path(output)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
        os.fchmod(fd, default_mode())
        os.close(fd)
        try:
            shutil.copyfile(self.path / PORTRAIT_FILE, tmp)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return dest

    def check(self, benchmarks: Any, config: DecontamConfig | None = None, **options: Any) -> Report:
        """Check benchmarks against the index: the report :func:`decontam.check` gives on the same corpus.

        Args:
            benchmarks: As in :func:`decontam.check`.
            config: Method options (probes, seed, normalizer: it must be the index's); the corpus fields are
                the index's.

        Raises:
            IndexMismatchError: The normalizer differs from the one the index was built with.
        """
        probes, cfg = prepare_check(self.manifest, f"index {self.path}", benchmarks, config, options)
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
