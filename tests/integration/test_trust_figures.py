"""Figures a reader can trust, on real data: short questions used whole (the GPT-4 rule) are flagged when they
match many documents, with the documents they alone removed; --min-question-chars leaves them out, counted and
listed; a run that rejects many rows says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _files import stdlib_code_jsonl

N_FILES = 400


@pytest.fixture(scope="module")
def code_corpus(tmp_path_factory) -> Path:
    """Real code: the first stdlib .py files, as JSONL."""
    folder = tmp_path_factory.mktemp("trust")
    stdlib_code_jsonl(folder / "code.jsonl", N_FILES)
    return folder


def test_short_questions_matching_many_documents_are_flagged_and_can_be_left_out(code_corpus, shared_benchmarks,
                                                                                run_cli, validate_report):
    mmlu = f"mmlu={shared_benchmarks / 'mmlu' / 'test'}"
    out = run_cli("check", "code.jsonl", "-b", mmlu, "--report", "r.json", "--no-progress", cwd=code_corpus)
    assert out.returncode == 0, out.stderr
    report = json.loads((code_corpus / "r.json").read_text("utf-8"))
    validate_report(report)
    [warning] = [w for w in report["warnings"] if w["kind"] == "short_probes"]
    flagged = {it["id"]: it for it in warning["items"]}
    # "−4 + ( −3 )=" normalizes to "43": used whole, it is found in code all over
    assert flagged["elementary_mathematics_test/22"]["probe"] == "43"
    assert flagged["elementary_mathematics_test/22"]["n_documents"] > 5
    item = next(it for it in report["benchmarks"][0]["items"] if it["id"] == "elementary_mathematics_test/22")
    assert item["n_documents"] == flagged["elementary_mathematics_test/22"]["n_documents"]
    assert item["probe_documents"] == [item["n_documents"]]
    alone = warning["n_documents_removed_by_these_alone"]
    assert 0 < alone <= report["training"]["n_removed"]
    assert "decontam: warning:" in out.stderr and "elementary_mathematics_test/22" in out.stderr
    card = run_cli("report", "r.json", cwd=code_corpus).stdout
    assert "## Warnings" in card and "elementary\\_mathematics\\_test/22" not in card  # (underscores in words stay)
    assert "elementary_mathematics_test/22" in card
    assert run_cli("report", "r.json", "-o", "r.html", cwd=code_corpus).returncode == 0
    page = (code_corpus / "r.html").read_text("utf-8")
    warnings_box = page.split('<div class="card warn" id="warnings"><h2>Warnings</h2>')[1].split("</div>")[0]
    assert "short_probes" in warnings_box and "elementary_mathematics_test/22" in warnings_box

    out = run_cli("check", "code.jsonl", "-b", mmlu, "--report", "r10.json", "--min-question-chars", "10",
                  "--no-progress", cwd=code_corpus)
    assert out.returncode == 0, out.stderr
    left_out = json.loads((code_corpus / "r10.json").read_text("utf-8"))
    validate_report(left_out)
    section = left_out["benchmarks"][0]
    assert left_out["config"]["sample"]["min_question_chars"] == 10
    assert "elementary_mathematics_test/22" in section["too_short_ids"]
    assert "elementary_mathematics_test/22" not in section["clean_ids"] + section["contaminated_ids"]
    assert section["n_too_short"] == len(section["too_short_ids"]) > 0
    assert len(section["clean_ids"]) + section["n_contaminated"] + section["n_too_short"] == section["n_items"]
    short = next(it for it in section["items"] if it["id"] == "elementary_mathematics_test/22")
    assert short["too_short"] and short["n_probes"] == 0 and short["probes"] == []
    # the documents only the left-out items matched are no longer removed
    assert left_out["training"]["n_removed"] <= report["training"]["n_removed"] - alone
    assert not [w for w in left_out["warnings"] if w["kind"] == "short_probes"]


def test_many_rejected_rows_are_a_warning_and_no_accepted_row_is_an_error(tmp_path, run_cli):
    (tmp_path / "b.jsonl").write_text(json.dumps({"q": "What is the capital city of France, and why is it?"}) + "\n")
    rows = [{"text": f"row {i}"} if i % 10 else {"text": i} for i in range(100)]  # 10 of 100 rejected
    (tmp_path / "some.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = ["-b", "t=b.jsonl", "--question-field", "q", "--on-error", "skip", "--no-progress"]
    out = run_cli("check", "some.jsonl", *args, "--report", "r.json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    [warning] = json.loads((tmp_path / "r.json").read_text())["warnings"]
    assert warning["kind"] == "rejected_rows" and warning["n_rejected"] == 10 and warning["n_rows"] == 100
    assert "decontam: warning: 10 of 100 input rows (10.0%) were rejected" in out.stderr
    assert "rejected_rows" in run_cli("report", "r.json", cwd=tmp_path).stdout
    assert run_cli("report", "r.json", "-o", "r.html", cwd=tmp_path).returncode == 0
    assert '<li><strong>rejected_rows</strong>: 10 of 100 input rows (10.0%) were rejected' in \
        (tmp_path / "r.html").read_text("utf-8")
    (tmp_path / "none.jsonl").write_text("".join(json.dumps({"text": i}) + "\n" for i in range(5)))
    for corpus in (["none.jsonl"], ["some.jsonl", "none.jsonl"]):
        out = run_cli("filter", *corpus, *args, "-o", "out", "--report", "r2.json", cwd=tmp_path)
        assert out.returncode == 1, out.stderr
        assert "none.jsonl" in out.stderr and "no row" in out.stderr and "5 rejected" in out.stderr
        assert not (tmp_path / "out").exists() and not (tmp_path / "r2.json").exists()


_PEAK = ("import atexit, runpy, sys\n"
         "atexit.register(lambda: sys.stderr.write(''.join(l for l in open('/proc/self/status') "
         "if l.startswith('VmHWM'))))\n"
         "sys.argv = ['decontam'] + sys.argv[1:]\nrunpy.run_module('decontam', run_name='__main__')\n")


def _peak_mb(stderr: str) -> float:
    return int(next(line for line in stderr.splitlines() if line.startswith("VmHWM")).split()[1]) / 1024


def test_a_document_over_the_size_limit_is_refused_with_bounded_memory(tmp_path):
    """A gzip bomb of one long line stops at --max-doc-bytes, naming the line, with memory near the limit;
    shorter over-long lines are counted skips with --on-error skip; Parquet texts too."""
    import gzip
    import os
    import subprocess
    import sys

    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "b.jsonl").write_text(json.dumps({"q": "What is the capital city of France, and why is it?"}) + "\n")
    with gzip.open(tmp_path / "bomb.jsonl.gz", "wb", compresslevel=1) as fh:  # 160 MB of text in one line
        fh.write(b'{"text": "ok"}\n{"text": "')
        for _ in range(160):
            fh.write(b"a" * (1 << 20))
        fh.write(b'"}\n')
    args = ["-b", "t=b.jsonl", "--question-field", "q", "--no-progress", "--max-doc-bytes", "32M"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", _PEAK, "check", *extra, *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    small = run("b.jsonl")
    out = run("bomb.jsonl.gz")
    assert out.returncode == 1 and "bomb.jsonl.gz, line 2: a line longer than the maximum document size" in out.stderr
    assert "Traceback" not in out.stderr
    assert _peak_mb(out.stderr) < _peak_mb(small.stderr) + 32 * 4  # a few times the limit, not the line
    rows = [{"text": "short"}, {"text": "x" * 3000}, {"text": "also short"}]
    (tmp_path / "long.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pq.write_table(pa.table({"text": [r["text"] for r in rows]}), tmp_path / "long.parquet")
    for name in ("long.jsonl", "long.parquet"):
        res = subprocess.run([sys.executable, "-m", "decontam", "check", name, *args[:-1], "1K", "--report",
                              f"{name}.json", "--on-error", "skip"], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        report = json.loads((tmp_path / f"{name}.json").read_text())
        assert report["corpus"]["n_documents"] == 2 and report["config"]["max_doc_bytes"] == 1024
        [rejected] = report["corpus"]["rejected"]
        assert rejected["line"] == 2 and "longer than the maximum document size" in rejected["reason"]


def test_unreadable_folder_entries_are_errors_or_counted_skips_listed_in_the_report(tmp_path, run_cli,
                                                                                    validate_report):
    import os

    (tmp_path / "b.jsonl").write_text(json.dumps({"q": "What is the capital city of France, and why is it?"}) + "\n")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.jsonl").write_text(json.dumps({"text": "a row"}) + "\n")
    (corpus / "notes.txt").write_text("not data")
    (corpus / "README.md").write_text("documentation: ignored, as in a benchmark folder")
    os.symlink(tmp_path / "missing.jsonl", corpus / "gone.jsonl")
    args = ["corpus", "-b", "t=b.jsonl", "--question-field", "q", "--no-progress"]
    out = run_cli("check", *args, cwd=tmp_path)
    assert out.returncode == 1 and "gone.jsonl: a dangling symbolic link" in out.stderr
    out = run_cli("check", *args, "--on-error", "skip", "--report", "r.json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    validate_report(report)
    assert [Path(f["path"]).name for f in report["corpus"]["skipped_files"]] == ["gone.jsonl", "notes.txt"]
    assert report["corpus"]["n_skipped_files"] == 2 and report["corpus"]["n_documents"] == 1
    assert report["warnings"][0]["kind"] == "skipped_files" and "were not read" in out.stderr


def test_a_100000_deep_json_value_is_an_error_or_a_counted_skip_in_every_command(tmp_path, run_cli):
    """Never a RecursionError: corpus lines (read as the fast path reads them), benchmark files, reports,
    shard reports, results files."""
    deep = "[" * 100_000 + "]" * 100_000
    q = "What is the capital city of France, and why is it the capital city?"
    (tmp_path / "b.jsonl").write_text(json.dumps({"q": q}) + "\n")
    (tmp_path / "deepb.jsonl").write_text('{"q": "%s", "x": %s}\n' % (q, deep))
    (tmp_path / "c.jsonl").write_text('{"text": "a"}\n{"text": "%s", "x": %s}\n{"text": %s}\n' % (q, deep, deep))
    (tmp_path / "deep.json").write_text(deep)
    bench = ["-b", "t=b.jsonl", "--question-field", "q", "--no-progress"]
    out = run_cli("check", "c.jsonl", *bench, cwd=tmp_path)
    assert out.returncode == 1 and "c.jsonl, line 3" in out.stderr and "Traceback" not in out.stderr
    out = run_cli("filter", "c.jsonl", *bench, "--on-error", "skip", "-o", "o.jsonl", "--report", "r.json",
                  cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["training"]["n_removed"] == 1 and report["corpus"]["n_rejected"] == 1  # the deep line read
    for args in (["check", "c.jsonl", "-b", "t=deepb.jsonl", "--question-field", "q"], ["report", "deep.json"],
                 ["merge", "deep.json", "r.json", "-o", "m.json"], ["verify", "deep.json", "c.jsonl"],
                 ["rescore", "r.json", "--results", "deep.json"]):
        out = run_cli(*args, cwd=tmp_path)
        assert out.returncode == 1, (args, out.stderr)
        assert "deep" in out.stderr and "Traceback" not in out.stderr and "RecursionError" not in out.stderr
