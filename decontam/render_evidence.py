"""Evidence in HTML: an item's matched text (question or answer) highlighted beside the training documents that
hold it, as the report page shows it; and the page's answer-leak (``--probe-answers``) and near-duplicate
(``--near-dup``) sections.

The same card serves both kinds of match: a question match highlights ``evidence.question_highlight`` in the
item's question, an answer match (``--probe-answers``) ``evidence.answer_highlight`` in its answer.

Every text of the report's (a name, an id, a field, a question, an excerpt) that holds a right-to-left character
or a bidi control stands in a ``<bdi>`` element (:func:`user`): it cannot reorder the figures written after it
(an override would show "characters 6-107 of 108" as "801 fo 701-6"). Text without one cannot, and is written as
it is.
"""

from __future__ import annotations

import html
import json
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from .markup import show_bidi

__all__ = ["MAX_EVIDENCE_DOCS", "MAX_EVIDENCE_ITEMS", "anchor", "answer_leaks_html", "doc_key", "escape",
           "evidence_card", "highlight", "near_dup_html", "near_note", "prose", "user"]

MAX_EVIDENCE_ITEMS = 200  # items with evidence shown per benchmark in the HTML page
MAX_EVIDENCE_DOCS = 3  # documents shown per item


def escape(text: Any) -> str:
    """``text`` as HTML text (quotes escaped too, so it may stand in an attribute)."""
    return html.escape(str(text), quote=True)


# bidi classes that can reorder the text after them in a left-to-right line: right-to-left letters, Arabic
# digits, and the explicit embeddings, overrides and isolates
_REORDERING = frozenset(("R", "AL", "AN", "LRE", "LRO", "RLE", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"))


def _reorders(text: str) -> bool:
    """Whether ``text`` holds a character that can reorder what follows it (see :data:`_REORDERING`)."""
    return not text.isascii() and any(unicodedata.bidirectional(c) in _REORDERING for c in text)


def user(text: Any) -> str:
    """``text`` (a name, an id: the report's, not ours) as HTML, isolated for the bidirectional algorithm where
    it holds a right-to-left character or a bidi control: those act inside the ``<bdi>`` alone, never on the
    text around it.

    Example:
        >>> user("a<b"), user("doc" + chr(0x202E) + "abc") == "<bdi>doc" + chr(0x202E) + "abc</bdi>"
        ('a&lt;b', True)
    """
    text = str(text)
    return f"<bdi>{escape(text)}</bdi>" if _reorders(text) else escape(text)


def prose(text: Any) -> str:
    """Our sentence holding the report's text (a warning naming an item) as HTML: its bidi controls shown as
    their code (``\\u202e``), since the words around them are in the same run."""
    return escape(show_bidi(str(text)))


def highlight(text: str, span: Sequence[int] | None) -> str:
    """``text`` as HTML with the characters ``span`` (start, end) marked.

    Example:
        >>> highlight("a <b> c", [2, 5])
        'a <mark>&lt;b&gt;</mark> c'
    """
    if not span:
        return user(text)
    s, e = int(span[0]), int(span[1])
    marked = escape(text[:s]) + "<mark>" + escape(text[s:e]) + "</mark>" + escape(text[e:])
    return f"<bdi>{marked}</bdi>" if _reorders(text) else marked


def _id_part(text: str) -> str:
    """``text`` in an element id: letters and digits as they are, any other character (``-`` and ``_``
    included) as ``_hex_``, so that two texts never give the same part and no part holds a ``-``."""
    return "".join(c if c.isalnum() else f"_{ord(c):x}_" for c in text)


def anchor(bench: str, item_id: Any, kind: str = "") -> str:
    """The element id of an item's evidence card (``kind``: ``"answer"`` for its answer's card): one-to-one, the
    benchmark, the id (as JSON: ``1`` and ``"1"`` differ) and the kind joined by ``-``, which no part holds.

    Example:
        >>> anchor("toy", 'a"'), anchor("toy", "a_22")
        ('ev-toy-_22_a_5c__22__22_', 'ev-toy-_22_a_5f_22_22_')
    """
    parts = [bench, json.dumps(item_id, ensure_ascii=False)] + ([kind] if kind else [])
    return "ev-" + "-".join(_id_part(p) for p in parts)


def doc_key(m: Mapping[str, Any]) -> str:
    """Which document a match is in: its corpus-wide row where the report gives it (shards that each number
    their rows from 0 repeat doc ids), else its doc id."""
    return f"row {m['row']}" if "row" in m else "id " + json.dumps(m["doc_id"], ensure_ascii=False)


def evidence_card(bench: str, it: Mapping[str, Any], answer: bool = False) -> str:
    """One item's evidence: its matched probes, its question (or, for ``answer``, its answer) with the matched
    part highlighted, and up to :data:`MAX_EVIDENCE_DOCS` documents' excerpts with the matched span marked."""
    matches = it.get("answer_matches" if answer else "matches", [])
    docs: dict[str, Mapping[str, Any]] = {}
    for m in matches:
        docs.setdefault(doc_key(m), m)
    n_docs = len(docs) if answer else it.get("n_documents", len(docs))
    ev0 = next(iter(docs.values())).get("evidence") or {}
    probes = sorted({m["probe"] for m in matches})
    what = "answer" if answer else "question"
    text = it.get(what)
    card = ("card evidence answer", anchor(bench, it["id"], "answer"), "answer ", "answer ") if answer else \
        ("card evidence", anchor(bench, it["id"]), "", "")
    out = [f'<div class="{card[0]}" id="{card[1]}">',
           f'<div><b>item {user(it["id"])}</b> <span class="muted">{card[2]}found in {n_docs} training '
           f'document(s); matched {card[3]}probe(s): </span><code>{user(", ".join(probes))}</code></div>']
    if text is not None:
        out.append(f'<div class="muted">{what} (matched part highlighted):</div>')
        out.append(f'<div class="q">{highlight(text, ev0.get(what + "_highlight"))}</div>')
    for m in list(docs.values())[:MAX_EVIDENCE_DOCS]:
        out.append(_document_html(m))
    if n_docs > MAX_EVIDENCE_DOCS:
        out.append(f'<div class="muted">and {n_docs - MAX_EVIDENCE_DOCS} more document(s) '
                   '(all in the JSON report)</div>')
    out.append("</div>")
    return "".join(out)


def _document_html(m: Mapping[str, Any], what: str = "") -> str:
    """Where a match's document is, and its excerpt (original text) with the matched span marked; ``what`` is
    said after the characters (a near match's containment)."""
    ev = m.get("evidence")
    where = f'document <b class="doc-id">{user(m["doc_id"])}</b>'
    if "row" in m and not m.get("id_is_row"):
        where += f' <span class="muted">(row {m["row"]})</span>'
    if "field" in m and what:
        where += f' <span class="muted">(field {user(m["field"])})</span>'
    if not ev:
        return f'<div>{where}: <span class="muted">no excerpt in this report</span></div>'
    s = ev["start"]
    hs, he = ev["highlight"]
    end = s + len(ev["excerpt"])
    pre = "… " if s > 0 else ""
    post = " …" if end < ev.get("doc_chars", end) else ""
    return (f'<div>{where}, characters {s + hs}–{s + he} of {ev.get("doc_chars", "?")}{escape(what)} '
            '<span class="muted">(original text; matched span highlighted)</span></div>'
            f'<div class="doc">{escape(pre)}{highlight(ev["excerpt"], ev["highlight"])}{escape(post)}</div>')


def answer_leaks_html(benches: Sequence[Mapping[str, Any]]) -> str:
    """The page's answer-leak section (``--probe-answers``): per benchmark the answers probed and found, then
    the evidence of each item whose answer is in the corpus; nothing for a report made without the option."""
    with_answers = [b for b in benches if "answer_leak_ids" in b]
    if not with_answers:
        return ""
    rows = []
    for b in with_answers:
        contaminated = {json.dumps(i) for i in b["contaminated_ids"]}
        both = sum(1 for i in b["answer_leak_ids"] if json.dumps(i) in contaminated)
        cells = [b["n_answers_probed"], b["n_answer_leaks"], both, b["n_answer_leaks"] - both,
                 b["n_answers_not_probed"]]
        rows.append(f'<tr><td>{user(b["name"])}</td><td class="mono">{user(b.get("answer_field") or "none")}'
                    "</td>" + "".join(f'<td class="n">{c}</td>' for c in cells) + "</tr>")
    out = ['<h2 id="answer-leaks">Answer leaks (--probe-answers)</h2>',
           '<p class="muted">Probes drawn from each item\'s answer or solution too, reported apart: the figures above '
           "are the question's (the GPT-4 rule), unchanged. Answers shorter than the probe length are not probed."
           "</p>",
           '<table class="summary answers"><thead><tr><th>benchmark</th><th>answer field</th>'
           '<th class="n">answers probed</th><th class="n">answer found</th><th class="n">with the question</th>'
           '<th class="n">answer only</th><th class="n">not probed</th></tr></thead><tbody>', *rows,
           "</tbody></table>"]
    for b in with_answers:
        leaked = [it for it in b.get("items", []) if it.get("answer_leak")]
        if leaked:
            out.append(f'<h3>{user(b["name"])}: {len(leaked)} item(s) whose answer is in the corpus</h3>')
            out += [evidence_card(b["name"], it, answer=True) for it in leaked[:MAX_EVIDENCE_ITEMS]]
            if len(leaked) > MAX_EVIDENCE_ITEMS:
                out.append(f'<p class="muted">and {len(leaked) - MAX_EVIDENCE_ITEMS} more (all in the JSON '
                           "report)</p>")
    return "".join(out)


def near_note(near: Mapping[str, Any]) -> str:
    """What the near-duplicate figures are, in one paragraph (the card and the page say it alike)."""
    return (f"Items found by the near-duplicate pass in documents where the exact rule did not find them: at least "
            f"{near['threshold']!r} of the question's distinctive {near['shingle_bytes']}-byte shingles (of "
            "its normalized text, ASCII case folded; its benchmark's boilerplate left out) found in a window of "
            "the document about the question's length: containment measured on the text. The windows measured "
            f"are chosen by a MinHash estimate ({near['minhash']}, {near['num_perm']} permutations), so the search "
            "may miss near copies: an estimate, with no exactness guarantee. Not counted in the contamination "
            "figures above, which are the GPT-4 rule's alone.")


def near_dup_html(d: Mapping[str, Any]) -> str:
    """The page's near-duplicate section (``--near-dup``), under its own heading: per benchmark its near
    duplicates, each with its question and the documents' windows; nothing for a report made without the pass."""
    near = d.get("near_dup")
    if not near:
        return ""
    out = ['<h2 id="near-duplicates">Near duplicates (beyond the GPT-4 rule: an estimated search)</h2>',
           f'<p class="muted">{escape(near_note(near))}</p>']
    for b in d.get("benchmarks", []):
        ids = {json.dumps(i) for i in b.get("near_duplicate_ids", [])}
        items = [it for it in b.get("items", []) if json.dumps(it["id"]) in ids]
        out.append(f'<h3>{user(b["name"])}: {len(items)} near duplicate(s); {b.get("n_near_dup_unchecked", 0)} '
                   'item(s) not checked (too few distinctive shingles)</h3>')
        for it in items[:MAX_EVIDENCE_ITEMS]:
            ms = it["near_matches"]
            out.append(f'<div class="card near" id="{anchor(b["name"], it["id"], "near")}"><div><b>item '
                       f'{user(it["id"])}</b> <span class="muted">near-duplicated in {len(ms)} training '
                       'document(s)</span></div>')
            if "question" in it:
                out.append(f'<div class="q">{user(it["question"])}</div>')
            out += [_document_html(m, f"; containment {m['containment']:.4f} measured (estimate "
                                      f"{m['estimated_containment']:.2f}; threshold {m['threshold']!r})")
                    for m in ms[:MAX_EVIDENCE_DOCS]]
            if len(ms) > MAX_EVIDENCE_DOCS:
                out.append(f'<div class="muted">and {len(ms) - MAX_EVIDENCE_DOCS} more document(s) (all in the '
                           "JSON report)</div>")
            out.append("</div>")
        if len(items) > MAX_EVIDENCE_ITEMS:
            out.append(f'<p class="muted">and {len(items) - MAX_EVIDENCE_ITEMS} more (all in the JSON report)</p>')
    return "".join(out)

