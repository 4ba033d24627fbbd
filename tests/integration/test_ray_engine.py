"""The Ray engine on a real local Ray (``ray.init(num_cpus=2)``, started once for this module): a
``ray.data.Dataset`` in and out of ``check``/``filter_dataset``, corpus files and index builds on Ray, and the
command line (``--engine ray``, ``--ray-address``), each compared with the local engine on the same input; and
a real Ctrl-C to command lines that started a local Ray of their own, which must stop as the local engine's do.

Ray comes with the ``test`` extra (``pip install -e '.[test]'``), so CI runs all of this.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _runs import ENV, assert_one_line, bench, finish, group_gone, spools_of, start, tree

from decontam import (
    Benchmark,
    InputError,
    Item,
    Report,
    build_index,
    check,
    filter_dataset,
    filter_files,
    load_benchmark,
)
from decontam.normalize import NormalizeConfig

pytest.importorskip("ray.data")
import ray  # noqa: E402
import ray.data  # noqa: E402

from decontam.config import make_config  # noqa: E402
from decontam.index import CorpusIndex  # noqa: E402
from decontam.inputs import CorpusFile, file_format  # noqa: E402
from decontam.scan import Shared  # noqa: E402
from decontam.scan.parts import plan_parts  # noqa: E402

QUESTIONS = [
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins daily.",
    "Write a function that returns the sum of two integers given as arguments, and test it on five cases.",
    "Which of the following best describes the role of mitochondria in a eukaryotic cell under stress?",
    "What is 4 + 3?",  # short: used whole ('43'), matches by coincidence
]
BENCH = Benchmark.from_items("mix", [Item(f"q{i}", q) for i, q in enumerate(QUESTIONS)])


@pytest.fixture(scope="module")
def cluster():
    """One local Ray of 2 CPUs for the module (the small machine the engine must never hang on); its address."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def _texts(n: int, every: int = 37) -> list[str | None]:
    """Documents: filler, some holding a question (re-spaced, or re-wrapped), some numbers ('43' matches)."""
    out: list[str | None] = []
    for i in range(n):
        text = f"document {i}: some filler about rivers, ünïcödé and code x = {i * 7}"
        if i % every == 5:
            q = QUESTIONS[(i // every) % 3]
            text += "\n" + (q.replace(".", " . ") if i % 2 else q.replace(" ", "\n  ")) + f"\nthe end of {i}"
        out.append(text)
    return out


def _table(n: int = 1200, ids: bool = True, nulls: tuple[int, ...] = ()) -> pa.Table:
    texts = _texts(n)
    for k in nulls:
        texts[k] = None
    cols: dict[str, list] = {"text": texts, "n": list(range(n))}
    if ids:
        cols["id"] = [f"doc-{i}" if i % 3 else None for i in range(n)]
    return pa.table(cols)


def _without_run(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "run"}


# ------------------------------------------------------------------------------------- a Ray dataset


@pytest.mark.parametrize("ids", [True, False], ids=["some-ids", "row-numbers"])
def test_check_of_a_ray_dataset_is_the_local_report(cluster, ids, contamination_oracle, validate_report):
    """Blocks scanned by Ray tasks, their reports merged: the report of the same rows as a datasets.Dataset,
    apart from run.engine; rows with no id named by their row in the whole dataset, rejected rows by theirs."""
    import datasets

    table = _table(ids=ids, nulls=(3, 700, 1101))
    rds = ray.data.from_arrow(table).repartition(6)
    got = check(rds, [BENCH], progress=False, on_error="skip").to_dict()
    want = check(datasets.Dataset(table), [BENCH], progress=False, on_error="skip").to_dict()
    assert got["run"] == {"engine": "ray"} and want["run"] == {"engine": "local"}
    assert _without_run(got) == _without_run(want)
    assert json.dumps(_without_run(got)) == json.dumps(_without_run(want))  # the same bytes, key order too
    validate_report(got)
    assert [r["line"] for r in got["corpus"]["rejected"]] == [4, 701, 1102]
    texts = [t for t in table.column("text").to_pylist() if t is not None]
    rows = [i for i, t in enumerate(table.column("text").to_pylist()) if t is not None]
    names = [(table.column("id")[i].as_py() if ids else None) or i for i in rows]
    oracle = contamination_oracle(texts, names, got, NormalizeConfig())
    assert set(Report(got).removed_doc_ids) == oracle["docs"]
    assert len(oracle["docs"]) > 20


def test_filter_dataset_of_a_ray_dataset(cluster):
    """Lazily filtered (map_batches), or scanned at once with the report: the rows the local engine keeps."""
    import datasets

    table = _table()
    rds = ray.data.from_arrow(table).repartition(5)
    local, local_report = filter_dataset(datasets.Dataset(table), [BENCH], return_report=True, progress=False)
    lazy = filter_dataset(rds, [BENCH], progress=False)
    assert isinstance(lazy, ray.data.Dataset)
    assert sorted(r["n"] for r in lazy.take_all()) == local["n"]
    kept, report = filter_dataset(rds, [BENCH], return_report=True, progress=False)
    assert kept.columns() == table.column_names
    assert kept.to_arrow_refs() and pa.concat_tables(ray.get(kept.to_arrow_refs())).to_pylist() == \
        local.with_format("arrow")[:].to_pylist()  # in order
    assert _without_run(report.to_dict()) == _without_run(local_report.to_dict())
    assert report.n_removed == table.num_rows - len(local) > 20


def test_a_malformed_row_is_named_by_its_row_in_the_dataset(cluster):
    import datasets

    table = _table(nulls=(1000,))
    rds = ray.data.from_arrow(table).repartition(4)
    with pytest.raises(InputError) as local:
        check(datasets.Dataset(table), [BENCH], progress=False)
    with pytest.raises(InputError) as got:
        check(rds, [BENCH], progress=False)
    assert str(got.value) == str(local.value) and got.value.line == 1001
    with pytest.raises(InputError, match="line 1001"):
        filter_dataset(rds, [BENCH], return_report=True, progress=False)
    lazy = filter_dataset(rds, [BENCH], progress=False)  # fails when read: Ray's error, holding decontam's
    with pytest.raises(Exception, match="InputError: <dataset>, line 101, field 'text': text is null.*counts the "
                                        "rows of one block"):
        lazy.take_all()
    with pytest.raises(InputError, match="no such column"):
        check(rds, [BENCH], progress=False, text_field="body")


def test_an_empty_ray_dataset(cluster):
    import datasets

    table = _table(4).slice(0, 0)
    got = check(ray.data.from_arrow(table), [BENCH], progress=False).to_dict()
    assert _without_run(got) == _without_run(check(datasets.Dataset(table), [BENCH], progress=False).to_dict())


def test_the_probes_are_loaded_once_per_worker_process(cluster):
    """``Shared``: put once, loaded once per worker process, whatever the number of blocks (20 here)."""
    shared = Shared(["a matcher", "stand-in"])

    def which(batch: pa.Table, shared: Shared) -> pa.Table:
        return pa.table({"pid": [os.getpid()], "obj": [id(shared.get())]})

    rows = ray.data.range(20, override_num_blocks=20).map_batches(which, fn_args=(shared,), batch_format="pyarrow",
                                                                  batch_size=None).take_all()
    loads = {(r["pid"], r["obj"]) for r in rows}
    assert len(rows) == 20 and len(loads) == len({r["pid"] for r in rows})


# ------------------------------------------------------------------------------------------ files


def _files(folder: Path) -> list[Path]:
    """A JSONL file large enough to be read in parts, a small one, and a Parquet file of row groups (in parts
    too, with small_parts)."""
    folder.mkdir(parents=True, exist_ok=True)
    big, small, parquet = folder / "big.jsonl", folder / "small.jsonl", folder / "rows.parquet"
    big.write_text("".join(json.dumps({"id": f"b{i}", "text": t}, ensure_ascii=False) + "\n"
                           for i, t in enumerate(_texts(6000))), encoding="utf-8")
    small.write_text("".join(json.dumps({"text": t}) + "\n" for t in _texts(300, every=11)), encoding="utf-8")
    pq.write_table(_table(12000), parquet, row_group_size=1200)
    return [big, small, parquet]


@pytest.fixture()
def small_parts(monkeypatch):
    """Files split into parts from 64 KB (the driver plans the parts; the tasks read the byte ranges given)."""
    from decontam.inputs import files

    monkeypatch.setattr(files, "RANGE_MIN_BYTES", 64 << 10)
    monkeypatch.setattr(files, "PART_MAX_BYTES", 200 << 10)


def test_files_on_ray_are_the_local_run(cluster, tmp_path, small_parts):
    files = _files(tmp_path / "in")
    plans = plan_parts([CorpusFile(f, f.name, file_format(f)) for f in files], [f.stat().st_size for f in files], 2,
                       make_config())
    # the large files are read in parts (the parts of both in the tasks at once, each file its spool folder)
    assert len(plans[0] or []) >= 4 and plans[1] is None and len(plans[2] or []) >= 2
    local = filter_files(files, [BENCH], tmp_path / "local", report_path=tmp_path / "local.json", progress=False)
    got = filter_files(files, [BENCH], tmp_path / "ray", report_path=tmp_path / "ray.json", progress=False,
                       engine="ray")
    assert got.data["run"] == {"engine": "ray"}
    assert json.dumps(_without_run(got.data)) == json.dumps(_without_run(local.data))
    for f in files:
        assert (tmp_path / "ray" / f.name).read_bytes() == (tmp_path / "local" / f.name).read_bytes()
    checked = check(files, [BENCH], progress=False, engine="ray").to_dict()
    assert _without_run(checked)["training"] == _without_run(local.to_dict())["training"]
    assert local.n_removed > 100
    assert sorted(p.name for p in (tmp_path / "ray").iterdir()) == sorted(f.name for f in files)  # no spool left


@pytest.mark.parametrize("options", [{"action": "redact", "redact_context": 0, "redact_min_chars": 10},
                                     {"near_dup": True}, {"probe_answers": True}, {"method": "ngram13"}],
                         ids=["redact", "near-dup", "answers", "ngram13"])
def test_the_opt_in_passes_on_ray_are_the_local_ones(cluster, tmp_path, small_parts, options):
    """Redaction, the near-duplicate pass, answer probes and the 13-gram rule run in the Ray tasks as in local
    processes: the same outputs, byte for byte, and the same report (files, parts of a large one, a Ray
    dataset)."""
    import datasets

    files = _files(tmp_path / "in")
    bench = Benchmark.from_items("mix", [Item(f"q{i}", q, answer=QUESTIONS[(i + 1) % 3])  # answers found too
                                         for i, q in enumerate(QUESTIONS)])
    local = filter_files(files, [bench], tmp_path / "local", progress=False, **options)
    got = filter_files(files, [bench], tmp_path / "ray", progress=False, engine="ray", **options)
    assert _without_run(got.data) == _without_run(local.data)
    what = {"action": local.data["training"].get("redaction", {}).get("n_redacted"), "near_dup": "near_dup" in
            local.data, "probe_answers": local.data["benchmarks"][0].get("n_answer_leaks"),
            "method": local.n_removed}[next(iter(options))]
    assert what  # the pass did something (redacted rows, ran, found answers)
    for f in files:
        assert (tmp_path / "ray" / f.name).read_bytes() == (tmp_path / "local" / f.name).read_bytes()
    table = _table()
    kept, report = filter_dataset(ray.data.from_arrow(table).repartition(3), [bench], return_report=True,
                                  progress=False, **options)
    want, want_report = filter_dataset(datasets.Dataset(table), [bench], return_report=True, progress=False,
                                       **options)
    assert _without_run(report.to_dict()) == _without_run(want_report.to_dict())
    assert pa.concat_tables(ray.get(kept.to_arrow_refs())).to_pylist() == want.with_format("arrow")[:].to_pylist()


def test_a_malformed_line_in_a_part_is_named_by_its_line_in_the_file(cluster, tmp_path, small_parts):
    files = _files(tmp_path / "in")
    lines = files[0].read_bytes().splitlines(keepends=True)
    lines[5000] = b'{"text": "cut short\n'
    files[0].write_bytes(b"".join(lines))
    with pytest.raises(InputError) as local:
        check(files, [BENCH], progress=False)
    with pytest.raises(InputError) as got:
        check(files, [BENCH], progress=False, engine="ray")
    assert str(got.value) == str(local.value) and got.value.line == 5001


LAYOUT = {"text.zst", "raw.zst", "text.blocks.arrow", "raw.blocks.arrow", "manifest.json"}


def test_index_build_on_ray(cluster, tmp_path):
    """Each file indexed by a Ray task, the parts merged: for one file, the one-process build byte for byte; for
    several, every file of the local builds (one process, or a pool: the same bytes) but the text stores' block
    layout (a merge keeps each part's zstd blocks as they are, not cut on the whole text's 1 MiB grid): the same
    table, documents and portrait, the same stored texts, the same reports."""
    files = _files(tmp_path / "in")

    def differing(a: Path, b: Path) -> set[str]:
        names = sorted(p.name for p in a.iterdir())
        assert names == sorted(p.name for p in b.iterdir())
        return {n for n in names if not filecmp.cmp(a / n, b / n, shallow=False)}

    build_index(files[:1], tmp_path / "one-local", progress=False)
    build_index(files[:1], tmp_path / "one-ray", progress=False, engine="ray")
    assert differing(tmp_path / "one-ray", tmp_path / "one-local") == set()
    build_index(files, tmp_path / "all-local", progress=False, num_proc=2)
    build_index(files, tmp_path / "all-ray", progress=False, engine="ray")
    assert differing(tmp_path / "all-ray", tmp_path / "all-local") <= LAYOUT
    ray_ix, local_ix = (CorpusIndex.load(tmp_path / f"all-{k}") for k in ("ray", "local"))
    for store in ("text", "raw"):
        a, b = getattr(ray_ix, store), getattr(local_ix, store)
        assert a.read(0, a.total) == b.read(0, b.total)
    for ix in (ray_ix, local_ix):
        for name in LAYOUT - {"manifest.json"}:
            del ix.manifest["files"][name]
        del ix.manifest["checksum"]
    assert ray_ix.manifest == local_ix.manifest
    assert ray_ix.check([BENCH], probes="all").to_json() == local_ix.check([BENCH], probes="all").to_json()


# ------------------------------------------------------------------------------- never hangs, CLI

NO_HANG = """
import sys, ray, ray.data
from decontam import Benchmark, Item, check, filter_dataset
ray.init(address=sys.argv[1], log_to_driver=False, logging_level="ERROR")
bench = Benchmark.from_items("mix", [Item("q0", sys.argv[3])])
ds = ray.data.read_json(sys.argv[2])  # read tasks, then the scan: on 2 CPUs, no pool may hold them all
kept, report = filter_dataset(ds, [bench], return_report=True, progress=False)
lazy = filter_dataset(ray.data.read_json(sys.argv[2]), [bench], progress=False)
print(report.n_removed, kept.count(), lazy.count(), check(ds, [bench], progress=False).n_removed)
"""


def test_a_two_cpu_ray_reading_files_never_hangs(cluster, tmp_path):
    """A dataset read from 8 JSONL files (read tasks) and scanned on the 2-CPU Ray finishes: the scan runs in
    tasks, not in a pool of whole-CPU actors that would starve the reads. The timeout turns a hang into a
    failure."""
    folder = tmp_path / "json"
    folder.mkdir()
    for k in range(8):
        (folder / f"part-{k}.jsonl").write_text(
            "".join(json.dumps({"text": t}) + "\n" for t in _texts(4000)), encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", NO_HANG, cluster, str(folder), QUESTIONS[0]],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    removed, kept, lazy, checked = map(int, out.stdout.split())
    planted = sum(1 for t in _texts(4000) if QUESTIONS[0][:20] in t or QUESTIONS[0][:20].replace(" ", "\n  ") in t)
    assert removed == checked == 8 * planted > 0
    assert kept == lazy == 8 * 4000 - removed


@pytest.fixture()
def cli_files(tmp_path, shared_benchmarks):
    files = _files(tmp_path / "in")
    gsm = load_benchmark("gsm8k", shared_benchmarks / "gsm8k" / "test.jsonl")
    with files[1].open("a", encoding="utf-8") as fh:  # real benchmark questions in the corpus
        for item in gsm.items[:30]:
            fh.write(json.dumps({"text": "leaked: " + item.question}) + "\n")
    return files, f"gsm8k={shared_benchmarks / 'gsm8k' / 'test.jsonl'}"


def test_cli_filter_on_a_local_ray_started_for_the_run(cli_files, tmp_path, run_cli):
    """``--engine ray`` with no address starts a local Ray (and stops it): outputs byte for byte those of the
    local engine, the report the same apart from run.engine, which verify re-runs locally and reproduces."""
    files, spec = cli_files
    common = [*files, "-b", spec, "--no-progress"]
    local = run_cli("filter", *common, "-o", tmp_path / "local", "--report", tmp_path / "local.json")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    got = subprocess.run([sys.executable, "-m", "decontam", "filter", *map(str, common), "-o", str(tmp_path / "ray"),
                          "--report", str(tmp_path / "ray.json"), "--engine", "ray"],
                         capture_output=True, text=True, timeout=600, env=env | {"TQDM_DISABLE": "1"})
    assert local.returncode == 0 and got.returncode == 0, got.stderr[-3000:]
    assert "Traceback" not in got.stderr
    for f in files:
        assert (tmp_path / "ray" / f.name).read_bytes() == (tmp_path / "local" / f.name).read_bytes()
    a, b = (json.loads((tmp_path / n).read_text()) for n in ("ray.json", "local.json"))
    assert a["run"] == {"engine": "ray"} and _without_run(a) == _without_run(b)
    assert got.stdout == local.stdout.replace("local engine", "ray engine")
    assert [bm["n_contaminated"] for bm in a["benchmarks"]] == [30]
    verify = run_cli("verify", tmp_path / "ray.json", *files, "-b", spec)
    assert verify.returncode == 0 and "REPRODUCED" in verify.stdout and "ray engine" in verify.stdout


def test_cli_check_and_index_build_on_a_ray_cluster_by_address(cluster, cli_files, tmp_path, run_cli):
    files, spec = cli_files
    local = run_cli("check", *files, "-b", spec, "--report", tmp_path / "local.json", "--no-progress")
    got = run_cli("check", *files, "-b", spec, "--report", tmp_path / "ray.json", "--no-progress",
                  "--engine", "ray", "--ray-address", cluster, timeout=600)
    assert local.returncode == 0 and got.returncode == 0, got.stderr[-3000:]
    a, b = (json.loads((tmp_path / n).read_text()) for n in ("ray.json", "local.json"))
    assert _without_run(a) == _without_run(b) and a["run"] == {"engine": "ray"}
    built = run_cli("index", "build", *files, "-o", tmp_path / "ix-ray", "--no-progress", "--engine", "ray",
                    "--ray-address", cluster, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    assert run_cli("index", "build", *files, "-o", tmp_path / "ix", "--no-progress", "--num-proc", "2").returncode == 0
    for name in sorted(p.name for p in (tmp_path / "ix").iterdir()):  # the text stores' block layout aside
        assert name in LAYOUT or filecmp.cmp(tmp_path / "ix" / name, tmp_path / "ix-ray" / name, shallow=False), name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_engine_errors_are_one_line(tmp_path, run_cli, cli_files):
    """No Ray installed, a cluster nothing answers at, a malformed address, or options that do not go
    together: a one-line error (exit 1, or 2 for usage), no traceback, no output."""
    files, spec = cli_files
    common = [*files, "-b", spec, "--no-progress"]
    no_ray = subprocess.run([sys.executable, "-c", "import sys; sys.modules['ray'] = None\n"
                             "from decontam.cli import main; sys.exit(main(sys.argv[1:]))",
                             "filter", *map(str, common), "-o", str(tmp_path / "out"), "--engine", "ray"],
                            capture_output=True, text=True, timeout=300)
    assert no_ray.returncode == 1 and "pip install 'decontam[ray]'" in no_ray.stderr
    for address, words in ((f"127.0.0.1:{_free_port()}", "cannot reach the Ray cluster at 127.0.0.1"),
                           ("no-port-here", "is not HOST:PORT")):
        out = run_cli("check", *common, "--engine", "ray", "--ray-address", address, timeout=300)
        assert out.returncode == 1 and words in out.stderr, out.stderr
    for extra, words in ((["--ray-address", "10.0.0.1:6379"], "needs engine='ray'"),
                         (["--engine", "ray", "--num-proc", "2"], "is for the local engine")):
        out = run_cli("check", *common, *extra)
        assert out.returncode == 2 and words in out.stderr, out.stderr
    for out in (no_ray,):
        assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------------- Ctrl-C


def ray_session_folder(pid: int) -> Path | None:
    """The session folder of the local Ray that the run with this process id started (Ray names it
    ``session_<date>_<pid of the process that started it>``; in ``$RAY_TMPDIR/ray``, by default ``/tmp/ray``)."""
    root = Path(os.environ.get("RAY_TMPDIR") or tempfile.gettempdir()) / "ray"
    return next(iter(sorted(root.glob(f"session_*_{pid}"))), None)


def run_processes(pid: int) -> dict[int, str]:
    """Every live process of the run: in its session (``start`` makes the run a session leader; Ray's processes
    are in it, its workers too, though the raylet puts each in a process group of its own), or naming the run's
    Ray session folder in its command line (one that left the session would still); ``{pid: name}``."""
    session = ray_session_folder(pid)
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
        if rest[0] == "Z":  # exited, not yet reaped
            continue
        if int(rest[3]) == pid or (session is not None and session.name in cmdline):
            found[int(stat.parent.name)] = name
    return found


def gone(pid: int, within: float = 5.0) -> dict[int, str]:
    """The run's processes still alive ``within`` seconds from now (none, once they are all gone)."""
    deadline = time.monotonic() + within
    while (left := run_processes(pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


# (description, command, where it is stopped, what the Ray tasks write as they scan: a glob under the working
# folder, or None); every run starts a local Ray of its own (no --ray-address)
CTRL_C_RAY = [
    ("filter, while its Ray starts", ["filter", "one.jsonl", "-o", "out/clean.jsonl", "--report", "out/r.json"],
     "starting", None),
    ("filter, one file in parts", ["filter", "one.jsonl", "-o", "out/clean.jsonl", "--report", "out/r.json"],
     "scanning", "out/.decontam-parts-{pid}-*/*/*"),  # the parts' spool, beside the output
    ("filter, four files", ["filter", "four", "-o", "out/clean", "--report", "out/r.json"], "scanning",
     "out/.clean.*.partial/.*.partial"),  # the temporary outputs of whole files
    ("check", ["check", "one.jsonl", "--report", "out/r.json"], "scanning", None),  # nothing before its report
    ("index build", ["index", "build", "four", "-o", "ix"], "scanning", ".ix.*.partial/.parts/*/*"),  # parts
]


def ray_reached(phase: str, pid: int, work: Path, written: str | None) -> bool:
    """Whether the run is where it is to be stopped: its Ray starting (the raylet's agents are up, no task has
    begun), or scanning: a Ray worker of the run is running a ``map_batches`` task (its process title says
    so), and the tasks have written bytes where ``written`` says."""
    names = run_processes(pid).values()
    if phase == "starting":
        return any(name.startswith("ray::Dashboard") for name in names)
    return any(name.startswith("ray::MapBatches") for name in names) and \
        (written is None or any(f.is_file() and f.stat().st_size for f in work.glob(written.format(pid=pid))))


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs /proc to see the run's processes")
@pytest.mark.parametrize(("args", "phase", "written"), [c[1:] for c in CTRL_C_RAY], ids=[c[0] for c in CTRL_C_RAY])
def test_ctrl_c_stops_a_run_and_the_local_ray_it_started_and_leaves_nothing(big_corpus, shared_benchmarks,
                                                                          tmp_path, args, phase, written):
    """A real Ctrl-C (SIGINT to the run's process group, as a terminal sends it) to ``--engine ray`` runs that
    started a local Ray (filter, check, index build; Ray starting, or its tasks scanning): exit 130 within
    moments, one line on stderr (no traceback, none from Ray's workers), nothing written or spooled, and no
    process left: the raylet, the GCS server, Ray's agents and workers are all gone.

    What stays is Ray's own session folder (``/tmp/ray/session_<date>_<pid>``: its logs), which Ray keeps after
    every run; removed here once the test has passed (``docs/reliability.md``)."""
    for name in ("one.jsonl", "four"):
        (tmp_path / name).symlink_to(big_corpus / name)
    before = tree(tmp_path)
    env = {k: v for k, v in ENV.items() if k != "RAY_ADDRESS"}  # a local Ray of the run's own
    command = [*args, "--no-progress", "--engine", "ray"]
    p = start(command if args[0] == "index" else [*command, *bench(shared_benchmarks, "mmlu", "gsm8k")], tmp_path,
              env=env)
    deadline = time.monotonic() + 90
    while not ray_reached(phase, p.pid, tmp_path, written):
        assert p.poll() is None, f"the run ended before {phase}: {p.communicate()}"
        assert time.monotonic() < deadline, f"never saw {phase}"
        time.sleep(0.005)
    running = run_processes(p.pid)
    os.killpg(p.pid, signal.SIGINT)
    sent = time.monotonic()
    code, out, err = finish(p, timeout=60)
    took = time.monotonic() - sent
    assert {"raylet", "gcs_server"} <= set(running.values()), running  # the local Ray was up: it is tested
    assert code == 130, (code, err)
    assert took < 20, f"took {took:.1f} s to stop"  # the rest of Ray's start (a few s), and its shutdown (2-3 s)
    assert_one_line(err, "decontam: interrupted; no output was written")
    assert out == ""
    assert gone(p.pid) == {}, "a process of the run (or of its Ray) outlived it"
    assert group_gone(p.pid)
    assert tree(tmp_path) == before
    assert spools_of(p.pid) == []
    session = ray_session_folder(p.pid)
    assert session is not None  # the run started a Ray of its own (it did not join another)
    shutil.rmtree(session, ignore_errors=True)
