"""decontam and its peers side by side, in one run, on the same corpus and the same benchmark questions.

    python benchmarks/peers/run_peers.py --mb 150                     # builds the corpus (as bench_filter.py)
    python benchmarks/peers/run_peers.py --corpus /tmp/dc/corpus.jsonl # or takes one (JSONL: id, text)

Run it with decontam's Python (the one `pip install -e '.[bench]'` set up). The peers run in their own venvs
(benchmarks/peers/setup_venvs.sh makes them, by default under /tmp/peers-venvs), each as a subprocess:

  decontam           `python -m decontam filter CORPUS -b humaneval=... -b mbpp=... -b gsm8k=... -o ... --report ...`
                     (the GPT-4 rule, defaults, one process); and again with `--lowercase --unescape`
  pyahocorasick      benchmarks/speed/bench_filter.py's reference, on decontam's probes (peer_aho.py)
  decon              AI2's decon, PyPI `decontaminate`, Python >= 3.12 (peer_decon.py)
  janitor            lm-evaluation-harness's `Janitor` (13-grams), pure Python as PyPI installs it (peer_janitor.py);
                     `--janitor-cpp janitor_util.cpp` also times its C++ helper, compiled as its README says
  datatrove          `NGramsDecontIndexer` + `NGramsDecontFilter`, LocalPipelineExecutor (peer_datatrove.py)

Benchmarks: HumanEval (prompt), MBPP (text), GSM8K test (question) from ../shared/benchmarks: 2,457 questions,
the question only (no answers, no solutions), the same text for every tool.

Planted cases (plant.py): real questions written into real documents of the corpus in several forms, each with its
expected outcome; every tool runs on the planted corpus. A flagged document that holds no planted case is a
false positive unless the oracle (plant.Oracle: every 50-character window of each question, compared after
undoing escapes, lowercasing and keeping only letters and digits) finds benchmark text in it.

Timing: wall time and CPU time (user + system of the subprocess and everything it waited for, threads included)
of each whole run, start-up and index building included; medians over --repeat rounds, the tools interleaved in
each round. A tool whose first run takes longer than --slow-seconds is timed on that one run only (said in the
table). "fixed s": the same run on a one-document corpus (start-up, imports, reading the questions, the index).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(HERE), str(HERE.parent / "speed")]

from common import BENCHMARKS, load_questions, read_jsonl  # noqa: E402
from plant import EXPECTED, FORMS, Oracle, candidate_hosts, cases_json, make_cases  # noqa: E402

SHARED = Path(os.environ.get("DECONTAM_SHARED_BENCHMARKS", REPO.parent / "shared" / "benchmarks"))
TOOLS = ["decontam", "decontam-lu", "pyahocorasick", "decon", "janitor", "janitor-cpp", "datatrove"]
LABEL = {
    "decontam": "decontam `filter` (GPT-4 rule, defaults)",
    "decontam-lu": "decontam `filter --lowercase --unescape`",
    "pyahocorasick": "pyahocorasick reference (bench_filter.py)",
    "decon": "AI2 decon (`decontaminate`)",
    "janitor": "lm-eval janitor, 13-grams (pure Python)",
    "janitor-cpp": "lm-eval janitor, 13-grams (C++ `janitor_util`)",
    "datatrove": "datatrove n-gram decont (12-grams)",
}
PACKAGE = {"decontam": "decontam", "decontam-lu": "decontam", "pyahocorasick": "pyahocorasick",
           "decon": "decontaminate", "janitor": "lm-eval", "janitor-cpp": "lm-eval", "datatrove": "datatrove"}
VENV = {"pyahocorasick": "aho", "decon": "decon", "janitor": "janitor", "janitor-cpp": "janitor",
        "datatrove": "datatrove"}


def run_timed(cmd: list[str], env: dict, log: Path) -> tuple[float, float, int]:
    """(wall s, CPU s, exit code) of one subprocess; its output goes to log."""
    with open(log, "wb") as out:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
    return wall, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)


class Runner:
    def __init__(self, args, corpus: Path, questions: Path, work: Path):
        self.args, self.corpus, self.questions, self.work = args, corpus, questions, work
        self.decontam_report: Path | None = None

    def python(self, tool: str) -> Path:
        return Path(sys.executable) if tool.startswith("decontam") else self.args.venvs / VENV[tool] / "bin" / "python"

    def available(self, tool: str) -> str | None:
        """None if the tool can run, else why not."""
        py = self.python(tool)
        if not py.exists():
            return f"no venv: {py} (run benchmarks/peers/setup_venvs.sh)"
        if tool == "janitor-cpp" and not self.args.janitor_cpp:
            return "not asked for (--janitor-cpp janitor_util.cpp)"
        return None

    def command(self, tool: str, corpus: Path, tag: str) -> tuple[list[str], dict, Path]:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        out = self.work / "runs" / f"{tool}-{tag}"
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        flags = out / "flags.json"
        if tool.startswith("decontam"):
            env["PYTHONPATH"] = str(REPO)
            cmd = [str(self.python(tool)), "-m", "decontam", "filter", str(corpus), "-o", str(out / "clean.jsonl"),
                   "--report", str(out / "report.json"), "--no-progress", "--num-proc", "1"]
            for name, (rel, _, _) in BENCHMARKS.items():
                cmd += ["-b", f"{name}={SHARED / rel}"]
            if tool == "decontam-lu":
                cmd += ["--lowercase", "--unescape"]
            return cmd, env, flags
        extra = ""
        if tool == "pyahocorasick":
            extra = str(self.decontam_report)
        if tool == "janitor-cpp":
            env["JANITOR_UTIL_DIR"] = str(self.work / "janitor_util")
            extra = "cpp"
        script = HERE / f"peer_{tool.split('-')[0].replace('pyahocorasick', 'aho')}.py"
        cmd = [str(self.python(tool)), str(script), "--corpus", str(corpus), "--questions", str(self.questions),
               "--out", str(flags), "--work", str(out), "--extra", extra]
        return cmd, env, flags

    def run(self, tool: str, corpus: Path, tag: str) -> dict:
        cmd, env, flags = self.command(tool, corpus, tag)
        log = flags.parent / "log.txt"
        wall, cpu, code = run_timed(cmd, env, log)
        res = {"wall": wall, "cpu": cpu, "code": code}
        if code != 0:
            tail = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
            res["error"] = (tail[-1] if tail else f"exit code {code}")[:300]
            return res
        if tool.startswith("decontam"):
            report = json.loads((flags.parent / "report.json").read_text())
            res["flagged"] = sorted({r["doc_id"] for r in report["training"]["removed"]})
            if tool == "decontam" and self.decontam_report is None:
                self.decontam_report = flags.parent / "report.json"
        else:
            got = json.loads(flags.read_text())
            res["flagged"], res["notes"] = got["flagged"], got.get("notes", {})
            if tool == "decon":  # decon prints how many eval lines its defaults leave out of the index
                m = re.search(r"Below minimum tokens\s+([\d,]+)", log.read_text(errors="replace"))
                res["notes"]["questions_below_min_tokens"] = int(m.group(1).replace(",", "")) if m else None
        return res


def version_of(py: Path, package: str) -> str:
    if package == "decontam":
        sys.path.insert(0, str(REPO))
        from decontam.version import __version__
        return __version__
    try:
        out = subprocess.run([str(py), "-c", f"import importlib.metadata as m; print(m.version('{package}'))"],
                             capture_output=True, text=True, timeout=60)
        return out.stdout.strip() or "?"
    except OSError:
        return "?"


def compile_janitor_util(src: Path, venv_py: Path, dest: Path) -> None:
    """The compile step of lm-eval's scripts/clean_training_data/README.md, in the janitor venv."""
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(venv_py), "-m", "pip", "install", "-q", "pybind11"], check=True)
    inc = subprocess.run([str(venv_py), "-m", "pybind11", "--includes"], capture_output=True, text=True,
                         check=True).stdout.split()
    suffix = subprocess.run([str(venv_py), "-c", "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"],
                            capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run(["c++", "-O3", "-Wall", "-shared", "-std=c++11", "-fPIC", *inc, str(src), "-o",
                    str(dest / f"janitor_util{suffix}")], check=True)


def build_or_take_corpus(args, work: Path) -> Path:
    if args.corpus:
        return args.corpus
    from bench_filter import build_corpus

    path = work / "source-corpus.jsonl"
    n, size = build_corpus(path, args.mb)
    print(f"built {path}: {n} documents, {size / 1e6:.1f} MB of text")
    return path


def fmt(x, nd=1):
    return "" if x is None else f"{x:,.{nd}f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, help="JSONL corpus (id, text) to take; default: build one of --mb MB")
    ap.add_argument("--mb", type=float, default=150, help="size of the corpus to build, MB of text (default 150)")
    ap.add_argument("--repeat", type=int, default=3, help="timing rounds; medians are quoted (default 3)")
    ap.add_argument("--slow-seconds", type=float, default=90,
                    help="a tool whose first run takes longer is timed on that run only (default 90)")
    ap.add_argument("--per-form", type=int, default=6, help="planted cases per form (default 6)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the choice of questions and host documents")
    ap.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated subset of {','.join(TOOLS)}")
    ap.add_argument("--venvs", type=Path, default=Path("/tmp/peers-venvs"), help="where setup_venvs.sh put the venvs")
    ap.add_argument("--janitor-cpp", type=Path, help="lm-eval's scripts/clean_training_data/janitor_util.cpp "
                                                     "(not in the PyPI package): also time the janitor's C++ helper")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/decontam-peers"))
    ap.add_argument("--json", type=Path, help="write all figures here (default WORKDIR/peers.json)")
    ap.add_argument("--markdown", type=Path, help="write the tables here (default WORKDIR/peers.md)")
    args = ap.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        raise SystemExit(f"unknown tools: {sorted(unknown)}; known: {TOOLS}")
    if "pyahocorasick" in tools and "decontam" not in tools:
        raise SystemExit("pyahocorasick uses decontam's probes: keep decontam in --tools")
    if not SHARED.is_dir():
        raise SystemExit(f"benchmark files not found at {SHARED}; set DECONTAM_SHARED_BENCHMARKS")
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)

    # ---- questions, corpus, planted cases
    questions = load_questions(SHARED)
    qfile = work / "questions.jsonl"
    qfile.write_text("".join(json.dumps(q) + "\n" for q in questions))
    source = build_or_take_corpus(args, work)
    docs = list(read_jsonl(source))
    oracle = Oracle(questions)
    corpus = work / "planted" / "corpus.jsonl"
    corpus.parent.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()
    runner = Runner(args, corpus, qfile, work)
    skipped = {t: why for t in tools if (why := runner.available(t))}
    if "janitor-cpp" in tools and "janitor-cpp" not in skipped:
        try:
            compile_janitor_util(args.janitor_cpp, runner.python("janitor-cpp"), work / "janitor_util")
        except (subprocess.CalledProcessError, OSError) as e:
            skipped["janitor-cpp"] = f"compiling janitor_util failed: {e}"
    active = [t for t in tools if t not in skipped]

    # Host documents: candidates that hold no benchmark text (oracle) and that no tool flags before planting, so
    # that a planted case is found or missed for what was planted, not for what its host already held.
    n_cases = args.per_form * len(FORMS)
    candidates = candidate_hosts(docs, oracle, args.seed, 5 * n_cases)
    cand_file = work / "planted" / "host-candidates.jsonl"
    cand_file.write_text("".join(json.dumps({"id": d["id"], "text": d["text"]}) + "\n" for d in candidates))
    before: dict[str, list[str]] = {}
    for t in active:
        r = runner.run(t, cand_file, "hosts")
        before[t] = r.get("flagged", [])
        print(f"before planting, {t} flags {len(before[t])} of {len(candidates)} candidate hosts"
              + (f" (FAILED: {r['error']})" if r.get("error") else ""), flush=True)
    flagged_before = {d for v in before.values() for d in v}
    hosts = [d for d in candidates if d["id"] not in flagged_before]
    cases, new_text = make_cases(questions, hosts, args.per_form, args.seed)
    text_bytes = 0
    with open(corpus, "w", encoding="utf-8") as out:
        for d in docs:
            text = new_text.get(d["id"], d["text"])
            text_bytes += len(text.encode("utf-8"))
            out.write(json.dumps({"id": d["id"], "text": text}) + "\n")
    (work / "cases.json").write_text(json.dumps(cases_json(cases), indent=1))
    # Self-check of the oracle: it should see benchmark text in the planted documents (all forms but the
    # controls; a half question shorter than 50 letters and digits is beyond it) and none in the controls.
    oracle_check = {f: sum(oracle.holds(new_text[c.doc_id]) is not None for c in cases if c.form == f) for f in FORMS}
    tiny = work / "planted" / "tiny.jsonl"
    tiny.write_text(json.dumps({"id": "tiny", "text": "def f():\n    return 1\n"}) + "\n")
    mb = text_bytes / 1e6
    print(f"corpus: {len(docs)} documents, {mb:.1f} MB of text; {len(questions)} questions; {len(cases)} planted cases",
          flush=True)
    del docs, candidates

    # ---- runs: round 0 gives the flags; the tools interleaved in each round
    runs: dict[str, list[dict]] = {t: [] for t in active}
    for rnd in range(args.repeat):
        for t in active:
            if rnd > 0 and (runs[t][0].get("error") or runs[t][0]["wall"] > args.slow_seconds):
                continue
            r = runner.run(t, corpus, f"r{rnd}")
            runs[t].append(r)
            print(f"round {rnd} {t}: {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU"
                  + (f", {len(r['flagged'])} flagged" if "flagged" in r else f", FAILED: {r.get('error')}"), flush=True)
    fixed = {}
    for t in active:
        if not runs[t][0].get("error"):
            fixed[t] = runner.run(t, tiny, "tiny")
            print(f"fixed {t}: {fixed[t]['wall']:.2f} s", flush=True)

    # ---- scoring
    planted = {c.doc_id: c for c in cases}
    positives = [c for c in cases if c.expected == "flag"]
    controls = [c for c in cases if c.expected == "no flag"]
    text_of: dict[str, str] = {}
    need = {d for t in active for r in runs[t][:1] for d in r.get("flagged", []) if d not in planted}
    if need:
        for row in read_jsonl(corpus):
            if row["id"] in need:
                text_of[row["id"]] = row["text"]
    genuine = {d: oracle.holds(text_of[d]) for d in need}
    results = []
    for t in tools:
        row = {"tool": t, "label": LABEL[t], "package": PACKAGE[t],
               "version": version_of(runner.python(t), PACKAGE[t]) if t not in skipped else None}
        if t in skipped:
            row["error"] = skipped[t]
            results.append(row)
            continue
        first = runs[t][0]
        if first.get("error"):
            row["error"] = first["error"]
            results.append(row)
            continue
        ok = [r for r in runs[t] if not r.get("error")]
        flagged = set(first["flagged"])
        wall, cpu = statistics.median(r["wall"] for r in ok), statistics.median(r["cpu"] for r in ok)
        fp = sorted(d for d in flagged if d not in planted and not genuine[d])
        row.update({
            "runs": len(ok), "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "walls": [round(r["wall"], 2) for r in ok],
            "mb_s": round(mb / wall, 2), "mb_per_cpu_s": round(mb / cpu, 2),
            "fixed_s": round(fixed[t]["wall"], 2) if t in fixed and not fixed[t].get("error") else None,
            "same_flags_every_run": all(set(r["flagged"]) == flagged for r in ok),
            "flagged": len(flagged),
            "planted_found": sum(c.doc_id in flagged for c in positives),
            "planted_missed": sum(c.doc_id not in flagged for c in positives),
            "controls_flagged": sum(c.doc_id in flagged for c in controls),
            "genuine_unplanted": sum(1 for d in flagged if d not in planted and genuine[d]),
            "false_positives": len(fp),
            "false_positive_examples": fp[:10],
            "by_form": {f: sum(c.doc_id in flagged for c in cases if c.form == f) for f in FORMS},
            "missed_cases": [f"{c.form}: {c.benchmark}/{c.item_id}" for c in positives if c.doc_id not in flagged],
            "notes": first.get("notes", {}),
        })
        results.append(row)

    stamp = {
        "commit": subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True).stdout.strip(),
        "dirty": bool(subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "decontam"],
                                     capture_output=True, text=True).stdout.strip()),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="minutes"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "python": platform.python_version(),
        "corpus": {"source": str(source), "documents": sum(1 for _ in open(corpus, "rb")), "text_mb": round(mb, 1),
                   "file_mb": round(corpus.stat().st_size / 1e6, 1)},
        "questions": {b: sum(q["benchmark"] == b for q in questions) for b in BENCHMARKS},
        "planted": {"cases": len(cases), "positives": len(positives), "controls": len(controls),
                    "per_form": args.per_form, "seed": args.seed},
        "repeat": args.repeat, "slow_seconds": args.slow_seconds,
        "host_candidates": {"documents": sum(1 for _ in open(cand_file, "rb")),
                            "flagged_before_planting": {t: len(v) for t, v in before.items()}},
        "oracle_on_planted": oracle_check,
        "load_average_1min": {"start": round(load_start[0], 2), "end": round(os.getloadavg()[0], 2)},
    }
    md = markdown(stamp, results, cases)
    out_json = args.json or work / "peers.json"
    out_md = args.markdown or work / "peers.md"
    out_json.write_text(json.dumps({"stamp": stamp, "results": results, "forms": FORMS, "expected": EXPECTED,
                                    "cases": cases_json(cases)}, indent=1) + "\n")
    out_md.write_text(md)
    print(md)
    print(f"wrote {out_json} and {out_md}")


def markdown(stamp: dict, results: list[dict], cases) -> str:
    n_pos, n_ctl = stamp["planted"]["positives"], stamp["planted"]["controls"]
    c = stamp["corpus"]
    lines = [
        f"Commit `{stamp['commit']}`{' (decontam/ modified)' if stamp['dirty'] else ''}, {stamp['date']}, "
        f"{stamp['machine']}, Python {stamp['python']} (decontam). Corpus: {c['documents']:,} documents, "
        f"{c['text_mb']} MB of text ({c['file_mb']} MB of JSONL), {n_pos + n_ctl} of them with a planted case. "
        f"Questions: " + ", ".join(f"{b} {n:,}" for b, n in stamp["questions"].items())
        + f" ({sum(stamp['questions'].values()):,}). Medians of up to {stamp['repeat']} runs; MB/s = MB of text / "
        f"wall time of the whole run. Load average (1 min) {stamp['load_average_1min']['start']} at the start, "
        f"{stamp['load_average_1min']['end']} at the end (this run alone keeps it near 1; more means other work shared the 2 cores). "
        "These VMs drift by tens of percent within an hour: compare within one run. Host documents: "
        f"{stamp['host_candidates']['documents']} candidates (2-20 KB, no benchmark text); those that any tool flagged "
        "before planting were not used (" + ", ".join(f"{t} {n}" for t, n in
                                                     stamp['host_candidates']['flagged_before_planting'].items()) + ").",
        "",
        f"| tool | version | runs | wall s | MB/s | MB per CPU-s | fixed s | docs flagged | planted found (of {n_pos}) "
        f"| missed | controls flagged (of {n_ctl}) | false-positive docs | other docs with benchmark text |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['label']} | {r.get('version') or ''} | could not run: {r['error']} "
                         "| | | | | | | | | | |")
            continue
        lines.append(
            f"| {r['label']} | {r['version']} | {r['runs']} | {fmt(r['wall_s'], 2)} | **{fmt(r['mb_s'], 2)}** "
            f"| {fmt(r['mb_per_cpu_s'], 2)} | {fmt(r['fixed_s'], 2)} | {r['flagged']:,} | {r['planted_found']} "
            f"| {r['planted_missed']} | {r['controls_flagged']} | {r['false_positives']:,} | {r['genuine_unplanted']} |")
    ok = [r for r in results if "error" not in r]
    lines += ["", "Planted cases found, by form (expected: every one flagged, except the controls):", "",
              "| form | cases | " + " | ".join(r["tool"] for r in ok) + " |",
              "| --- | ---: | " + " | ".join("---:" for _ in ok) + " |"]
    for f in FORMS:
        n = sum(1 for cc in cases if cc.form == f)
        lines.append(f"| {f} ({EXPECTED[f]}) | {n} | " + " | ".join(str(r["by_form"][f]) for r in ok) + " |")
    lines += ["", "The oracle's self-check (planted documents in which it sees benchmark text): "
              + ", ".join(f"{f} {n}" for f, n in stamp["oracle_on_planted"].items()) + "."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
