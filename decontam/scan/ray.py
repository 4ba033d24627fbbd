"""The Ray engine: the scan step run by Ray Data, on a local Ray or on a cluster (``pip install 'decontam[ray]'``).

What runs where:

* **the session** (:func:`ray_session`): joins the Ray this process already joined, or the cluster at
  ``ray_address``, or starts a local Ray (and stops it afterwards); Ray not installed, or a cluster that cannot
  be reached, is a one-line error (:class:`~decontam.errors.MissingDependencyError`,
  :class:`~decontam.errors.EngineError`), never a hang: the address is tried first with a plain TCP connection.
  A Ray started here is stopped whole whatever ends the run, Ctrl-C included: a Ctrl-C while it starts, or
  while it stops, is held until that is done (:func:`_init`), so that none of its processes outlives the run.
* **shared objects** (:class:`Shared`): the probes and matcher are built once, here, put once into Ray's object
  store, and loaded once per worker process (then cached in it), not once per batch or per task.
* **units** (:func:`run_units`): a list of jobs (a corpus file, a part of a large one, an index part) becomes a
  Ray Dataset of one row per job, run by ``map_batches`` *tasks*; their outcomes come back in order.
* **files** (:func:`scan_files_ray`): the local engine's plan (whole files, large files in parts:
  :func:`~decontam.scan.parts.plan_parts`) run as units and put together by the local engine's own code
  (:func:`~decontam.scan.parts.assemble_jobs`), so the report and the outputs are byte for byte those of the
  local engine. Workers read the inputs and write the (temporary) outputs by path: on a cluster, inputs and
  outputs must be on a file system every node sees.

Tasks, never a pool of whole-CPU actors: on a small machine (2 cores) such a pool holds every CPU and starves
the tasks that read the data, and the run hangs. Tasks take a CPU only while they run, and Ray Data fuses a read
with the ``map_batches`` after it into one task.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import socket
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..atomic import interrupts_held
from ..config import DecontamConfig
from ..errors import DecontamError, EngineError, MissingDependencyError
from ..inputs import CorpusFile, FilePart
from ..match import Matcher
from ..neardup import NearDupIndex
from ..outputs import OutputSet
from ..runtime import progress_bar
from .local import scan_file
from .parts import assemble_jobs, file_folder, plan_parts, scan_part, spool_folder
from .probes import ProbeSet
from .step import SourceResult, require_rows

__all__ = ["INSTALL", "Shared", "import_ray", "ray_session", "run_units", "scan_files_ray"]

INSTALL = "pip install 'decontam[ray]'"
CONNECT_TIMEOUT = 5.0  # seconds to reach a cluster's address before saying it cannot be reached
_QUIET_LOGGERS = ("ray", "ray.data")


def import_ray() -> Any:
    """The ``ray`` module, with Ray Data loaded.

    Raises:
        MissingDependencyError: Ray (with Ray Data) is not installed; the message gives the install command.
    """
    try:
        import ray
        import ray.data  # noqa: F401 - Ray Data is the engine
    except ImportError as exc:
        raise MissingDependencyError(f"the Ray engine needs Ray Data, which is not installed ({exc}): {INSTALL}, "
                                     "or run with the local engine (leave out --engine ray)") from None
    return ray


# ------------------------------------------------------------------------------------------------ session


@contextlib.contextmanager
def ray_session(address: str | None, progress: bool | None = None, stop: bool = True) -> Iterator[Any]:
    """Ray, joined or started for a run; yields the ``ray`` module.

    Joins the Ray this process already joined (whatever ``address`` says); else connects to ``address`` (or to
    ``RAY_ADDRESS`` when set, as Ray does), or starts a local Ray on this machine's cores. A Ray started or joined
    here is left at the end when ``stop`` (a run that returns a lazy Ray dataset keeps it). Ray Data's progress
    bars follow ``progress`` (False: none) and its logs below errors are not shown, for the run (a run's
    failure is decontam's one-line error; Ray's own logs are in its session folder).

    Raises:
        MissingDependencyError: Ray is not installed.
        EngineError: The cluster cannot be reached or joined (the message names the address).
    """
    ray = import_ray()
    joined = not ray.is_initialized()
    try:
        if joined:
            _init(ray, address)
        context = ray.data.DataContext.get_current()
        saved_bars = context.enable_progress_bars
        saved_levels = {name: logging.getLogger(name).level for name in _QUIET_LOGGERS}
        if progress is False:
            context.enable_progress_bars = False
        for name in _QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        try:
            yield ray
        finally:
            context.enable_progress_bars = saved_bars
            for name, level in saved_levels.items():
                logging.getLogger(name).setLevel(level)
    finally:
        if joined and stop:
            with interrupts_held():  # a Ctrl-C now must not leave Ray half stopped
                ray.shutdown()


def _init(ray: Any, address: str | None) -> None:
    """``ray.init`` for a run: a cluster that cannot be reached fails at once (``ray.init`` itself would retry
    for minutes), as does one that refuses the connection.

    A local Ray is started with Ctrl-C held back until it is up (:func:`~decontam.atomic.interrupts_held`; the
    caller's ``ray.shutdown()`` then stops it whole). A Ctrl-C inside ``ray.init`` would stop it halfway:
    the raylet and the GCS server, started with Ray's fate sharing, die with this process, but the raylet's
    agents (``ray::DashboardAgent``, ``ray::RuntimeEnvAgent``) outlive it for a minute, trying to tell the
    dead GCS server that their raylet died (seen with Ray 2.60: ``docs/reliability.md``). Holding costs at most
    the rest of the start, a few seconds. Joining a cluster by address starts no process here: not held, so
    that a slow connection can still be interrupted.
    """
    target = address or os.environ.get("RAY_ADDRESS") or None
    if target is not None and target not in ("auto", "local"):
        _reachable(target)
    held = interrupts_held() if target in (None, "local") else contextlib.nullcontext()
    try:
        with held:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                     configure_logging=True)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        where = f"at {target}" if target else "(a local Ray)"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise EngineError(f"cannot start or join Ray {where}: {first}; start a cluster with `ray start --head` "
                          "on its head node and pass its address (--ray-address HOST:6379), or leave out "
                          "--ray-address to start a local Ray") from None


def _reachable(address: str) -> None:
    """Refuse an address nothing listens on, within :data:`CONNECT_TIMEOUT` seconds.

    Raises:
        EngineError: A malformed address, or no connection to it.
    """
    hostport = address.split("://", 1)[1] if "://" in address else address
    host, _, port = hostport.rstrip("/").rpartition(":")
    if not host or not port.isdigit():
        raise EngineError(f"--ray-address {address!r} is not HOST:PORT (or ray://HOST:PORT, or auto); the head "
                          "node's address is printed by `ray start --head` (port 6379 by default)")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise EngineError(f"cannot reach the Ray cluster at {address} ({reason}): is it running (`ray start "
                          "--head` on its head node) and is the address that of its head node? Leave out "
                          "--ray-address to start a local Ray") from None


# ---------------------------------------------------------------------------------------- shared objects

_CACHE: dict[str, Any] = {}  # in a worker process: the object of the latest run, loaded once


class Shared:
    """An object built once (here), put once into Ray's object store, loaded once per worker process.

    Pickled into every task (a key and a reference, a few bytes); :meth:`get` in a worker loads the object the
    first time and keeps it for the next tasks of the run in that process.
    """

    def __init__(self, obj: Any) -> None:
        ray = import_ray()
        self.key = uuid.uuid4().hex
        self.box = [ray.put(obj)]  # in a list: Ray passes the reference as it is, not the object

    def get(self) -> Any:
        """The object (in a worker process: loaded the first time, then cached)."""
        obj = _CACHE.get(self.key)
        if obj is None:
            import ray

            _CACHE.clear()  # one run's objects at a time
            obj = _CACHE[self.key] = ray.get(self.box[0])
        return obj


# ------------------------------------------------------------------------------------------------- units

_UNIT, _OUTCOME = "unit", "outcome"


def _run_unit_batch(batch: Any, fn: Callable[..., Any], shared: Shared | None) -> Any:
    """The ``map_batches`` function of :func:`run_units`: each unit of the batch run, its outcome pickled
    (a decontam error or an OSError as a value, re-raised in order by the driver with its own type)."""
    import pyarrow as pa

    obj = shared.get() if shared is not None else None
    out = []
    for blob in batch.column(_UNIT).to_pylist():
        try:
            outcome: tuple[bool, Any] = (True, fn(obj, *pickle.loads(blob)))
        except (DecontamError, OSError) as exc:
            outcome = (False, exc)
        out.append(pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
    return pa.table({_OUTCOME: pa.array(out, type=pa.large_binary())})


def _outcome(blob: bytes) -> Callable[[], Any]:
    ok, value = pickle.loads(blob)

    def get() -> Any:
        if not ok:
            raise value
        return value

    return get


def run_units(fn: Callable[..., Any], units: Sequence[tuple[Any, ...]],
              shared: Shared | None = None) -> Iterator[Callable[[], Any]]:
    """Run ``fn(shared object, *unit)`` for every unit on Ray (one task each, as the cluster's CPUs allow);
    yields, in the units' order, a call that returns the unit's result or raises its error.

    ``fn`` must be a module-level function (tasks find it by name); units and results must pickle.
    """
    ray = import_ray()
    if not units:
        return
    rows = [{_UNIT: pickle.dumps(tuple(u), protocol=pickle.HIGHEST_PROTOCOL)} for u in units]
    ds = ray.data.from_items(rows, override_num_blocks=len(rows))
    out = ds.map_batches(_run_unit_batch, fn_args=(fn, shared), batch_format="pyarrow", batch_size=None)
    out.context.execution_options.preserve_order = True
    for batch in out.iter_batches(batch_format="pyarrow", batch_size=None):
        for blob in batch.column(_OUTCOME).to_pylist():
            yield _outcome(blob)


# ------------------------------------------------------------------------------------------------- files


def _scan_unit(finders: tuple[Matcher, NearDupIndex | None], f: CorpusFile, part: FilePart | None,
               config: DecontamConfig, out: tuple[Path, Path] | None, folder: Path) -> Any:
    """One unit of a file scan, in a worker: a whole file (its result) or a part (spooled into ``folder``);
    ``finders``: the matcher and the near-duplicate pass's index (or None)."""
    matcher, near = finders
    if part is None:
        return scan_file(f, matcher, config, *(out or (None, None)), near=near)
    return scan_part(f, part, matcher, config, folder, out is not None, out[1] if out else None, near=near)


def scan_files_ray(files: list[CorpusFile], probes: ProbeSet, config: DecontamConfig, outputs: OutputSet | None,
                   progress: bool | None) -> list[SourceResult]:
    """Scan corpus files on Ray, in corpus order: as :func:`decontam.scan.scan_files` (same results, the same
    temporary outputs written), the files, and the parts of large ones, scanned by Ray tasks.

    Raises:
        InputError: A malformed file (``on_error="raise"``), or a corpus without a single row.
        MissingDependencyError: Ray is not installed.
        EngineError: The Ray cluster cannot be reached.
    """
    results: list[SourceResult] = []
    sizes = [f.path.stat().st_size for f in files]
    outs: list[tuple[Path, Path] | None] = (list(zip(outputs.temps, outputs.targets)) if outputs is not None
                                            else [None] * len(files))
    with ray_session(config.ray_address, progress=False) as ray:
        n = max(1, int(ray.cluster_resources().get("CPU", 1)))
        one_node = sum(1 for node in ray.nodes() if node.get("Alive")) <= 1
        # Parts spool beside the output, which every node must see (without one, in this machine's temporary
        # folder: only for a one-node Ray); on disk, not in /dev/shm, as tasks may run far ahead of the assembly.
        split = n > 1 and (one_node or outputs is not None)
        plans = plan_parts(files, sizes, n, config) if split else [None] * len(files)
        jobs = [(fi, part) for fi, plan in enumerate(plans) for part in (plan or [None])]
        bar = progress_bar(sum(sizes), "decontam: scanning (ray)", progress)
        with spool_folder(outs, any(plans), n, shared_memory=False) as folder:
            units = [(files[fi], part, config, outs[fi], folder if part is None else file_folder(folder, fi))
                     for fi, part in jobs]
            outcomes = run_units(_scan_unit, units, Shared((probes.matcher, probes.near)))
            try:
                assemble_jobs(files, plans, outs, sizes, bar, results,
                              ((fi, part, get) for (fi, part), get in zip(jobs, outcomes, strict=True)))
            finally:
                outcomes.close()  # Ray Data's iterator, before the session it runs in ends
                bar.close()
    require_rows(results)
    return results
