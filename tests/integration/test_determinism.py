"""Determinism across processes: the same inputs give byte-identical reports and outputs in separate
processes, whatever the hash seed (``PYTHONHASHSEED``) and the number of workers (one process, one file per
worker, batches of fewer files than workers), and the same benchmark fingerprint on every run."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

Q1 = "Write a function that returns the largest prime factor of a positive integer n greater than one."
Q2 = "Natalia sold clips to forty-eight of her friends in April, and then she sold half as many in May."
Q3 = "Élodie a acheté trois baguettes et deux croissants à la boulangerie près de la gare ce matin."
RUNS = [("0", 1), ("4242", 2), ("99", 4)]  # (PYTHONHASHSEED, --num-proc): serial, per file, per batch


def _corpus(folder: Path) -> None:
    """Three files (one gzipped) of real-ish rows: ids and no ids, non-ASCII text, leaks, a malformed row."""
    folder.mkdir()
    rows_a = [{"id": f"a{i}", "text": f"row {i} " + (Q1 if i == 7 else "def f(x):\n    return x * 2")}
              for i in range(40)]
    rows_b = [{"text": ("préambule " + Q3 if i == 3 else f"texte numéro {i} ünïcödé")} for i in range(30)]
    rows_c = [{"id": i, "text": ("Story: " + Q2 + " More." if i % 11 == 5 else f"plain {i}")} for i in range(50)]
    (folder / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows_a) + '{"id": "bad", "text": 5}\n')
    with gzip.open(folder / "b.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows_b))
    (folder / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows_c))


def _run(args: list[str], cwd: Path, seed: str) -> None:
    env = dict(os.environ, PYTHONHASHSEED=seed, HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, "-m", "decontam", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def _digest(path: Path) -> str:
    if path.is_dir():
        return hashlib.sha256(b"".join(p.relative_to(path).as_posix().encode() + b"\0" + p.read_bytes()
                                       for p in sorted(path.rglob("*")) if p.is_file())).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_reports_and_outputs_are_byte_identical_across_processes_seeds_and_workers(tmp_path):
    _corpus(tmp_path / "corpus")
    (tmp_path / "bench.jsonl").write_text("".join(json.dumps({"id": f"q{i}", "question": q}) + "\n"
                                                  for i, q in enumerate([Q1, Q2, Q3, "short one"])))
    common = ["-b", "mine=bench.jsonl", "--question-field", "question", "--item-id-field", "id",
              "--on-error", "skip", "--no-progress"]
    seen: dict[str, set[str]] = {}
    for seed, n in RUNS:
        for mode in ("sample", "all"):
            probes = ["--probes", "all"] if mode == "all" else []
            _run(["check", "corpus", *common, *probes, "--num-proc", str(n), "--report", f"check-{mode}-{n}.json"],
                 tmp_path, seed)
            seen.setdefault(f"check-{mode}", set()).add(_digest(tmp_path / f"check-{mode}-{n}.json"))
        _run(["filter", "corpus", *common, "--num-proc", str(n), "-o", f"out-{n}", "--report", f"filter-{n}.json"],
             tmp_path, seed)
        seen.setdefault("filter report", set()).add(_digest(tmp_path / f"filter-{n}.json"))
        seen.setdefault("filter output", set()).add(_digest(tmp_path / f"out-{n}"))
    assert {name: len(digests) for name, digests in seen.items()} == dict.fromkeys(seen, 1)
    report = json.loads((tmp_path / "check-sample-1.json").read_text("utf-8"))
    # the runs found what was planted (so identical reports are not identical empty ones)
    assert report["benchmarks"][0]["contaminated_ids"] == ["q0", "q1", "q2"]
    assert report["corpus"]["n_rejected"] == 1


def test_benchmark_fingerprint_is_the_same_in_every_process(shared_benchmarks):
    """The fingerprint of a real file, computed in processes with different hash seeds, is the published
    definition (sha256 of ``json.dumps([[id, question], ...], ensure_ascii=False)``), pinned here: a change of
    definition would make every published report unverifiable."""
    path = shared_benchmarks / "gsm8k" / "test.jsonl"
    code = "import sys; from decontam.benchmarks import load_benchmark; print(load_benchmark('gsm8k', sys.argv[1]).fingerprint)"
    got = set()
    for seed in ("0", "1", "31337"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True,
                             check=True)
        got.add(out.stdout.strip())
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    definition = hashlib.sha256(json.dumps([[i, r["question"]] for i, r in enumerate(rows)],
                                           ensure_ascii=False).encode("utf-8")).hexdigest()
    assert got == {f"sha256:{definition}"}

