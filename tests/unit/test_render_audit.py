"""What the card, the HTML page and the figure say must be what the report says: documents counted as the report
counts them, figures that read as they are (no bidi override turns them around, no rounding makes 19,999 of
20,000 read as all), element ids that never collide, names that never become markup or mathtext, and scores that
say on how many items, of which filter and from which results they are."""

from __future__ import annotations

import copy
import html.parser
import json
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from decontam import check, markup
from decontam.benchmarks import Benchmark, Item
from decontam.markup import md_code, md_text
from decontam.render import to_card, to_html
from decontam.render_evidence import anchor, evidence_card, near_note
from decontam.rescore import rescore
from decontam.results import ItemResults

Q = "A train leaves the station at 4pm travelling at sixty miles per hour towards the coast of the sea."
Q2 = "What is the capital city of the country whose flag has a red maple leaf in the very middle of it?"
RLO = "\u202e"


def _items_data(page: str) -> list[dict]:
    raw = re.search(r'<script type="application/json" id="items-data">(.*?)</script>', page, re.S).group(1)
    return json.loads(raw)


# ------------------------------------------------------------------------------------------------ R1


def test_documents_are_counted_by_row_not_by_a_repeated_doc_id(tmp_path):
    """Shards that each number their rows from 0: four documents named "0" are four documents."""
    for k in range(4):
        (tmp_path / f"part{k}.jsonl").write_text(json.dumps({"id": "0", "text": "pre " + Q}) + "\n")
    rep = check(sorted(tmp_path.glob("part*.jsonl")), [Benchmark.from_items("toy", [Item(1, Q)])],
                progress=False).to_dict()
    it = rep["benchmarks"][0]["items"][0]
    assert it["n_documents"] == 4
    card = evidence_card("toy", it)
    assert "found in 4 training document(s)" in card
    assert card.count('class="doc"') == 3 and "and 1 more document(s)" in card  # MAX_EVIDENCE_DOCS shown
    page = to_html(rep)
    assert "found in 4 training document(s)" in page
    assert _items_data(page)[0]["documents"] == 4


def test_the_page_uses_the_reports_own_document_count():
    rep = check(["pre " + Q, "post " + Q], [Benchmark.from_items("toy", [Item(1, Q)])], progress=False).to_dict()
    doctored = copy.deepcopy(rep)
    doctored["benchmarks"][0]["items"][0]["n_documents"] = 7  # the report's word is the one shown
    assert _items_data(to_html(doctored))[0]["documents"] == 7


# ------------------------------------------------------------------------------------------------ R2


class _Bidi(html.parser.HTMLParser):
    """Every text run of a page holding a bidi control, with the elements it stands in."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.found: list[tuple[list[str], str]] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "link", "input", "br", "img", "rect", "line"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if re.search("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", data):
            self.found.append((list(self.stack), data))


def _bidi_report(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": f"doc{RLO}abc", "text": "intro " + Q}) + "\n")
    bench = Benchmark.from_items(f"t{RLO}x", [Item(f"task{RLO}7", Q), Item("clean", Q2)])
    return check([corpus], [bench], progress=False).to_dict()


def test_the_page_isolates_every_user_string_holding_bidi_controls(tmp_path):
    rep = _bidi_report(tmp_path)
    page = to_html(rep, title=f"my{RLO} title")
    parser = _Bidi()
    parser.feed(page)
    assert parser.found
    # each run is in a <bdi> (isolated from the figures around it), or alone in an element that is a paragraph of
    # its own (the page's <title>, a <select>'s option, an SVG label)
    for stack, data in parser.found:
        assert "bdi" in stack or stack[-1] in ("title", "option", "text"), (stack, data)
    # the evidence sentence: the document id isolated, then the figures
    assert re.search(f'document <b class="doc-id"><bdi>doc{RLO}abc</bdi></b> <span[^>]*>[(]row 0[)]</span>, '
                     "characters 6–", page)
    # right-to-left letters reorder neighbouring digits too: isolated as well; plain text is written as it is
    from decontam.render_evidence import user

    assert user("שם") == "<bdi>שם</bdi>" and user("toy<1>") == "toy&lt;1&gt;"
    # the item table's data holds no raw control (its cells are filled by the script, one per cell)
    assert RLO not in page.split('id="items-data">')[1].split("</script>")[0]


def test_markdown_shows_bidi_controls_visibly():
    assert md_text(f"a{RLO}b") == "a\\\\u202eb"  # renders as a\u202eb
    assert md_code(f"a{RLO}b") == "`a\\u202eb`"
    for ch in "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        assert ch not in md_text(ch) and ch not in md_code(ch)


def test_the_card_and_summary_hold_no_raw_bidi_control(tmp_path):
    from decontam import Report

    rep = _bidi_report(tmp_path)
    assert RLO not in to_card(rep) and RLO not in Report(rep).to_markdown()


# ------------------------------------------------------------------------------------------------ R3


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_figure_draws_dollar_signs_as_text(fmt):
    pytest.importorskip("matplotlib")
    from decontam.render import figure

    rep = check(["x " + Q], [Benchmark.from_items("v$\\frac$", [Item(1, Q)])], progress=False).to_dict()
    assert figure(rep, fmt=fmt)  # no mathtext: no ValueError from its parser
    svg = figure(rep, title="price $5 vs $6", fmt="svg").decode()
    assert "Oblique" not in svg and "Italic" not in svg  # drawn upright, as text, not as math


# ------------------------------------------------------------------------------------------------ R4


def test_anchors_of_different_items_differ():
    assert anchor("t", 'a"') != anchor("t", "a_5c_22")
    assert anchor("x", -1) != anchor("x-", 1)


# escape characters, hex digits and separators drawn often (where an encoding that is not one-to-one collides),
# and any text
_PIECES = st.lists(st.sampled_from(["_", "5c", "22", '"', "\\", "-", "2d", "a"]), max_size=5).map("".join)
_TEXT = _PIECES | st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_ITEM = st.tuples(_TEXT, _TEXT | st.integers(-3, 30), st.sampled_from(["", "answer", "near"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_ITEM, min_size=2, max_size=60, unique=True))
@example([("t", 'a"', ""), ("t", "a_5c_22", "")])  # an escape's text given as an id
@example([("x", -1, ""), ("x-", 1, "")])  # the separator in a name
@example([("a", "b", "answer"), ("a", "b-answer", "")])
def test_distinct_items_have_distinct_anchors(items):
    anchors = [anchor(*it) for it in items]
    assert len(set(anchors)) == len(items)
    assert all(not re.search(r"\s", a) and a.startswith("ev-") for a in anchors)


def test_the_page_has_one_element_per_id(tmp_path):
    bench = Benchmark.from_items("t", [Item('a"', Q), Item("a_5c_22", Q2)])
    page = to_html(check(["x " + Q, "y " + Q2], [bench], progress=False).to_dict())
    ids = re.findall(r' id="(ev-[^"]*)"', page)
    assert len(ids) == 2 and len(set(ids)) == 2
    assert sorted(r["anchor"] for r in _items_data(page)) == sorted(ids)


# ------------------------------------------------------------------------------------------------ R5


@pytest.mark.parametrize("name", ["# Clean", "- x", "+ x", "1. x", "12) x", "  # x", "-"])
def test_text_at_the_start_of_a_list_item_is_no_block_markup(name):
    text = md_text(name)
    assert not re.match(r"\s{0,3}([#+\-]|\d+[.)])", text), text
    assert re.sub(r"\\(.)", r"\1", text) == name


def test_a_benchmark_name_does_not_make_a_heading_in_the_card():
    rep = check(["x " + Q], [Benchmark.from_items("# Clean: 0 contaminated", [Item(1, Q)])],
                progress=False).to_dict()
    card = to_card(rep)
    assert not re.search(r"^- #", card, re.MULTILINE) and "- \\# Clean: 0 contaminated" in card


# ------------------------------------------------------------------------------------------------ R7


def test_the_near_duplicate_threshold_is_shown_as_stored():
    near = {"threshold": 0.505, "shingle_bytes": 8, "minhash": "datasketch affine32", "num_perm": 64}
    assert "at least 0.505 of the question's" in near_note(near)


# ------------------------------------------------------------------------------------------------ R8


def test_rates_never_read_as_all_or_none_unless_they_are():
    percent = markup.percent
    assert percent(19_999, 20_000) == ">99.99%" and percent(1, 200_000) == "<0.01%"
    assert percent(20_000, 20_000) == "100.00%" and percent(0, 20_000) == "0.00%" and percent(0, 0) == "0.00%"
    assert percent(1, 3) == "33.33%" and percent(2, 60) == "3.33%"


def test_card_and_page_say_almost_all(tmp_path):
    rep = check(["x " + Q], [Benchmark.from_items("w", [Item(1, Q)])], progress=False).to_dict()
    b = rep["benchmarks"][0]
    b.update(n_items=20_000, n_contaminated=19_999, contamination_rate=19_999 / 20_000)
    card, page = to_card(rep), to_html(rep)
    assert "100.00%" not in card and "100.00%" not in page
    assert "| w | 20000 | 19999 | >99.99% |" in card and "- w: >99.99% of items (19999/20000)" in card
    assert "<td class=\"n\">&gt;99.99%</td>" in page and "&gt;99.99% (19999/20000)" in page


# ------------------------------------------------------------------------------------------------ S5


def _scored_report():
    items = [Item(i, f"{Q} number {i} of the set") if i < 5 else Item(i, f"{Q2} question {i} here") for i in range(20)]
    corpus = [f"x {Q} number {i} of the set" for i in range(5)]
    return check(corpus, [Benchmark.from_items("toy", items)], progress=False).to_dict()


def _scores(rep, ids, source, flt=None, shift=0):
    res = ItemResults(scores={str(i): [float((i + shift) % 2)] for i in ids}, format="jsonl", id_source="id",
                      metric="exact_match", n_records=len(ids), sources=[source], filter=flt)
    return rescore(rep, res, "toy")


def test_scores_on_part_of_the_items_say_on_how_many():
    rep = _scored_report()
    sc = _scores(rep, range(15), "part.jsonl")
    card = to_card(rep, scores=[sc])
    sentence = next(line for line in card.splitlines() if line.startswith("- toy:"))
    assert "on all items" not in sentence and "on the 15 of 20 items with results" in sentence
    assert "| 5 of 20 |" in card  # the unscored items, in the table
    assert "5 of 20" in to_html(rep, scores=[sc])


def test_the_sentence_names_the_filter_it_uses():
    rep = _scored_report()
    strict, flexible = _scores(rep, range(20), "s.jsonl", "strict-match"), _scores(rep, range(20), "s.jsonl",
                                                                                  "flexible-extract", 1)
    both = {**strict, "filters": ["strict-match", "flexible-extract"], "by_filter": [strict, flexible]}
    sentence = next(line for line in to_card(rep, scores=[both]).splitlines() if line.startswith("- toy:"))
    assert "strict-match" in sentence and "on all 20 items" in sentence


def test_two_score_files_for_one_benchmark_are_told_apart():
    rep = _scored_report()
    one, two = _scores(rep, range(20), "run-a.jsonl"), _scores(rep, range(20), "run-b.jsonl", shift=1)
    card = to_card(rep, scores=[one, two])
    sentence = next(line for line in card.splitlines() if line.startswith("- toy:"))
    assert "run-a.jsonl" in sentence and "run-b.jsonl" in sentence  # neither picked silently
    rows = [line for line in card.splitlines() if line.startswith("| toy | exact_match")]
    assert len(rows) == 2 and "run-a.jsonl" in rows[0] and "run-b.jsonl" in rows[1]
    page = to_html(rep, scores=[one, two])
    assert "run-a.jsonl" in page and "run-b.jsonl" in page
