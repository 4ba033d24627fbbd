"""``--probe-answers`` through the command line (issue 13 point 3), on real GSM8K, HumanEval and MBPP items.

A corpus quotes some items' questions, some answers (solutions), some both. ``check --probe-answers`` lists the
items whose answer is found (``answer_leak_ids``) and otherwise writes exactly the report of ``check``;
``filter --probe-answers`` also drops the rows holding an answer, counted apart; ``verify`` re-runs it (and
notices changed answers); ``index check --probe-answers`` gives the same report; a portrait refuses; ``rescore``
splits the score as OpenCompass does; the card and the page show the answers apart.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil

import pytest
from _reports import comparable, question_only

from decontam.normalize import normalize

GSM_Q, GSM_QA, GSM_A = 3, 10, 42  # question only; question and answer; answer only
MBPP_A = 11  # MBPP task_id whose code (its answer) is quoted alone


@pytest.fixture(scope="module")
def planted(tmp_path_factory, shared_benchmarks, run_cli):
    """A corpus with planted questions and answers, and the checks of it with and without --probe-answers."""
    root = tmp_path_factory.mktemp("answers")
    gsm = [json.loads(line) for line in (shared_benchmarks / "gsm8k" / "test.jsonl").read_text("utf-8").splitlines()]
    shutil.copyfile(shared_benchmarks / "gsm8k" / "test.jsonl", root / "gsm8k.jsonl")
    with gzip.open(shared_benchmarks / "humaneval" / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as fh:
        he = [json.loads(line) for line in fh]
    he_a = next(t for t in he if len(normalize(t["canonical_solution"])) >= 200)  # a solution long enough to probe
    mbpp = {r["task_id"]: r for r in map(json.loads, (shared_benchmarks / "mbpp" / "mbpp.jsonl").read_text("utf-8")
                                         .splitlines())}
    texts = [f"a forum post: {gsm[GSM_Q]['question']}",
             f"Q: {gsm[GSM_QA]['question']}\nA: {gsm[GSM_QA]['answer']}",
             f"worked example:\n{gsm[GSM_A]['answer']}",
             f"def helper():\n{he_a['canonical_solution']}",
             f"# snippet\n{mbpp[MBPP_A]['code']}",
             "nothing from any benchmark here"]
    (root / "corpus.jsonl").write_text("".join(json.dumps({"id": f"doc{k}", "text": t}) + "\n"
                                               for k, t in enumerate(texts)), encoding="utf-8")
    bench = ["-b", "gsm8k=gsm8k.jsonl", "-b", f"humaneval={shared_benchmarks / 'humaneval' / 'HumanEval.jsonl.gz'}",
             "-b", f"mbpp={shared_benchmarks / 'mbpp' / 'mbpp.jsonl'}"]
    for name, extra in (("off", []), ("on", ["--probe-answers"])):
        res = run_cli("check", "corpus.jsonl", *bench, *extra, "--report", f"{name}.json", cwd=root)
        assert res.returncode == 0, res.stderr
    reports = {name: json.loads((root / f"{name}.json").read_text("utf-8")) for name in ("off", "on")}
    return root, bench, reports, he_a["task_id"], res.stdout


def _section(report, name):
    return next(b for b in report["benchmarks"] if b["name"] == name)


def test_check_lists_answer_leaks_apart_and_the_rules_report_is_unchanged(planted, validate_report):
    _, _, reports, he_id, stdout = planted
    on, off = reports["on"], reports["off"]
    assert question_only(on) == off  # the GPT-4 rule's report, field for field
    assert _section(on, "gsm8k")["contaminated_ids"] == [GSM_Q, GSM_QA]
    assert _section(on, "gsm8k")["answer_leak_ids"] == [GSM_QA, GSM_A]
    # HumanEval/20's solution repeats HumanEval/0's double loop: a probe of HumanEval/0's answer is in it too (a
    # real substring: generic code is the limit of answer probes, docs/method.md)
    assert he_id == "HumanEval/20" and _section(on, "humaneval")["answer_leak_ids"] == ["HumanEval/0", he_id]
    assert _section(on, "mbpp")["answer_leak_ids"] == [MBPP_A]
    assert _section(on, "mbpp")["answer_field"] == "code" and _section(on, "humaneval")["answer_field"] == \
        "canonical_solution"
    gsm_item = _section(on, "gsm8k")["items"][GSM_A]
    assert {m["doc_id"] for m in gsm_item["answer_matches"]} == {"doc2"} and gsm_item["contaminated"] is False
    ev = gsm_item["answer_matches"][0]["evidence"]
    hs, he_ = ev["answer_highlight"]
    span = gsm_item["answer_matches"][0]["span"]  # the matched run, in the normalized answer
    assert normalize(gsm_item["answer"][hs:he_]) == normalize(gsm_item["answer"])[span[0]:span[1]]
    assert gsm_item["answer_matches"][0]["probe"] in normalize(gsm_item["answer"][hs:he_])
    assert on["training"]["n_removed"] == off["training"]["n_removed"] == 2
    assert on["training"]["n_removed_answer_only"] == 3 and on["training"]["n_kept"] == 1
    assert "Answer leaks" in stdout and "gsm8k: 2 item(s) whose answer is in the corpus (1 with the question too)" \
        in stdout
    validate_report(on)


def test_filter_drops_answer_rows_too_and_verify_reruns_the_check(planted, run_cli):
    root, bench, _, _, _ = planted
    res = run_cli("filter", "corpus.jsonl", *bench, "--probe-answers", "-o", "clean.jsonl", "--report", "f.json",
                  cwd=root)
    assert res.returncode == 0, res.stderr
    kept = [json.loads(line)["id"] for line in (root / "clean.jsonl").read_text("utf-8").splitlines()]
    assert kept == ["doc5"]
    plain = run_cli("filter", "corpus.jsonl", *bench, "-o", "plain.jsonl", cwd=root)
    assert plain.returncode == 0, plain.stderr
    assert [json.loads(line)["id"] for line in (root / "plain.jsonl").read_text("utf-8").splitlines()] == [
        "doc2", "doc3", "doc4", "doc5"]
    verified = run_cli("verify", "on.json", "corpus.jsonl", cwd=root)
    assert verified.returncode == 0 and "REPRODUCED" in verified.stdout, verified.stdout + verified.stderr
    card = run_cli("report", "on.json", cwd=root)
    assert "--probe-answers" in re.search(r"decontam check .*", card.stdout).group(0)
    # an answer changed in the benchmark file: verify says so
    rows = [json.loads(line) for line in (root / "gsm8k.jsonl").read_text("utf-8").splitlines()]
    rows[GSM_A]["answer"] = "a different worked answer, long enough to be probed by the sampler: 1 + 1 = 2"
    (root / "gsm8k-changed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    changed = run_cli("verify", "on.json", "corpus.jsonl", "-b", "gsm8k=gsm8k-changed.jsonl", cwd=root)
    assert changed.returncode == 1 and "its answers changed" in changed.stdout, changed.stdout


def test_custom_answer_field_and_its_misuse(planted, run_cli):
    root = planted[0]
    rows = [{"q": "Explain why the sky looks blue on a clear afternoon, in two sentences or fewer please.",
             "sol": "Sunlight scatters off air molecules, and short blue wavelengths scatter the most of all."},
            {"q": "Name the largest planet of the solar system and say what it is mostly made of, briefly.",
             "sol": "Jupiter"}]
    (root / "mine.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (root / "c2.jsonl").write_text(json.dumps({"text": "as we know: " + rows[0]["sol"]}) + "\n", encoding="utf-8")
    res = run_cli("check", "c2.jsonl", "-b", "mine=mine.jsonl", "--question-field", "q", "--answer-field", "mine=sol",
                  "--probe-answers", "--report", "mine.json", cwd=root)
    assert res.returncode == 0, res.stderr
    sec = json.loads((root / "mine.json").read_text("utf-8"))["benchmarks"][0]
    assert (sec["answer_field"], sec["answer_leak_ids"], sec["answers_not_probed_ids"]) == ("sol", [0], [1])
    assert sec["contaminated_ids"] == []
    verified = run_cli("verify", "mine.json", "c2.jsonl", cwd=root)  # the command rebuilt with --answer-field
    assert verified.returncode == 0, verified.stdout
    bad = run_cli("check", "c2.jsonl", "-b", "mine=mine.jsonl", "--question-field", "q", "--answer-field", "sol",
                  cwd=root)
    assert bad.returncode == 2 and "--answer-field is read only to probe answers: add --probe-answers" in bad.stderr
    assert "Traceback" not in bad.stderr
    missing = run_cli("check", "c2.jsonl", "-b", "mine=mine.jsonl", "--question-field", "q", "--answer-field",
                      "solution", "--probe-answers", cwd=root)
    assert missing.returncode != 0 and "mine.jsonl" in missing.stderr and "'solution'" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_index_check_probes_answers_and_a_portrait_refuses(planted, run_cli):
    root, bench, reports, _, _ = planted
    res = run_cli("index", "build", "corpus.jsonl", "-o", "ix", cwd=root)
    assert res.returncode == 0, res.stderr
    res = run_cli("index", "check", "ix", *bench, "--probe-answers", "--report", "ix.json", cwd=root)
    assert res.returncode == 0, res.stderr
    from_index = json.loads((root / "ix.json").read_text("utf-8"))
    on = comparable(reports["on"])
    mine = comparable(from_index)
    assert mine["benchmarks"] == on["benchmarks"]
    assert {k: v for k, v in mine["training"].items() if k != "by_source"} == \
        {k: v for k, v in on["training"].items() if k != "by_source"}
    res = run_cli("index", "portrait", "ix", "-o", "p.dcp", cwd=root)
    assert res.returncode == 0, res.stderr
    refused = run_cli("index", "check", "p.dcp", *bench, "--probe-answers", cwd=root)
    assert refused.returncode == 2 and "portrait cannot probe answers" in refused.stderr


def test_rescore_splits_three_ways_and_the_card_and_page_show_it(planted, run_cli):
    root, _, reports, _, _ = planted
    gsm = _section(reports["on"], "gsm8k")
    passed = {GSM_Q: 1, GSM_QA: 1, GSM_A: 0}
    (root / "scores.jsonl").write_text("".join(json.dumps({"id": it["id"], "correct": passed.get(it["id"], it["id"] % 2)})
                                               + "\n" for it in gsm["items"]), encoding="utf-8")
    res = run_cli("rescore", "on.json", "--benchmark", "gsm8k", "--results", "scores.jsonl", "--json", "rs.json",
                  cwd=root)
    assert res.returncode == 0, res.stderr
    split = json.loads((root / "rs.json").read_text("utf-8"))["leak_split"]
    n = len(gsm["items"])
    clean = [i for i in range(n) if i not in passed]
    assert (split["clean"]["n"], split["question_contaminated"]["n"], split["question_and_answer_contaminated"]["n"],
            split["answer_only"]["n"]) == (n - 3, 1, 1, 1)
    assert split["clean"]["mean"] == pytest.approx(sum(i % 2 for i in clean) / len(clean))
    assert split["answer_only"]["mean"] == 0.0
    assert "by leak (--probe-answers" in res.stdout and re.search(r"question and answer\s+1\s+1\.0000", res.stdout)
    card = run_cli("report", "on.json", "--scores", "rs.json", cwd=root)
    assert card.returncode == 0, card.stderr
    probed, unprobed = gsm["n_answers_probed"], gsm["n_answers_not_probed"]
    assert (probed, unprobed) == (1308, 11)  # 11 GSM8K answers are shorter than a probe once normalized
    assert f"| gsm8k | `answer` | {probed} | 2 | 1 | 1 | {unprobed} |" in card.stdout
    assert "## Items whose answer is in the corpus (--probe-answers)" in card.stdout
    assert re.search(r"\| gsm8k \| correct \| [0-9.]+ \(n=1316\) \| 1\.0000 \(n=1\) \| 1\.0000 \(n=1\) \| 0\.0000 \(n=1\) \|",
                     card.stdout)
    page = run_cli("report", "on.json", "--scores", "rs.json", "--format", "html", "-o", "on.html", cwd=root)
    assert page.returncode == 0, page.stderr
    html = (root / "on.html").read_text("utf-8")
    n_leaks = sum(b["n_answer_leaks"] for b in reports["on"]["benchmarks"])
    assert n_leaks == 5 and 'id="answer-leaks"' in html and html.count('class="card evidence answer"') == n_leaks
    assert 'class="leak-split"' in html and "<mark>" in html
