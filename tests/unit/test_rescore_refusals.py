"""Results that ``rescore`` must refuse rather than score: the same documents twice, another benchmark's results,
a filter the files do not hold, scores that are not finite numbers, files with no records or a record with no id.

Every file is in the format the harness writes (``tests/fixtures/harness/``, written by the tools themselves, or
``tests/_harness.py``'s writers, checked against them in ``test_rescore.py``).
"""

from __future__ import annotations

import json
import shutil

import pytest
from _harness import FIXTURES, TOY_CODE, TOY_GSM, TOY_MMLU, write_lighteval_details, write_lm_eval_samples

from decontam import Benchmark, ConfigError, InputError, check
from decontam.config import DecontamConfig, SampleConfig
from decontam.results import QuestionFinder, load_results, load_results_by_filter, score_value

LM_GSM = FIXTURES / "lm-eval-0.4.13/samples_toy_gsm_2025-06-01T12-30-45.123456.jsonl"
LM_MMLU = FIXTURES / "lm-eval-0.4.13/samples_mmlu_anatomy_2025-06-01T12-30-45.123456.jsonl"
EVALPLUS_HE = FIXTURES / "evalplus-0.3.1/samples_eval_results.json"
EVALPLUS_MBPP = FIXTURES / "evalplus-0.3.1/mbpp_samples_eval_results.json"
OTHER = [  # questions of another benchmark (TruthfulQA-like), asked under the same row numbers
    "What happens to you if you eat watermelon seeds after midnight on a full moon in the summer?",
    "Why do veins appear blue when you look at them through the skin of your wrist on a sunny day?",
    "What is the spiciest part of a chili pepper according to the people who grow them for a living?",
    "How long should you wait before filing a missing person report when someone has not come home?"]


def _report(config: DecontamConfig | None = None) -> dict:
    """A real check of the toy items (GSM8K row numbers, MMLU ``anatomy_test/<row>``, HumanEval, MBPP 11-14)."""
    gsm = Benchmark.from_items("gsm8k", [(i, q) for i, (q, _) in enumerate(TOY_GSM)])
    mmlu = Benchmark.from_items("mmlu", [(f"anatomy_test/{i}", q) for i, q in enumerate(TOY_MMLU)])
    prompts = [f'def {name}({args}):\n    """Toy task {i}."""\n' for i, (name, args, *_) in enumerate(TOY_CODE)]
    he = Benchmark.from_items("humaneval", [(f"HumanEval/{i}", p) for i, p in enumerate(prompts)])
    mbpp = Benchmark.from_items("mbpp", [(i + 11, p) for i, p in enumerate(prompts)])
    corpus = [f"forum post: {TOY_GSM[1][0]}", f"quiz night: {TOY_MMLU[2]}"]
    return check(corpus, [gsm, mmlu, he, mbpp], config=config, progress=False).to_dict()


@pytest.fixture(scope="module")
def report() -> dict:
    return _report()


def _ids(report: dict, name: str) -> list:
    return [it["id"] for b in report["benchmarks"] if b["name"] == name for it in b["items"]]


def _gsm_docs(questions: list[str]) -> list[tuple[int, dict, str]]:
    return [(i, {"question": q, "answer": "#### 0"}, f"Question: {q}\nAnswer:") for i, q in enumerate(questions)]


# ------------------------------------------------------------------ 1. the same documents twice are not samples


def test_two_runs_of_one_lm_eval_task_are_refused_naming_both_places(tmp_path):
    first = shutil.copyfile(LM_GSM, tmp_path / "samples_toy_gsm_2025-06-01T12-30-45.123456.jsonl")
    second = shutil.copyfile(LM_GSM, tmp_path / "samples_toy_gsm_2025-07-01T09-00-00.000000.jsonl")
    with pytest.raises(InputError) as err:
        load_results_by_filter([first, second], [0, 1, 2, 3])
    msg = str(err.value)
    assert msg.startswith(f"{second}, line 1: ") and f"{first}, line 1" in msg, msg
    assert "strict-match" in msg and "once per filter" in msg and "one run" in msg, msg


def test_lm_eval_files_per_mmlu_subject_against_row_number_ids_are_refused(tmp_path):
    """``doc_id`` restarts at 0 in each subject's file: against a report whose MMLU ids are row numbers, the
    subjects' documents would be averaged as samples of one item."""
    anatomy = write_lm_eval_samples(tmp_path / "samples_mmlu_anatomy_2025-06-01T12-30-45.123456.jsonl",
                                    _gsm_docs(TOY_MMLU[:2]), {"none": [1.0, 0.0]}, "acc")
    astronomy = write_lm_eval_samples(tmp_path / "samples_mmlu_astronomy_2025-06-01T12-30-45.123456.jsonl",
                                      _gsm_docs(TOY_MMLU[2:]), {"none": [0.0, 1.0]}, "acc")
    rows = Benchmark.from_items("mmlu", list(enumerate(TOY_MMLU)))  # ids 0..3, as the hub's "all" config rows
    rep = check(["nothing"], [rows], progress=False).to_dict()
    with pytest.raises(InputError, match=r"astronomy.*line 1: .*anatomy.*line 1.*subject"):
        load_results([anatomy, astronomy], [0, 1, 2, 3], questions=QuestionFinder.from_report(rep, "mmlu"))


def test_a_lighteval_document_twice_is_refused(tmp_path):
    rows = [{"id": i % 2, "query": f"Question: {TOY_GSM[i % 2][0]}\nAnswer:", "task_name": "gsm8k|0",
             "metrics": {"em": 1.0}} for i in range(3)]
    path = write_lighteval_details(tmp_path / "details_gsm8k|0_2025-01-01T00-00-00.000000.parquet", rows)
    with pytest.raises(InputError, match=r"line 3: .*line 1"):
        load_results([path], [0, 1, 2, 3])


def test_the_same_file_given_twice_is_refused_whatever_its_format(tmp_path):
    rows = [{"task_id": "HumanEval/0", "completion": "x", "result": "passed", "passed": True}]
    he = tmp_path / "samples.jsonl_results.jsonl"
    he.write_text(json.dumps(rows[0]) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="given twice"):
        load_results([he, tmp_path / "." / he.name], ["HumanEval/0"])
    with pytest.raises(ConfigError, match="given twice"):
        load_results([LM_MMLU, LM_MMLU], [f"anatomy_test/{i}" for i in range(4)])


def test_formats_with_several_samples_per_item_still_average_them(report):
    he = load_results([EVALPLUS_HE], _ids(report, "humaneval"), benchmark="humaneval")
    assert he.scores["HumanEval/3"] == [1.0, 0.0]


# --------------------------------------------------------------------- 2. results of another benchmark


def test_lm_eval_samples_of_another_benchmark_are_refused(report, tmp_path):
    path = write_lm_eval_samples(tmp_path / "samples_truthfulqa_mc1_2025-06-02T10-00-00.000000.jsonl",
                                 _gsm_docs(OTHER), {"none": [1.0, 0.0, 1.0, 1.0]}, "acc")
    with pytest.raises(InputError) as err:
        load_results([path], _ids(report, "gsm8k"), questions=QuestionFinder.from_report(report, "gsm8k"))
    assert str(err.value).startswith(f"{path}: ") and "0 of 4" in str(err.value), str(err.value)


def test_lighteval_details_of_another_benchmark_are_refused(report, tmp_path):
    rows = [{"id": i, "query": f"Question: {q}\nAnswer:", "task_name": "truthfulqa|0", "metrics": {"em": 1.0}}
            for i, q in enumerate(OTHER)]
    path = write_lighteval_details(tmp_path / "details_truthfulqa|0_2025-01-01T00-00-00.000000.parquet", rows)
    with pytest.raises(InputError, match="0 of 4"):
        load_results([path], _ids(report, "gsm8k"), questions=QuestionFinder.from_report(report, "gsm8k"))


@pytest.mark.parametrize("config", [None, DecontamConfig(method="ngram13"),
                                    DecontamConfig(sample=SampleConfig(mode="all"))], ids=["gpt4", "ngram13", "all"])
def test_the_harness_files_of_the_reports_benchmark_pass_the_question_check(config):
    rep = _report(config)
    gsm = load_results_by_filter([LM_GSM], _ids(rep, "gsm8k"), questions=QuestionFinder.from_report(rep, "gsm8k"))
    assert [r.n_records for r in gsm] == [4, 4]
    mmlu = load_results([LM_MMLU], _ids(rep, "mmlu"), questions=QuestionFinder.from_report(rep, "mmlu"))
    assert mmlu.n_records == 4
    for name in ("gsm8k", "mmlu-anatomy"):
        res = load_results([FIXTURES / f"lighteval-0.13.0/details_{name}-0.parquet"], _ids(rep, name[:5].strip("-")),
                           questions=QuestionFinder.from_report(rep, name[:5].strip("-")))
        assert res.n_records == 4


def test_a_few_records_asking_other_questions_are_not_refused(report, tmp_path):
    """Only clear mismatches are refused: one record whose doc does not hold its item's question is scored."""
    questions = [q for q, _ in TOY_GSM[:3]] + [OTHER[3]]
    path = write_lm_eval_samples(tmp_path / "samples_gsm8k_2025-06-02T10-00-00.000000.jsonl", _gsm_docs(questions),
                                 {"none": [1.0, 0.0, 1.0, 1.0]})
    res = load_results([path], _ids(report, "gsm8k"), questions=QuestionFinder.from_report(report, "gsm8k"))
    assert res.n_records == 4


def test_evalplus_humaneval_results_are_not_joined_to_mbpp_numbers(tmp_path):
    """``HumanEval/N`` is not MBPP's ``task_id`` N: only ``Mbpp/`` is stripped."""
    mbpp_ids = list(range(1, 20))
    with pytest.raises(InputError, match=r"HumanEval/0.*mbpp"):
        load_results([EVALPLUS_HE], mbpp_ids, benchmark="mbpp")
    with pytest.raises(ConfigError, match="no id field"):  # the benchmark not said: no join either
        load_results([EVALPLUS_HE], mbpp_ids)
    with pytest.raises(InputError, match=r"Mbpp/11.*humaneval"):
        load_results([EVALPLUS_MBPP], [f"HumanEval/{i}" for i in range(20)], benchmark="humaneval")
    mbpp = load_results([EVALPLUS_MBPP], [11, 12, 13, 14], benchmark="mbpp")
    assert mbpp.id_source == "task_id number (Mbpp/2 -> 2)" and sorted(mbpp.scores) == ["11", "12", "13", "14"]


# ------------------------------------------------------------------------- 3. a filter the files do not hold


def test_a_filter_the_files_do_not_hold_is_an_error_naming_theirs(report, tmp_path):
    with pytest.raises(ConfigError, match=r"strict-match.*none"):  # one filter, another one asked for
        load_results_by_filter([LM_MMLU], _ids(report, "mmlu"), filter_name="strict-match")
    assert load_results([LM_MMLU], _ids(report, "mmlu"), filter_name="none").n_records == 4
    csv_path = tmp_path / "scores.csv"
    csv_path.write_text("id,score\n0,1\n1,0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"--filter.*no lm-eval filter"):
        load_results([csv_path], [0, 1], filter_name="strict-match")


# -------------------------------------------------------------------------- 4. scores that are not finite


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Infinity", "1e400"])
def test_non_finite_scores_are_not_scores(text):
    assert score_value(text) is None


def test_nan_and_inf_scores_are_errors_naming_file_line_and_field(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("id,score\n0,1\n1,nan\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"scores\.csv, line 3, field 'score': .*'nan'"):
        load_results([path], [0, 1])
    path = tmp_path / "scores.jsonl"
    path.write_text('{"id": 0, "score": 1}\n{"id": 1, "score": "inf"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"scores\.jsonl, line 2, field 'score': .*'inf'"):
        load_results([path], [0, 1])


# --------------------------------------------------------------------- 7. no records, a record without id


def test_an_empty_results_file_says_it_has_no_records(tmp_path):
    for name in ("samples_gsm8k_2025-06-01T00-00-00.jsonl", "empty.csv"):
        path = tmp_path / name
        path.write_text("" if name.endswith("jsonl") else "id,score\n", encoding="utf-8")
        with pytest.raises(InputError, match="no records") as err:
            load_results([path], [0, 1, 2, 3])
        assert "--id-field" not in str(err.value)


def test_a_record_without_its_id_among_others_is_named_by_its_line(tmp_path):
    lines = LM_GSM.read_text("utf-8").splitlines()
    broken = json.loads(lines[2])
    del broken["doc_id"]
    lines[2] = json.dumps(broken)
    path = tmp_path / LM_GSM.name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 3, field 'doc_id': .*no item id") as err:
        load_results_by_filter([path], [0, 1, 2, 3])
    assert "--id-field" not in str(err.value)
