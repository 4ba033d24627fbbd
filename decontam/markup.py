"""Escaping text for Markdown: names, ids, paths and evidence are arbitrary text and must show as text.

A benchmark name with ``|`` would split a table row, a backtick would end a code span, ``<b>`` would become
markup, a newline would end the line, ``# `` at the start of a list item would make a heading, a right-to-left
override (U+202E) would turn the figures after it around. :func:`md_text` escapes prose, :func:`md_code` makes a
code span that holds any text, :func:`md_fence` a fenced block that no line of its content can close; both show
bidi controls as their code (:func:`show_bidi`). :func:`percent` writes a rate the one way every rendering does.

Example:
    >>> md_text("a|b <i>x</i> *y*")
    'a\\\\|b \\\\<i\\\\>x\\\\</i\\\\> \\\\*y\\\\*'
    >>> md_code("id `with` ticks|and\\nlines", table=True)
    '``id `with` ticks\\\\|and lines``'
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["BIDI_CONTROLS", "md_code", "md_fence", "md_text", "percent", "rate_text", "show_bidi"]

# The characters that can start markup in the middle of a line (code, emphasis, links, HTML, table cells,
# strikethrough, entities); an underscore inside a word (exact_match) cannot start emphasis in GFM and is left
# as it is, for readable cards.
_SPECIAL = re.compile(r"([\\`*\[\]<>|~&]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
# Text may start a list item's content ("- {name}: ..."), where a heading (# x), a list marker (- x, + x, 1. x,
# 1) x) or a thematic break (---) would start block markup: the marker's first character (or the punctuation
# after the digits) is escaped. Elsewhere (a table cell holding 0.5000 or +0.05) nothing matches.
_BLOCK_START = re.compile(r"^( {0,3})(?:[#+-](?=[ \t]|$)|#{2,6}(?=[ \t]|$)|-(?=(?:[ \t]*-){2,}[ \t]*$)"
                          r"|\d{1,9}(?=[.)](?:[ \t]|$)))")
_NEWLINES = re.compile(r"\r\n|\r|\n")
# The Unicode bidirectional controls: marks, embeddings, overrides and isolates. One in a name would reorder
# the text after it ("characters 6-107 of 108" shown as "801 fo 701-6"): shown as their code instead.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


def show_bidi(text: str, backslash: str = "\\") -> str:
    """``text`` with each bidi control written as its code (``\\u202e``), ``backslash`` standing for the
    backslash (``"\\\\"`` in Markdown prose, which escapes backslashes).

    Example:
        >>> show_bidi("doc" + chr(0x202E) + "abc")
        'doc\\\\u202eabc'
    """
    return _BIDI.sub(lambda m: f"{backslash}u{ord(m.group()):04x}", text)


def md_text(value: Any) -> str:
    """``value`` as Markdown prose that renders as the text itself, on one line (table cells included), also at
    the start of a line or a list item; bidi controls shown as their code."""
    text = _SPECIAL.sub(r"\\\1", _NEWLINES.sub(" ", str(value)))
    text = _BLOCK_START.sub(_escape_block_start, text, count=1)
    return show_bidi(text, "\\\\")


def _escape_block_start(m: re.Match[str]) -> str:
    """A line-start marker made text: ``\\#``, ``\\-``, ``\\+``, or ``1\\.`` for digits (before their dot)."""
    marker = m.group()[len(m.group(1)):]
    return m.group(1) + (marker + "\\" if marker[0].isdigit() else "\\" + marker)


def percent(count: int, total: int) -> str:
    """``count`` of ``total`` as a percentage with two decimals, never rounded to all or none: 100% only when
    ``count`` is ``total``, 0% only when it is 0 (0 of 0 too).

    Example:
        >>> percent(1, 3), percent(19_999, 20_000), percent(1, 200_000), percent(4, 4)
        ('33.33%', '>99.99%', '<0.01%', '100.00%')
    """
    return rate_text(min(count, total) / total) if count > 0 and total > 0 else rate_text(0.0)


def rate_text(rate: float, digits: int = 2) -> str:
    """A rate (0 to 1) as a percentage, never rounded to all or none: 100% only for 1, 0% only for 0.

    Example:
        >>> rate_text(0.99995), rate_text(1e-6), rate_text(1.0), rate_text(0.25, 1)
        ('>99.99%', '<0.01%', '100.00%', '25.0%')
    """
    text = f"{rate:.{digits}%}"
    top, bottom = f"{1:.{digits}%}", f"{0:.{digits}%}"
    if text == top and rate < 1:
        return ">" + f"{1 - 10 ** -(digits + 2):.{digits}%}"
    if text == bottom and rate > 0:
        return "<" + f"{10 ** -(digits + 2):.{digits}%}"
    return text


def md_code(value: Any, table: bool = False) -> str:
    """``value`` as an inline code span, on one line, whatever backticks it holds (in a table cell,
    ``table=True`` escapes its pipes too, which tables read before code spans)."""
    text = show_bidi(_NEWLINES.sub(" ", str(value)))
    if table:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    # A span whose text starts and ends with a space loses one of each (CommonMark), and one that starts or ends
    # with a backtick would merge it into the fence: pad those with a space each side.
    edges = text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" "))
    pad = " " if text.strip(" ") and edges else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_fence(text: str, info: str = "") -> list[str]:
    """The lines of a fenced code block holding ``text``, its fence longer than any backtick run inside."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return [fence + info, *text.splitlines(), fence]
