"""A portrait check sorts items into three groups (possible, undecided, absent), never counts the undecided
ones as contaminated, and every rendering of it (Markdown summary, card, HTML page, figure) says its figures
are unverified upper bounds that the exact index confirms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decontam import check, render
from decontam.benchmarks import Benchmark, Item
from decontam.index import CorpusIndex, Portrait
from decontam.normalize import normalize

SHORT = "probe shorter than the portrait's 50-byte window"
LONG_IN = "Write a function that returns the sum of two integers given as arguments, please."
LONG_OUT = "Given a list of numbers, return True if any two are closer than the threshold value."
# (question, expected group with 3 probes of 50 characters) against a corpus holding LONG_IN and "Short one"
CASES = [
    (LONG_IN, "possible", "a long question in the corpus: its probes pass the Bloom filter"),
    (LONG_OUT, "absent", "a long question not in the corpus: tested, no false negative, so clean"),
    ("Short one?", "undecided", "in the corpus, but used whole it is shorter than a window: cannot be tested"),
    ("Not here?", "undecided", "not in the corpus, equally untestable: undecided, not clean"),
    ("", "absent", "empty question: no probe can match (check calls it clean, listed as empty)"),
]


def _jsonl(path: Path, texts) -> Path:
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def portrait(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pt")
    corpus = _jsonl(tmp / "c.jsonl", ["noise " + LONG_IN + " noise", "Short one? indeed", "other text"])
    ix = CorpusIndex.build([corpus], tmp / "ix", progress=False)
    return ix, Portrait.load(ix.export_portrait(tmp / "p.dcp")), corpus


def _bench():
    return Benchmark.from_items("t", [Item(i, q) for i, (q, _, _) in enumerate(CASES)])


def test_three_groups_and_undecided_never_counted(portrait):
    ix, pt, corpus = portrait
    report = pt.check([_bench()])
    sec = report.benchmark("t")
    groups = {"possible": sec["possible_ids"], "undecided": sec["undecided_ids"], "absent": sec["absent_ids"]}
    for i, (_, want, why) in enumerate(CASES):
        assert [g for g, ids in groups.items() if i in ids] == [want], why
    assert sec["n_contaminated"] == sec["n_possible"] == 1 and sec["contaminated_ids"] == [0]
    assert sec["contamination_rate"] == round(1 / len(CASES), 6)
    assert (sec["n_undecided"], sec["n_absent"]) == (2, 2)
    assert sec["clean_ids"] == sec["absent_ids"]  # an undecided item is not clean
    assert sec["undecided_reasons"] == {SHORT: 2} and sec["upper_bound"] is True
    assert [it["undecided"] for it in sec["items"] if it.get("undecided")] == [SHORT, SHORT]
    idx = report.data["index"]
    assert idx["unverified"] is True and idx["upper_bound"] is True and idx["n_probes_undecided"] == 2
    assert "upper bound" in idx["note"]
    # the exact index decides what the portrait could not: "Short one?" is in the corpus, "Not here?" is not
    exact = ix.check([_bench()])
    assert exact.contaminated_ids("t") == [0, 2]
    assert exact.contaminated_ids("t") == check([corpus], [_bench()], progress=False).contaminated_ids("t")


def test_items_left_out_are_in_no_group(portrait):
    _, pt, _ = portrait
    sec = pt.check([_bench()], min_question_chars=10).benchmark("t")
    # "Short one?" and "Not here?" normalize to 8 and 7 characters: left out, neither undecided nor absent
    assert sec["too_short_ids"] == [2, 3]
    assert (sec["possible_ids"], sec["undecided_ids"], sec["absent_ids"]) == ([0], [], [1, 4])


def test_short_probe_length_leaves_every_item_undecided(portrait):
    _, pt, _ = portrait
    for probes in ("3", "all"):
        sec = pt.check([_bench()], probe_length=12, probes=probes).benchmark("t")
        assert sec["n_contaminated"] == 0 and sec["undecided_ids"] == [0, 1, 2, 3]
        assert sec["absent_ids"] == [4]  # the empty question has no probe at all
        assert all("coverage" not in it for it in sec["items"] if it.get("undecided"))  # unknown, not 0


_TEXT = st.text(alphabet=st.sampled_from(list("ab c\n,.xyz")), max_size=200)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_TEXT, min_size=1, max_size=5), st.lists(st.sampled_from([q for q, _, _ in CASES]), max_size=4),
       st.sampled_from(["3", "all"]))
def test_groups_partition_the_items_and_bound_the_exact_check(tmp_path_factory, noise, leaks, probes):
    tmp = tmp_path_factory.mktemp("prop")
    corpus = _jsonl(tmp / "c.jsonl", list(noise) + [" ".join(leaks) or "x"])
    ix = CorpusIndex.build([corpus], tmp / "ix", progress=False)
    sec = Portrait.load(ix.export_portrait(tmp / "p.dcp")).check([_bench()], probes=probes).benchmark("t")
    ids = list(range(len(CASES)))
    groups = sec["possible_ids"] + sec["undecided_ids"] + sec["absent_ids"]
    assert sorted(groups) == ids  # each item in exactly one group
    assert sec["contaminated_ids"] == sec["possible_ids"] and sec["clean_ids"] == sec["absent_ids"]
    assert sec["n_possible"] + sec["n_undecided"] + sec["n_absent"] == sec["n_items"]
    # the oracle: an item whose question is in the corpus is never absent
    docs = [normalize(t) for t in [*noise, " ".join(leaks)]]
    for i, (q, _, _) in enumerate(CASES):
        if normalize(q) and any(normalize(q) in d for d in docs):
            assert i not in sec["absent_ids"]
    exact = set(ix.check([_bench()], probes=probes).contaminated_ids("t"))
    assert exact <= set(sec["possible_ids"]) | set(sec["undecided_ids"])


# ------------------------------------------------------------------------------------------------ renderings


@pytest.fixture(scope="module")
def doc(portrait):
    return portrait[1].check([_bench()]).data


def test_markdown_summary_shows_the_three_groups_as_unverified_upper_bounds(portrait):
    text = portrait[1].check([_bench()]).to_markdown()
    assert text.startswith("# Contamination report\n\n**Portrait check.** A portrait (a corpus index's Bloom filter, "
                           "without the text) cannot verify a match: the figures of a portrait check are unverified "
                           "upper bounds.")
    assert "| benchmark | items | possible (upper bound, unverified) | undecided (not testable) | absent |" in text
    assert "| t | 5 | 1 (20.00%) | 2 | 2 |" in text
    assert "| benchmark | items | contaminated | rate |" not in text  # the unlabelled table is replaced
    assert "Training documents containing a probe" not in text  # a portrait names no document
    assert "decontam index check INDEX_DIR" in text and SHORT in text
    assert "Method:" in text and "Corpus:" in text  # the rest of the summary is kept


def test_card_says_upper_bound_unverified_and_how_to_confirm(doc):
    card = render.to_card(doc, "p.json")
    assert "(`portrait-check`) against a portrait of the training corpus" in card
    assert "unverified upper bounds" in card and f"false-positive rate {doc['index']['bloom_fp_rate']:.2g}" in card
    assert "| t | 5 | 1 (20.00%) | 2 | 2 |" in card
    assert ("- t: at most 1 of the 3 items the portrait could test possibly in the training corpus (20.00% of 5 "
            "items; an upper bound, unverified); 2 undecided (" + SHORT + ": not counted, either way); 2 absent.") \
        in card
    assert "found in the training corpus" not in card and "## Contaminated items" not in card
    assert "## Possible items (Bloom filter positives: unverified upper bound)\n\n- t (1): `0`" in card
    assert "## Undecided items (the portrait cannot test them)\n\n- t (2): `2`, `3`" in card
    bench = "-b 't=<memory>' --question-field t=question --item-id-field t=id"
    assert f"decontam index check PORTRAIT.dcp {bench} --report p.json\n" in card
    assert f"decontam index check INDEX_DIR {bench} --report confirmed.json   # whoever holds the index" in card
    assert "decontam verify" not in card  # verify re-runs check on the corpus: not what a portrait reproduces
    assert "--text-field" not in card  # index check reads the corpus fields from the index


def test_html_page_says_upper_bound_unverified(doc):
    page = render.to_html(doc, "p.json")
    assert '<div class="card warn" id="portrait-note"><h2>Portrait check: unverified upper bounds</h2>' in page
    assert "<h2>Contamination rate per benchmark (upper bounds, unverified)</h2>" in page
    assert "possible items (upper bound, unverified; undecided items not counted), % of the benchmark" in page
    assert "20.00% (1/5) possible, 2 undecided" in page
    assert ('<th class="n">possible (upper bound, unverified)</th><th class="n">rate (possible)</th>'
            '<th class="n">undecided (not testable)</th><th class="n">absent</th>') in page
    assert "t: 1 possible item(s) (unverified: an upper bound)" in page and "contaminated item" not in page
    rows = json.loads(page.split('id="items-data">')[1].split("</script>")[0])
    assert [r["status"] for r in rows] == ["possible", "absent", "undecided", "undecided", "absent"]
    assert rows[0]["documents"] == 0  # a portrait names no document
    assert "decontam index check INDEX_DIR" in page


def test_figure_says_upper_bound_unverified(doc):
    matplotlib = pytest.importorskip("matplotlib")
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text as text, to read it back
        svg = render.figure(doc, fmt="svg").decode()
    assert "Portrait check" in svg and "unverified upper bounds" in svg
    assert "20.00% (1/5) possible, 2 undecided" in svg
    assert "undecided items not counted" in svg and "the exact index confirms" in svg


def test_other_reports_render_as_before(portrait):
    ix, _, _ = portrait
    d = ix.check([_bench()]).data
    card, page = render.to_card(d), render.to_html(d)
    assert "| benchmark | items | contaminated | rate |" in card and "decontam verify" in card
    assert "possible" not in card and "portrait-note" not in page
    rows = json.loads(page.split('id="items-data">')[1].split("</script>")[0])
    assert [r["status"] for r in rows] == ["contaminated", "clean", "contaminated", "clean", "empty"]
