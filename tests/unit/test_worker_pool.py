"""The local worker pool: calls queued ahead in a busy worker, results in order, a worker's death failing every
call it held; and the spool slots of a file's parts, used again by later parts without stale bytes."""

from __future__ import annotations

import gc
import json
import os
import signal
import time

import pytest

from decontam.benchmarks import Benchmark, Item
from decontam.config import make_config
from decontam.inputs import CorpusFile, files
from decontam.runtime import WorkerError, worker_pool
from decontam.scan import ProbeSet
from decontam.scan.parts import scan_part


def _nothing() -> None:
    pass


def stamp(i: int, sleep: float) -> tuple[int, float, int]:
    """Sleep, then say which call this was, when it started (wall clock) and in which process."""
    start = time.time()
    time.sleep(sleep)
    return i, start, os.getpid()


def fail(i: int) -> None:
    raise ValueError(f"call {i} failed")


def gc_frozen() -> int:
    return gc.get_freeze_count()


def test_a_call_queued_ahead_starts_while_this_process_is_busy():
    """One worker, two calls queued ahead: the second starts when the first ends, not when this process next
    looks at the pool (it sleeps meanwhile, as it would copying a part's rows to the output)."""
    with worker_pool(1, _nothing, ()) as pool:
        first = pool.submit(stamp, 0, 0.2, queue_ahead=True)
        second = pool.submit(stamp, 1, 0.0, queue_ahead=True)
        busy_until = time.time() + 1.0
        time.sleep(1.0)  # busy: no call to the pool
        (_, s0, _), (_, s1, _) = first.result(), second.result()
    assert s1 < busy_until - 0.5, "the second call waited for this process"
    assert s1 >= s0 + 0.2


def test_without_queue_ahead_a_call_waits_for_this_process():
    """The default: a worker gets its next call only from this process (large arguments must not wait in a
    pipe that a worker sending its result does not read)."""
    with worker_pool(1, _nothing, ()) as pool:
        first = pool.submit(stamp, 0, 0.2)
        second = pool.submit(stamp, 1, 0.0)
        busy_until = time.time() + 1.0
        time.sleep(1.0)
        first.result()
        _, s1, _ = second.result()
    assert s1 >= busy_until - 0.05


def test_queued_calls_give_their_results_in_order_and_errors_to_their_own_call():
    with worker_pool(2, _nothing, ()) as pool:
        tasks = [pool.submit(fail if i == 3 else stamp, *((i,) if i == 3 else (i, 0.01 * (i % 3))), queue_ahead=True)
                 for i in range(8)]
        out = []
        for i, t in enumerate(tasks):
            if i == 3:
                with pytest.raises(ValueError, match="call 3 failed"):
                    t.result()
            else:
                out.append(t.result()[0])
    assert out == [0, 1, 2, 4, 5, 6, 7]


def test_a_killed_worker_fails_the_call_it_ran_and_the_one_queued_behind_it():
    with pytest.raises(WorkerError, match="stopped before giving its result: killed by signal 9"):
        with worker_pool(1, _nothing, ()) as pool:
            _, _, pid = pool.submit(stamp, -1, 0.0).result()
            first = pool.submit(stamp, 0, 5.0, queue_ahead=True)
            second = pool.submit(stamp, 1, 0.0, queue_ahead=True)
            time.sleep(0.3)
            os.kill(pid, signal.SIGKILL)
            try:
                first.result()
            finally:
                with pytest.raises(WorkerError):
                    second.result()


def test_the_workers_see_this_process_s_objects_frozen_and_this_process_gets_them_back():
    """The garbage collector of a worker leaves the objects it shares with this process alone (so that it does
    not copy their pages); this process collects them again once the pool is done."""
    before = gc.get_freeze_count()
    with worker_pool(1, _nothing, ()) as pool:
        assert gc.get_freeze_count() > 0
        assert pool.submit(gc_frozen).result() > 0
    assert gc.get_freeze_count() == before


def test_a_spool_slot_used_again_holds_only_the_later_part(tmp_path, monkeypatch):
    """A long part, then a short one in the same slot: the slot's text spool is the short part's text exactly
    (written over, then cut), which the digest of a whole-file run reproduces."""
    monkeypatch.setattr(files, "RANGE_MIN_BYTES", 1)
    monkeypatch.setattr(files, "PART_MAX_BYTES", 200)
    long_rows = [f'{{"text": "{"long row of text " * 8}{i}"}}' for i in range(3)]
    short_rows = ['{"text": "short"}'] * 3
    src = tmp_path / "c.jsonl"
    src.write_text("\n".join(long_rows + short_rows) + "\n")
    f = CorpusFile(src, "c.jsonl", "jsonl")
    parts = files.split_file(f, 2, "text")
    assert len(parts) >= 2
    bench = Benchmark.from_items("demo", [Item(0, "a question that no row of this file holds, long enough")])
    cfg = make_config()
    matcher = ProbeSet.build([bench], cfg).matcher
    folder = tmp_path / "spool"
    folder.mkdir()

    def texts_of(part) -> bytes:
        start, end = part.byte_range
        lines = src.read_bytes()[start:end].decode().splitlines()
        return "".join(json.loads(line)["text"] for line in lines if line).encode()

    first = scan_part(f, parts[0], matcher, cfg, folder, False, slot=0)
    assert first.in_slot and first.text_spool.read_bytes() == texts_of(parts[0])
    last = scan_part(f, parts[-1], matcher, cfg, folder, False, slot=0)
    assert last.text_spool == first.text_spool
    assert len(texts_of(parts[-1])) < len(texts_of(parts[0]))
    assert last.text_spool.read_bytes() == texts_of(parts[-1])


def test_objects_frozen_by_the_program_stay_frozen_after_a_pool():
    """A program that froze objects itself (before forking its own workers, say) finds them frozen still."""
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with worker_pool(1, _nothing, ()) as pool:
            pool.submit(_nothing).result()
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_a_parquet_part_without_a_batch_does_not_hand_back_its_slot_s_earlier_rows(tmp_path, monkeypatch):
    """The slot's kept-rows file of an earlier part is left where it was; a later part that read no batch (no
    row group) says it has no rows to add, rather than handing back the earlier part's."""
    import dataclasses

    import pyarrow as pa
    import pyarrow.parquet as pq

    monkeypatch.setattr(files, "RANGE_MIN_BYTES", 1)
    monkeypatch.setattr(files, "PART_MAX_BYTES", 1)
    src = tmp_path / "c.parquet"
    pq.write_table(pa.table({"text": [f"row {i} of some text" for i in range(40)]}), src, row_group_size=10)
    f = CorpusFile(src, "c.parquet", "parquet")
    parts = files.split_file(f, 2, "text")
    assert len(parts) >= 2 and parts[0].row_groups
    bench = Benchmark.from_items("demo", [Item(0, "a question that no row of this file holds, long enough")])
    cfg = make_config()
    matcher = ProbeSet.build([bench], cfg).matcher
    folder = tmp_path / "spool"
    folder.mkdir()
    first = scan_part(f, parts[0], matcher, cfg, folder, True, slot=0)
    assert first.output is not None
    assert pa.ipc.open_stream(first.output.read_bytes()).read_all().num_rows == 10 * len(parts[0].row_groups)
    empty = scan_part(f, dataclasses.replace(parts[0], index=2, row_groups=()), matcher, cfg, folder, True, slot=0)
    assert empty.output is None and empty.n_documents == 0
    again = scan_part(f, dataclasses.replace(parts[-1], index=4), matcher, cfg, folder, True, slot=0)
    assert again.output == first.output
    table = pa.ipc.open_stream(again.output.read_bytes()).read_all()
    assert table.column("text").to_pylist() == [f"row {i} of some text" for g in parts[-1].row_groups
                                                 for i in range(10 * g, 10 * g + 10)]
