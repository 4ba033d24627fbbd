"""``datasets.DatasetDict`` in, ``DatasetDict`` out: every split filtered, one report with per-split counts.

The expectation for each split is that split filtered on its own (itself held to the oracle in
``test_filter.py``); the one report is the merge of the per-split reports, as ``decontam merge`` makes it.
"""

from __future__ import annotations

import datasets
import pytest

from decontam import check, filter_dataset
from decontam.benchmarks import Benchmark, Item
from decontam.errors import InputError
from decontam.report import merge_reports

Q = "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May."
Q2 = "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting."


def bench() -> Benchmark:
    return Benchmark.from_items("demo", [Item("q0", Q), Item("q1", Q2), Item("q2", "never seen anywhere at all")])


def splits() -> datasets.DatasetDict:
    return datasets.DatasetDict({
        "train": datasets.Dataset.from_dict({"text": ["clean", "leak: " + Q, "more clean", Q2 + " again"],
                                             "n": [0, 1, 2, 3]}),
        "validation": datasets.Dataset.from_dict({"text": ["x " + Q2, "fine"], "n": [10, 11]}),
        "test": datasets.Dataset.from_dict({"text": ["nothing"], "n": [20]}),
    })


def test_every_split_is_filtered_and_one_report_counts_each():
    dd = splits()
    out, report = filter_dataset(dd, [bench()], return_report=True, progress=False)
    assert isinstance(out, datasets.DatasetDict) and list(out) == ["train", "validation", "test"]
    assert out["train"]["n"] == [0, 2] and out["validation"]["n"] == [11] and out["test"]["n"] == [20]
    assert out["train"].column_names == ["text", "n"]
    by_source = report.data["training"]["by_source"]
    assert [(s["source"], s["n_documents"], s["n_removed"], s["n_kept"], s["n_rejected"]) for s in by_source] == [
        ("<dataset:train>", 4, 2, 2, 0), ("<dataset:validation>", 2, 1, 1, 0), ("<dataset:test>", 1, 0, 1, 0)]
    assert report.data["corpus"]["sources"] == ["<dataset:train>", "<dataset:validation>", "<dataset:test>"]
    assert report.contaminated_ids("demo") == ["q0", "q1"]
    from decontam.render import to_card

    assert "| `<dataset:train>` | 4 | 2 | 2 | 0 |" in to_card(report.to_dict())
    assert "- `<dataset:validation>`: 1 of 2" in report.to_markdown()
    # the report is the merge of the splits' own reports, each split filtered alone
    parts = []
    for split, ds in dd.items():
        alone, part = filter_dataset(ds, [bench()], return_report=True, progress=False)
        assert alone["n"] == out[split]["n"]
        parts.append(part.to_dict())
    merged = merge_reports(parts)
    for key in ("benchmarks", "warnings"):
        assert report.data[key] == merged[key]
    assert report.data["corpus"]["fingerprint"] == merged["corpus"]["fingerprint"]
    assert [m["row"] for m in report.data["training"]["removed"]] == [1, 3, 4]  # corpus-wide, splits in order
    # check reads the same splits and says the same
    checked = check(dd, [bench()], progress=False)
    assert checked.data["benchmarks"] == report.data["benchmarks"]
    assert checked.data["training"]["by_source"] == by_source


def test_iterable_dataset_dicts_are_filtered_lazily_and_the_report_fills_in_once_every_split_is_read():
    dd = splits()
    lazy, report = filter_dataset(dd.to_iterable_dataset() if hasattr(dd, "to_iterable_dataset") else
                                  datasets.IterableDatasetDict({k: v.to_iterable_dataset() for k, v in dd.items()}),
                                  [bench()], return_report=True, progress=False)
    assert isinstance(lazy, datasets.IterableDatasetDict)
    assert report.data == {}
    assert [r["n"] for r in lazy["train"]] == [0, 2]
    assert report.data == {}  # not every split read yet
    assert [r["n"] for r in lazy["validation"]] == [11] and [r["n"] for r in lazy["test"]] == [20]
    eager = filter_dataset(dd, [bench()], return_report=True, progress=False)[1]
    assert report.data["benchmarks"] == eager.data["benchmarks"]
    assert [s["source"] for s in report.data["training"]["by_source"]] == [
        "<iterable dataset:train>", "<iterable dataset:validation>", "<iterable dataset:test>"]


def test_a_bad_row_names_its_split():
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": ["a"]}),
                               "test": datasets.Dataset.from_dict({"text": ["a", None]})})
    with pytest.raises(InputError) as err:
        filter_dataset(dd, [bench()], progress=False)
    assert err.value.path == "<dataset:test>" and err.value.line == 2
    out, report = filter_dataset(dd, [bench()], on_error="skip", return_report=True, progress=False)
    assert out["test"].num_rows == 1
    assert report.data["corpus"]["rejected"][0]["source"] == "<dataset:test>"
    assert report.data["training"]["by_source"][1]["n_rejected"] == 1
