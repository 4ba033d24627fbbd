"""datatrove's n-gram decontamination, run in its own venv, as its docs say (datatrove/pipeline/decont/n_grams.py):
`NGramsDecontIndexer` builds the index, then `NGramsDecontFilter` runs over the training data, each in a
pipeline run by `LocalPipelineExecutor` (tasks=1, workers=1: one core). The training data is read by
`JsonlReader(text_key="text", id_key="id")`; removed documents go to the filter's `exclusion_writer`
(`JsonlWriter`), whose ids are the flagged documents. Nothing else is written (the kept documents are not).

Config: `NGramsDecontConfig(find_query_ngrams=True)`, everything else at its default (12-grams of spaCy
"en" word tokens after `simplify_text`: lowercase, numbers -> "0", punctuation -> spaces, diacritics folded;
64-bit xxhash). `find_query_ngrams=True` because each benchmark item is fed the documented way for data that
is not a lighteval task: a Document with text = label (empty here: we give no answers) and
metadata {"query": question, "task": benchmark}; the default config indexes only label and label/query-overlap
n-grams, which would index nothing from a question alone.

The adapter: the indexer always asks lighteval for its `lighteval_tasks` after reading its input documents, with
`Registry(cache_dir=..., custom_tasks=...).get_task_dict(...)` and `LightevalTask.load_datasets(dict.values())`.
Neither call works with any lighteval that installs beside datatrove 0.10.1 (lighteval >= 0.11 has no
`cache_dir` argument: TypeError; lighteval <= 0.10 needs numpy < 2, datatrove needs numpy >= 2). We ask for no
lighteval task, so those two calls have nothing to return: a stub module answers them with no tasks (and
lighteval itself is not imported). All hashing, index files and filtering are datatrove's own code.
"""

import json
import sys
from collections import Counter
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import read_jsonl, runner_args, write_flags  # noqa: E402


def stub_lighteval_registry() -> None:
    class Registry:
        def __init__(self, *args, **kwargs):
            pass

        def get_task_dict(self, names):
            if names:
                raise RuntimeError("this stub only serves runs without lighteval tasks")
            return {}

    class LightevalTask:
        @staticmethod
        def load_datasets(tasks, *args, **kwargs):
            return None

    for name in ("lighteval.tasks.registry", "lighteval.tasks.lighteval_task"):
        sys.modules.pop(name, None)
    registry, task = types.ModuleType("lighteval.tasks.registry"), types.ModuleType("lighteval.tasks.lighteval_task")
    registry.Registry, task.LightevalTask = Registry, LightevalTask
    import lighteval.tasks  # noqa: F401  (the package itself: light, it pulls in no models)
    sys.modules["lighteval.tasks.registry"], sys.modules["lighteval.tasks.lighteval_task"] = registry, task


def main() -> None:
    args = runner_args(__doc__)
    if args.extra != "real-lighteval":
        stub_lighteval_registry()
    from datatrove.data import Document
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.decont import NGramsDecontConfig, NGramsDecontFilter, NGramsDecontIndexer
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    work = args.work
    corpus_dir, index, removed = work / "training", work / "index", work / "removed"
    corpus_dir.mkdir(parents=True, exist_ok=True)
    link = corpus_dir / "corpus.jsonl"
    link.unlink(missing_ok=True)
    link.symlink_to(args.corpus.resolve())
    config = NGramsDecontConfig(find_query_ngrams=True)
    items = [Document(text="", id=f"{q['benchmark']}/{q['item_id']}",
                      metadata={"query": q["question"], "task": q["benchmark"]})
             for q in read_jsonl(args.questions)]
    LocalPipelineExecutor(pipeline=[items, NGramsDecontIndexer(str(index), lighteval_tasks=[], config=config)],
                          tasks=1, workers=1, logging_dir=str(work / "logs-index")).run()
    LocalPipelineExecutor(
        pipeline=[JsonlReader(str(corpus_dir), text_key="text", id_key="id"),
                  NGramsDecontFilter(str(index), config=config,
                                     exclusion_writer=JsonlWriter(str(removed), compression=None))],
        tasks=1, workers=1, logging_dir=str(work / "logs-filter")).run()
    flagged, why = [], {}
    for f in sorted(removed.rglob("*.jsonl")):
        for row in read_jsonl(f):
            flagged.append(row["id"])
            md = row.get("metadata", {})
            why[row["id"]] = [md.get("contaminated_task"), md.get("contaminated_ngram")]
    (work / "why.json").write_text(json.dumps(why))
    top = Counter(ngram for _, ngram in why.values()).most_common(5)
    write_flags(args.out, "datatrove", flagged, {"index_hashes": sum(p.stat().st_size // 8 for p in index.glob("*.hashes")),
                                                 "most_common_matched_ngrams": top})


if __name__ == "__main__":
    main()
