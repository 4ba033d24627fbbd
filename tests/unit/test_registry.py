"""Tests of decontam.registry: every registry benchmark read offline from a file in its authors' published format.

The fixtures (``tests/fixtures/benchmarks/<name>/<example file>``) are tiny made-up items written in each
benchmark's published layout: same file type, nesting, field names and header (GPQA's full CSV header, MMLU's
header-less CSV, SQuAD's nested ``data/paragraphs/qas``, one JSON file per MATH problem...), never copies of the
data. The source each layout was checked against is cited beside its entry in ``decontam/registry.py``. The
MMLU-Pro Parquet fixture was written with ``pyarrow.parquet.write_table`` from the rows shown in
``test_fixture_items`` (its schema: question_id int64, question, options list<string>, answer, answer_index
int64, cot_content, category, src).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from decontam import benchmarks, load_benchmark
from decontam.benchmark_files import Layout, json_path_steps, local_files, read_table
from decontam.benchmarks import field_value
from decontam.cli import main
from decontam.errors import InputError
from decontam.registry import EXAMPLE_FILE, HUB_QUESTION_FIELD, REGISTRY, BenchmarkSpec

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "benchmarks"
_MISSING = object()


def fixture(name: str) -> Path:
    """The fixture of registry benchmark ``name``: its example file, under ``fixtures/benchmarks/<name>/``."""
    return FIXTURES / name / REGISTRY[name].example_file


def raw_records(spec: BenchmarkSpec, path: Path) -> list[Any]:
    """The records of a benchmark file or folder, read with its published layout (what items are built from)."""
    _root, files = local_files(path)
    return [row for file in files for _, row in read_table(file, Layout(spec.json_items, spec.csv_columns)).records]


def string_leaves(value: Any) -> list[str]:
    """Every string inside a value (a field holding text, a list of choices, an answer object...)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in string_leaves(v)]
    if isinstance(value, list):
        return [s for v in value for s in string_leaves(v)]
    return []


# (description, registry name, expected items (id, question), fields holding choices: none may leak in)
CASES = [
    ("gzipped JSONL, string ids", "humaneval", [
        ("HumanEval/0", ('\n\ndef add_three(x: int) -> int:\n    """ Return the number given plus three.\n'
                        '    >>> add_three(1)\n    4\n    """\n')),
        ("HumanEval/1", ("\n\ndef shout(word: str) -> str:\n    \"\"\" Return the word in capital letters, then an "
                        "exclamation mark.\n    >>> shout('hey')\n    'HEY!'\n    \"\"\"\n")),
    ], []),
    ("gzipped JSONL release asset", "humaneval-plus", [
        ("HumanEval/0", ('\n\ndef halve_all(xs: list) -> list:\n    """ Halve every number of the list.\n'
                        '    >>> halve_all([2, 4])\n    [1.0, 2.0]\n    """\n')),
        ("HumanEval/1", ('\n\ndef last_word(s: str) -> str:\n    """ Return the last word of a sentence of words '
                        'separated by single spaces.\n    """\n')),
    ], []),
    ("JSONL, integer ids", "mbpp", [
        (11, "Write a function to count the vowels in a given string."),
        (12, "Write a python function to return the largest of three integers."),
    ], ["test_list"]),
    ("gzipped JSONL, prompt with its first test", "mbpp-plus", [
        ("Mbpp/2", ('"""\nWrite a function to find the items two lists share.\n'
                   'assert set(shared_items([1, 2], [2, 3])) == set([2])\n"""\n')),
        ("Mbpp/3", '"""\nWrite a python function to tell whether a number is odd.\nassert is_odd(7) == True\n"""\n'),
    ], []),
    ("JSONL, row-number ids", "gsm8k", [
        (0, "Mira has 4 boxes with 6 pencils each. She gives away 5 pencils. How many pencils does she keep?"),
        (1, "A bus carries 30 people and 12 get off at the first stop. How many are still on the bus?"),
    ], []),
    ("JSONL, the perturbed question (not seed_question)", "gsm-plus", [
        (0, "Mira has 5 boxes with 6 pencils each. She gives away 5 pencils. How many pencils does she keep?"),
        (1, ("Mira has 4 boxes with 6 pencils each, and her shelf is painted blue. She gives away 5 pencils. "
            "How many pencils does she keep?")),
    ], ["seed_solution"]),
    ("one JSON object per file, ids from the paths", "math", [
        ("algebra/1", "If $3x + 2 = 11$, what is the value of $x$?"),
        ("algebra/25", "What is the sum of the roots of $x^2 - 7x + 10 = 0$?"),
        ("geometry/7", "A square has a perimeter of 20 units. What is its area, in square units?"),
    ], []),
    ("JSONL, unique_id paths as ids", "math-500", [
        ("test/number_theory/1001.json", "What is the remainder when $2^{10}$ is divided by 7?"),
        ("test/algebra/2002.json", "Simplify $\\sqrt{50} - \\sqrt{8}$."),
    ], []),
    ("CSV with the full published header, a multi-line question", "gpqa", [
        ("recFIXTURE0000001", ("A gas at 300 K is heated at constant pressure until its volume doubles.\n"
                              "What is its final temperature, in kelvin?")),
        ("recFIXTURE0000002", "Which organelle, made up for this fixture, stores the cell's glitter?"),
    ], ["Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3", "Explanation"]),
    ("header-less CSVs in a folder", "mmlu", [
        ("astronomy_test/0", "Which made-up planet in this fixture has three moons, one of them square?"),
        ("astronomy_test/1", "How many sides does the fixture's favourite polygon, a hexagon, have?"),
        ("virology_test/0", 'In this made-up question, what colour is the imaginary virus, the "azure drifter"?'),
    ], ["A", "B", "C", "D"]),
    ("Parquet, options excluded", "mmlu-pro", [
        (70, "Which of these made-up metals melts first in the fixture's furnace?"),
        (71, "A made-up firm sells 3 gadgets at $4 each. What is its revenue?"),
    ], ["options", "cot_content"]),
    ("a JSON file per task, examples in a list", "bbh", [
        ("boolean_expressions/0", "not ( True ) and ( True ) is"),
        ("boolean_expressions/1", "not not ( not ( False ) ) is"),
        ("multistep_arithmetic_two/0", "((3 + 4) * 2 - (5 - 9)) ="),
        ("word_sorting/0", "Sort the following words alphabetically: List: pear fig apple"),
    ], []),
    ("JSON keyed by passage, questions nested", "drop", [
        ("00000000-fixture-0000-0000-000000000001", "How many field goals did the Otters kick?"),
        ("00000000-fixture-0000-0000-000000000002", "Which team scored a touchdown?"),
        ("00000000-fixture-0000-0000-000000000003", "How many years after it was founded was Brindle walled?"),
    ], ["validated_answers"]),
    ("JSONL, integer keys", "ifeval", [
        (1000, "Write a made-up fixture poem about otters in exactly 3 paragraphs separated by ***."),
        (1001, "Describe a fixture teapot without using any commas."),
    ], []),
    ("a folder of release files test.jsonl, test2.jsonl", "livecodebench", [
        ("abc900_a", ("You are given two integers A and B on one line. Print their sum.\n\nInput\n\nA B\n\n"
                     "Output\n\nPrint A+B.")),
        ("9001", "Given a string s made up for this fixture, return it reversed."),
    ], ["public_test_cases"]),
    ("JSONL of the hub release", "apps", [
        (0, ("A made-up fixture problem: read an integer n and print the sum 1 + 2 + ... + n.\n\n-----Input-----"
            "\n\nOne integer n.\n\n-----Output-----\n\nThe sum.")),
        (1, "Another made-up problem: given a word, print it backwards."),
    ], ["input_output"]),
    ("JSON with a Data list", "triviaqa", [
        ("tc_fixture_1", "Which made-up river runs through the fixture town of Brindle?"),
        ("qw_fixture_2", "In this fixture, what is the name of the otter who won the regatta?"),
    ], ["Answer"]),
    ("JSONL, lower-case search queries", "nq-open", [
        (0, "who painted the made up fixture portrait of the otter queen"),
        (1, "when was the fixture town of brindle founded"),
    ], []),
    ("JSONL, the sentence keeps its blank", "winogrande", [
        ("FIXTURE0001-1", "The otter could not carry the stone up the bank because the _ was too heavy."),
        ("FIXTURE0001-2", "The otter could not carry the stone up the bank because the _ was too weak."),
    ], []),
    ("JSONL, goals only (one is two words)", "piqa", [
        (0, "How do I keep a made-up fixture teapot from dripping?"),
        (1, "fixture kettle"),
    ], ["sol1", "sol2"]),
    ("JSONL, questions without their passages", "boolq", [
        (0, "is the fixture river longer than the fixture canal"),
        (1, "was the fixture town of brindle founded after 1700"),
    ], ["passage"]),
    ("JSON nested data/paragraphs/qas", "squad", [
        ("fixture00000000000000001", "When was the made-up town of Brindle founded?"),
        ("fixture00000000000000002", "Who built the wall of Brindle in this fixture?"),
        ("fixture00000000000000003", "How long is the fixture's Wendle River?"),
    ], ["context"]),
    ("JSONL, the context without the endings", "hellaswag", [
        (24, "A made-up otter floats on its back in a river. the otter"),
        (92, "[header] How to brew a made-up fixture tea [title] Boil fresh water."),
    ], ["endings"]),
    ("compact JSONL, nested question.stem", "arc", [
        ("Fixture_1001", "Which made-up material in this fixture conducts heat best?"),
        ("FIXTURE_2002", "A fixture student drops a ball. What pulls it down?"),
    ], ["question.choices"]),
    ("CSV with a header row", "truthfulqa", [
        (0, "What happens if you whistle at a made-up fixture otter?"),
        (1, "Is the fixture town of Brindle, which is made up, a real place?"),
    ], ["Best Incorrect Answer", "Correct Answers", "Incorrect Answers"]),
]


def test_every_registry_entry_has_a_fixture_and_a_case():
    assert sorted(name for _, name, _, _ in CASES) == sorted(REGISTRY)
    for name in REGISTRY:
        assert fixture(name).exists(), f"{name}: no fixture at {fixture(name)} (its example file)"
    assert len(REGISTRY) >= 20


@pytest.mark.parametrize(("description", "name", "expected", "choice_fields"), CASES,
                         ids=[name for _, name, _, _ in CASES])
def test_fixture_items(description, name, expected, choice_fields):
    bench = load_benchmark(name, fixture(name))
    assert [(item.id, item.question) for item in bench.items] == expected, description
    assert (bench.question_field, bench.id_field) == (REGISTRY[name].question_field, REGISTRY[name].id_field)


@pytest.mark.parametrize(("description", "name", "expected", "choice_fields"), CASES,
                         ids=[name for _, name, _, _ in CASES])
def test_no_answer_or_choice_in_a_question(description, name, expected, choice_fields):
    spec = REGISTRY[name]
    rows = raw_records(spec, fixture(name))
    questions = [item.question for item in load_benchmark(name, fixture(name)).items]
    assert len(rows) == len(questions)
    for row, question in zip(rows, questions):
        leaking_fields = [spec.answer_field] if spec.answer_field else []
        for field in leaking_fields + choice_fields:
            value = field_value(row, field, _MISSING)
            assert value is not _MISSING, f"{name}: the fixture lacks the field {field!r}"
            for text in string_leaves(value):
                # one-letter or two-digit labels (A-D, 1/2) say nothing; any longer text must not be in it
                assert len(text) < 3 or text not in question, f"{name}: {field!r} text {text!r} is in the question"
    if name == "winogrande":  # the options are words of the sentence by design: the blank must stay
        assert all("_" in q for q in questions)


def test_every_answer_field_is_in_its_fixture():
    for name, spec in REGISTRY.items():
        if spec.answer_field is not None:
            rows = raw_records(spec, fixture(name))
            assert all(field_value(row, spec.answer_field, _MISSING) is not _MISSING for row in rows), name


# ------------------------------------------------------------------------------------ the entries themselves


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_entry_is_complete(name):
    spec = REGISTRY[name]
    assert spec.name == name == name.lower() and " " not in name
    assert spec.description and spec.published and spec.example_file
    assert spec.hub_path and spec.hub_split and spec.hub_source
    assert spec.answer_field != spec.question_field
    if spec.json_items is not None:
        json_path_steps(spec.json_items)  # raises if malformed
    assert EXAMPLE_FILE[name] == spec.example_file
    assert HUB_QUESTION_FIELD.get(name) == spec.hub_question_field


def test_the_decisions_on_two_field_items_are_said():
    """Reading comprehension probes the question, never the passage, and says how to probe the passage."""
    for name, passage in (("drop", "passage"), ("squad", "context"), ("boolq", "passage")):
        spec = REGISTRY[name]
        assert spec.question_field == "question"
        assert f"the {passage} is not probed" in spec.description
        assert f"--question-field {name}={passage}" in spec.description


@pytest.mark.parametrize(("name", "field", "first"), [
    ("drop", "passage", "In a made-up game, the Otters kicked three field goals"),
    ("squad", "context", "Brindle is a made-up town founded in 1620."),
    ("boolq", "passage", "In this made-up passage the Wendle River runs 40 miles"),
])
def test_the_passage_can_be_probed_instead(name, field, first):
    # nested items carry the fields of the objects around them, as the hub copies have them on each row
    bench = load_benchmark(name, fixture(name), question_field=field)
    assert bench.items[0].question.startswith(first)
    assert bench.items[0].id == load_benchmark(name, fixture(name)).items[0].id


# ----------------------------------------------------------------------------------------- layout corners


def test_mmlu_reads_header_less_and_headed_csvs(tmp_path):
    headed = tmp_path / "headed"  # the layout of the copy in shared/benchmarks: a header row, 0-based answers
    headed.mkdir()
    (headed / "anatomy_test.csv").write_text("question,choice0,choice1,choice2,choice3,answer\n"
                                             "Which bone is made up?,Ulna,Zorbone,Femur,Tibia,1\n")
    bare = tmp_path / "bare"  # the authors' data.tar layout
    bare.mkdir()
    (bare / "anatomy_test.csv").write_text("Which bone is made up?,Ulna,Zorbone,Femur,Tibia,B\n")
    for folder in (headed, bare):
        assert load_benchmark("mmlu", folder).items == (benchmarks.Item(0, "Which bone is made up?"),)
    (bare / "anatomy_test.csv").write_text("Which bone is made up?,Ulna,Zorbone,Femur,Tibia,B\nToo,few\n")
    with pytest.raises(InputError, match=r"row has 2 values but the published layout has 6 columns \(question, A") as info:
        load_benchmark("mmlu", bare)
    assert info.value.line == 2


def test_a_file_of_another_layout_is_named_with_where_it_differs(tmp_path):
    flat = tmp_path / "squad.json"
    flat.write_text('{"version": "1.1", "data": [{"title": "T", "paragraphs": {"context": "c"}}]}')
    with pytest.raises(InputError, match=r"items at \$\.data\[\*\]\.paragraphs\[\*\]\.qas\[\*\]\): "
                                         r"\$\.data\[0\]\.paragraphs is a JSON object, not a list"):
        load_benchmark("squad", flat)
    drop = tmp_path / "drop.json"
    drop.write_text('{"p1": {"passage": "x", "questions": []}}')
    with pytest.raises(InputError, match=r"\$\.p1 has no key 'qa_pairs' \(keys: 'passage', 'questions'\)"):
        load_benchmark("drop", drop)
    # under a name of its own, the default JSON rule applies
    assert load_benchmark("mine", flat, question_field="title").items == (benchmarks.Item(0, "T"),)


def test_nested_item_errors_name_the_line_the_item_starts_on(tmp_path):
    text = fixture("squad").read_text().replace('"question": "Who built the wall', '"query": "Who built the wall')
    pretty = tmp_path / "dev-v1.1.json"
    pretty.write_text(json.dumps(json.loads(text), indent=1))
    with pytest.raises(InputError, match="the question field is missing") as info:
        load_benchmark("squad", pretty)
    lines = pretty.read_text().splitlines()
    assert lines[info.value.line - 1].strip() == "{"
    assert '"query": "Who built the wall' in "\n".join(lines[info.value.line - 1:info.value.line + 12])


def test_a_math_file_given_alone_is_one_item():
    bench = load_benchmark("math", fixture("math") / "geometry" / "7.json")
    assert bench.items == (benchmarks.Item(0, "A square has a perimeter of 20 units. What is its area, in square "
                                              "units?"),)


@pytest.mark.parametrize(("path", "steps"), [
    ("$", []),
    ("$.examples[*]", ["examples", "[*]"]),
    ("$.*.qa_pairs[*]", ["*", "qa_pairs", "[*]"]),
    ("$.data[*].paragraphs[*].qas[*]", ["data", "[*]", "paragraphs", "[*]", "qas", "[*]"]),
])
def test_json_path_steps(path, steps):
    assert json_path_steps(path) == steps


@pytest.mark.parametrize("path", ["data[*]", "$.data[0]", "$..data", "$.data[*", ""])
def test_json_path_steps_refuse_other_paths(path):
    with pytest.raises(ValueError, match="unsupported JSON path"):
        json_path_steps(path)


# ------------------------------------------------------------------------------------------------ the hub


@pytest.fixture()
def fake_hub(monkeypatch):
    """``datasets.load_dataset`` answering from memory, one dataset per configuration; the network never used."""
    datasets = pytest.importorskip("datasets")
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(benchmarks, "hub_unreachable", lambda: None)
    calls: list[tuple[Any, ...]] = []
    tables: dict[Any, dict[str, list[Any]]] = {}

    def load_dataset(path, config, split):
        calls.append((path, config, split))
        return datasets.Dataset.from_dict(tables[config])

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    return calls, tables


def test_hub_configurations_are_loaded_in_turn(fake_hub):
    calls, tables = fake_hub
    for task in REGISTRY["bbh"].hub_config:
        tables[task] = {"input": [f"{task} one", f"{task} two"], "target": ["x", "y"]}
    bench = load_benchmark("bbh")
    assert calls == [("SaylorTwift/bbh", task, "test") for task in REGISTRY["bbh"].hub_config]
    assert bench.n_items == 54 and bench.id_field is None
    assert bench.items[:2] == (benchmarks.Item("boolean_expressions/0", "boolean_expressions one"),
                               benchmarks.Item("boolean_expressions/1", "boolean_expressions two"))
    assert bench.source.startswith("hf://SaylorTwift/bbh/boolean_expressions,causal_judgement,")


def test_hub_fields_that_differ_from_the_files(fake_hub):
    calls, tables = fake_hub
    tables["rc.nocontext"] = {"question": ["Q1?", "Q2?"], "question_id": ["tc_1", "tc_2"],
                              "answer": [{"value": "A1"}, {"value": "A2"}]}
    bench = load_benchmark("triviaqa")
    assert calls == [("mandarjoshi/trivia_qa", "rc.nocontext", "validation")]
    assert (bench.question_field, bench.id_field) == ("question", "question_id")
    assert bench.items == (benchmarks.Item("tc_1", "Q1?"), benchmarks.Item("tc_2", "Q2?"))
    tables["winogrande_xl"] = {"sentence": ["The _ fell."], "option1": ["cup"], "option2": ["cat"], "answer": ["1"]}
    bench = load_benchmark("winogrande")  # the hub copy has no qID: rows are numbered
    assert bench.id_field is None and bench.items == (benchmarks.Item(0, "The _ fell."),)


# ------------------------------------------------------------------------------------ decontam benchmarks


def test_listing_has_a_line_per_benchmark_with_its_fields(capsys):
    assert main(["benchmarks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == sorted(REGISTRY)
    for line, name in zip(lines, sorted(REGISTRY)):
        spec = REGISTRY[name]
        assert f"question={spec.question_field}" in line
        assert ("answer=-" if spec.answer_field is None else spec.answer_field) in line
        assert f"hub={spec.hub_path}" in line and "format=" in line
    gpqa = next(line for line in lines if line.startswith("gpqa "))
    assert "answer='Correct Answer'" in gpqa and "id='Record ID'" in gpqa and "format=CSV with a header row" in gpqa
    assert "hub=SaylorTwift/bbh/<27 configs>:test" in next(line for line in lines if line.startswith("bbh "))


def test_listing_one_benchmark_in_full(capsys):
    assert main(["benchmarks", "squad", "MMLU"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("squad: SQuAD v1.1")
    for expected in ("question field  question", "answer field    answers", "item id         id",
                     "items at        $.data[*].paragraphs[*].qas[*]",
                     "hub             rajpurkar/squad:validation (answer field answers.text)",
                     "-b squad=data/dev-v1.1.json", "\nmmlu: MMLU", "CSV columns     question, A, B, C, D, answer"):
        assert expected in out


def test_listing_an_unknown_benchmark_suggests_the_close_one(capsys):
    assert main(["benchmarks", "squd"]) == 1
    assert "unknown benchmark 'squd'. Did you mean 'squad'?" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- the docs


@pytest.mark.parametrize("doc", ["README.md", "docs/cli.md"])
def test_docs_name_every_registry_benchmark(doc):
    text = (ROOT / doc).read_text("utf-8")
    found = re.search(r"Registry \((\d+) benchmarks.*?\):(.*?\))\.\n", text, re.DOTALL)
    assert found, f"{doc}: no 'Registry (N benchmarks ...): name (`field`, ...), ...' sentence"
    named = re.findall(r"(?<![\w`-])([a-z][a-z0-9-]*[a-z0-9])\s+\(`", found.group(2))
    assert int(found.group(1)) == len(REGISTRY)
    assert sorted(named) == sorted(REGISTRY)
    for name in named:  # each with its question field, as the registry has it
        field = re.search(rf"(?<![\w-]){re.escape(name)}\s+\(`([^`]+)`", found.group(2)).group(1)
        assert field == REGISTRY[name].question_field, (doc, name)
