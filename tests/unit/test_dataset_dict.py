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


@pytest.mark.parametrize("num_proc", [1, 2])
def test_a_dataset_read_from_files_gets_no_stale_result_and_no_file_beside_it(tmp_path, num_proc):
    """``Dataset.map`` caches by a key that left out the benchmark's name, which seeds its probes: the check of
    benchmark ``b`` got the cached result of benchmark ``a`` (one probe of ``a`` in the corpus, none of ``b``).
    Both now give what a list of the same texts gives, and neither a check nor a redaction writes a cache file
    inside the dataset's folder (an input)."""
    from decontam import sample_item

    question = " ".join(f"word{i} alpha beta gamma" for i in range(12))
    doc = sample_item("a", 1, question).probes[0]
    text = "before\n" * 300 + doc + "\n" + "after\n" * 300  # (long enough around the probe to be redacted, kept)
    datasets.Dataset.from_list([{"text": "clean"}, {"text": text}]).save_to_disk(tmp_path / "ds")
    before = sorted(p.name for p in (tmp_path / "ds").iterdir())
    ds = datasets.load_from_disk(str(tmp_path / "ds"))
    for name in ("a", "b", "a"):
        bench_ = [Benchmark.from_items(name, [Item(1, question)])]
        got = check(ds, bench_, progress=False, num_proc=num_proc).contaminated_ids(name)
        assert got == check(["clean", text], bench_, progress=False).contaminated_ids(name)
        assert got == ([1] if name == "a" else [])
    bench_ = [Benchmark.from_items("a", [Item(1, question)])]
    redacted = filter_dataset(ds, bench_, action="redact", progress=False, num_proc=num_proc)
    in_memory = datasets.Dataset.from_list([{"text": "clean"}, {"text": text}])
    assert redacted["text"] == filter_dataset(in_memory, bench_, action="redact", progress=False)["text"]
    assert len(redacted["text"]) == 2 and doc not in redacted["text"][1] and "before" in redacted["text"][1]
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == before
