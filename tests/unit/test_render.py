"""Tests of decontam.render and decontam.markup: names, ids, paths and evidence are arbitrary text, and every
rendering shows them as text (a ``|`` does not split a table row, a backtick does not end a code span, HTML does
not become markup, a newline does not end a line)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from decontam import Report, check
from decontam.benchmarks import Benchmark, Item
from decontam.markup import md_code, md_fence, md_text
from decontam.render import to_card

Q = "Write a function that returns the sum of two integers given as arguments, then prints it twice."
NASTY = "a|b `c` <b>bold</b> *x* _y_ [l](u) ~z~ &amp; \\ line\nbreak"


def _cells(row: str) -> list[str]:
    """The cells of a GFM table row: split on pipes that are not escaped."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def test_the_card_shows_hostile_names_ids_and_sources_as_text(tmp_path):
    path = tmp_path / "we|ird `dir`"
    path.mkdir()
    corpus = path / "c.jsonl"
    corpus.write_text('{"id": "doc|1", "text": "leak: ' + Q + '"}\n')
    bench = Benchmark.from_items(NASTY, [Item("id|`1`\n<i>", Q), Item("clean", "nothing like it at all here")])
    card = to_card(check([corpus], [bench], progress=False).to_dict(), "re|port.json")
    prose = card.split("## Reproduce")[0]  # (the commands are in a fenced block, shown as they are)
    outside_code = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", prose)
    assert "<b>" not in outside_code and "<i>" not in outside_code  # no raw HTML outside code spans
    rows = [line for line in card.splitlines() if line.startswith("|")]
    assert rows and all(len(_cells(r)) == len(_cells(rows[0])) or r.startswith("| benchmark |") or
                        r.startswith("| ---") for r in rows[:3])
    table = next(r for r in rows if "100" not in r and "50.00%" in r)
    assert len(_cells(table)) == 4  # the name did not split the row
    bench_row = next(r for r in rows if "sha256" in r)
    assert len(_cells(bench_row)) == 5
    for line in prose.splitlines():  # no text line was broken by a newline in a value
        assert not line.startswith("break")


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=30))
def test_escaped_text_reads_back_as_the_text(value):
    """Undoing the escapes gives the value back (newlines as spaces, bidi controls as their code), and nothing
    unescaped can start markup."""
    one_line = re.sub("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", lambda m: f"\\u{ord(m.group()):04x}",
                      re.sub(r"\r\n|\r|\n", " ", value))
    text = md_text(value)
    assert re.sub(r"\\(.)", r"\1", text) == one_line
    assert not re.search(r"(?<!\\)[`*<>|\[\]~&]", text.replace("\\\\", ""))
    code = md_code(value)
    fence = re.match(r"`+", code).group()
    inner = code[len(fence):-len(fence)]
    assert "`" * len(fence) not in inner  # the span cannot be closed early
    if inner.startswith(" ") and inner.endswith(" ") and inner.strip(" "):
        inner = inner[1:-1]
    assert inner == one_line
    block = md_fence(value + "\n```\n")
    assert all(not line.startswith(block[0]) for line in block[1:-1])


def test_report_markdown_summary_escapes_names_too():
    bench = Benchmark.from_items("x|y", [Item(1, Q)])
    md = Report(check(["nope"], [bench], progress=False).data).to_markdown()
    row = next(line for line in md.splitlines() if line.startswith("| x"))
    assert len(_cells(row)) == 4
