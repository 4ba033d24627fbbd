"""Results files in the formats evaluation harnesses write, for the rescore tests.

``tests/fixtures/harness/`` holds files the tools themselves wrote (lm-eval 0.4.13, lighteval 0.13.0 and
0.9.2, EvalPlus 0.3.1 and 0.2.0) on the toy items below; see its README.md. The writers here produce the same
formats for any items (e.g. a real benchmark's, for a check report), each following the tool's writing code
named in its docstring; ``tests/unit/test_rescore.py`` checks them against the tools' own files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "harness"

# The toy items of the fixture files (made up here; no benchmark's)
_WHO = [("Ada", "apples", "market"), ("Bruno", "marbles", "county fair"), ("Chiara", "stamps", "post office"),
        ("Dmitri", "kites", "beach shop")]
TOY_GSM = [((f"Toy problem {i}: {who} has {i} {what} and gets {i} more at the {where}. How many {what} does {who} "
             f"have after the visit to the {where}?"), f"{i} + {i} = {2 * i}\n#### {2 * i}")
           for i, (who, what, where) in enumerate(_WHO)]
TOY_MMLU = [f"Toy question {i}: {q}" for i, q in enumerate([
    "which bone of the imaginary Zorblax creature connects its third wing to the tail spine?",
    "what muscle lets the fictional river dragon close its gill flaps while diving deep?",
    "which organ filters the glowing blood of the made-up lantern moth after it feeds?",
    "where does the storybook giant keep the spare kneecap described in chapter nine?"])]
TOY_CODE = [("add", "a, b", "return a + b", [[1, 2], [0, 0]], [[5, 7], [-3, 3]]),
            ("double", "x", "return 2 * x", [[1], [4]], [[-2], [100]]),
            ("negate", "x", "return -x", [[1], [0]], [[-9], [12]]),
            ("last", "xs", "return xs[-1]", [[[1, 2]], [[3]]], [[[4, 5, 6]], [[0]]])]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_lm_eval_samples(path: Path, docs: Sequence[tuple[int, Mapping[str, Any], str]],
                          scores: Mapping[str, Sequence[float]], metric: str = "exact_match") -> Path:
    """An lm-eval ``--log_samples`` file: for each filter (in order), one line per document.

    Follows lm-eval 0.4.13: the ``example`` dict of ``lm_eval/evaluator.py`` (``evaluate``: ``doc_id``, ``doc``,
    ``target``, ``arguments``, ``resps``, ``filtered_resps``, ``filter``, ``metrics``, the three hashes, then
    the metric values) as ``EvaluationTracker.save_results_samples`` (``lm_eval/loggers/evaluation_tracker.py``)
    writes it: ``arguments`` as ``{"gen_args_0": {"arg_0": prompt, "arg_1": generation kwargs}}``, ``target``
    as a string, one ``json.dumps(..., ensure_ascii=False)`` per line.

    Args:
        path: Where to write (name it ``samples_<task>_<date>.jsonl`` as lm-eval does).
        docs: ``(doc_id, doc, prompt)`` per document.
        scores: ``filter name -> one score per document``.
        metric: The metric's name.
    """
    lines = []
    for flt, values in scores.items():
        for (doc_id, doc, prompt), value in zip(docs, values, strict=True):
            target = str(doc.get("answer", ""))
            example = {"doc_id": doc_id, "doc": dict(doc), "target": target,
                       "arguments": {"gen_args_0": {"arg_0": prompt, "arg_1": {"until": ["Question:"],
                                                                               "do_sample": False,
                                                                               "temperature": 0.0}}},
                       "resps": [["..."]], "filtered_resps": ["..."], "filter": flt, "metrics": [metric],
                       "doc_hash": _sha256(json.dumps(doc, indent=2, ensure_ascii=False)),
                       "prompt_hash": _sha256(prompt), "target_hash": _sha256(target), metric: float(value)}
            lines.append(json.dumps(example, ensure_ascii=False) + "\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


# asdict() of lighteval 0.13's Doc and ModelResponse (lighteval/tasks/requests.py, lighteval/models/model_output.py)
_DOC_013 = {"query": "", "choices": [], "gold_index": 0, "instruction": None, "images": None, "specific": None,
            "unconditioned_query": None, "original_query": None, "id": "", "task_name": "", "fewshot_samples": [],
            "sampling_methods": ["GENERATIVE"], "fewshot_sorting_class": None, "generation_size": 256,
            "stop_sequences": ["Question:"], "use_logits": False, "num_samples": 1, "generation_grammar": None}
_RESPONSE_013 = {"input": None, "input_tokens": [], "text": ["..."], "output_tokens": [],
                 "text_post_processed": ["..."], "reasonings": [], "logprobs": [], "argmax_logits_eq_gold": [],
                 "logits": None, "unconditioned_logprobs": None, "truncated_tokens_count": 0,
                 "padded_tokens_count": 0}
# asdict() of lighteval 0.9.2's DetailsLogger.Detail (lighteval/logging/info_loggers.py)
_DETAIL_09 = {"example": "", "instruction": "", "full_prompt": "", "num_effective_few_shots": 0,
              "num_asked_few_shots": 0, "predictions": [["..."]], "prediction_logits": [], "input_tokens": [],
              "cont_tokens": [], "truncated": [], "padded": [], "gold": ["..."], "pred_logits": [], "choices": [],
              "gold_index": [], "metrics": {}, "specifics": None}


def write_lighteval_details(path: Path, rows: Sequence[Mapping[str, Any]], version: str = "0.13") -> Path:
    """A lighteval details file (Parquet), one row per ``{"id", "query", "task_name", "metrics"}`` given.

    Follows ``EvaluationTracker.save`` / ``save_details`` (``lighteval/logging/evaluation_tracker.py``):
    ``Dataset.from_list([asdict(detail) ...])``, columns sorted, ``to_parquet``; and the ``Detail`` of
    ``lighteval/logging/info_loggers.py``:

    * ``"0.13"`` (0.11 and later): ``{"doc": asdict(Doc), "model_response": asdict(ModelResponse),
      "metric": {...}}``, ``doc.id`` the row of the evaluation split, ``doc.task_name`` e.g. ``gsm8k|0``;
    * ``"0.9"`` (0.8 to 0.10): flat fields ``example`` (the query), ``full_prompt``, ``predictions``,
      ``metrics``... and no id;
    * ``"0.6"`` (0.7 and older): the same, every value cast with ``str()`` first (lighteval 0.6.2's
      ``evaluation_tracker.py``: ``{k: str(v) for k, v in asdict(detail).items()}``).
    """
    from datasets import Dataset

    details = []
    for r in rows:
        if version == "0.13":
            doc = dict(_DOC_013, query=r["query"], id=str(r["id"]), task_name=r["task_name"])
            details.append({"doc": doc, "model_response": dict(_RESPONSE_013), "metric": dict(r["metrics"])})
        else:
            d = dict(_DETAIL_09, example=r["query"], full_prompt=r["query"], metrics=dict(r["metrics"]))
            details.append({k: str(v) for k, v in d.items()} if version == "0.6" else d)
    ds = Dataset.from_list(details)
    ds.select_columns(sorted(ds.column_names)).to_parquet(str(path))
    return path


def write_evalplus_results(path: Path, samples: Mapping[str, Sequence[tuple[str, str | None]]],
                           layout: str = "0.3") -> Path:
    """An EvalPlus ``eval_results.json``: ``task_id -> [(base_status, plus_status), ...]`` per sample.

    Follows ``evaluate`` in ``evalplus/evaluate.py``: ``{"date", "hash", "eval": {task_id: [{"task_id",
    "solution", "base_status", "plus_status", "base_fail_tests", "plus_fail_tests"}, ...]}}`` (``"0.3"``: 0.2.1
    and later; statuses ``pass``/``fail``/``timeout``), or ``{task_id: {"nfiles", "base": [[status, details],
    ...], "plus": [...]}}`` (``"0.2"``: 0.2.0 and older; statuses ``success``/``failed``/``timed out``), written
    with ``json.dump`` (one line).
    """
    ev: dict[str, Any] = {}
    for task_id, outcomes in samples.items():
        if layout == "0.3":
            ev[task_id] = [{"task_id": task_id, "solution": "def f():\n    pass\n", "base_status": b,
                            "plus_status": p, "base_fail_tests": [] if b == "pass" else [[1]],
                            "plus_fail_tests": [] if p == "pass" else [[1]]} for b, p in outcomes]
        else:
            ev[task_id] = {"nfiles": len(outcomes), "base": [[b, [1] if b == "success" else []] for b, _ in outcomes],
                           "plus": [[p, [1] if p == "success" else []] for _, p in outcomes if p is not None]}
    path.write_text(json.dumps({"date": "2025-06-01 12:30", "hash": "0" * 32, "eval": ev}), encoding="utf-8")
    return path
