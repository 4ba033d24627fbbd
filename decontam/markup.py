"""Escaping text for Markdown: names, ids, paths and evidence are arbitrary text and must show as text.

A benchmark name with ``|`` would split a table row, a backtick would end a code span, ``<b>`` would become
markup, a newline would end the line. :func:`md_text` escapes prose, :func:`md_code` makes a code span that
holds any text, :func:`md_fence` a fenced block that no line of its content can close.

Example:
    >>> md_text("a|b <i>x</i> *y*")
    'a\\\\|b \\\\<i\\\\>x\\\\</i\\\\> \\\\*y\\\\*'
    >>> md_code("id `with` ticks|and\\nlines", table=True)
    '``id `with` ticks\\\\|and lines``'
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["md_code", "md_fence", "md_text"]

# The characters that can start markup in the middle of a line (code, emphasis, links, HTML, table cells,
# strikethrough, entities); an underscore inside a word (exact_match) cannot start emphasis in GFM and is left
# as it is, for readable cards. Text never starts a line here (cells and list items do), so line-start markers
# (#, +, -, digits) need nothing.
_SPECIAL = re.compile(r"([\\`*\[\]<>|~&]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
_NEWLINES = re.compile(r"\r\n|\r|\n")


def md_text(value: Any) -> str:
    """``value`` as Markdown prose that renders as the text itself, on one line (table cells included)."""
    return _SPECIAL.sub(r"\\\1", _NEWLINES.sub(" ", str(value)))


def md_code(value: Any, table: bool = False) -> str:
    """``value`` as an inline code span, on one line, whatever backticks it holds (in a table cell,
    ``table=True`` escapes its pipes too, which tables read before code spans)."""
    text = _NEWLINES.sub(" ", str(value))
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
