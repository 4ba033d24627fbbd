"""The text of a row: one text field, several, or a chat of messages, as *segments* matched one by one.

A row is checked segment by segment and never across a segment boundary: with ``text_field=["prompt",
"response"]`` the prompt and the response are two segments; a chat field (a list of ``{"role", "content"}``
messages, OpenAI style, ``content`` a string or a list of parts with ``text``; or ShareGPT's ``{"from",
"value"}``) gives one segment per message. Segments are labelled (``response``, ``messages[2]``) so that a match
says where it was found. With the one plain field of the GPT-4 rule (``text``) a row is one segment and nothing
is labelled: reports are what they always were.

When the requested field is the default ``text`` and a file's rows have no ``text`` but a chat field
(``messages``, ``conversations``), that field is used, and the report says so.

Example:
    >>> row_segments({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": None},
    ...                            {"role": "user", "content": [{"type": "text", "text": "Bye"}]}]}, ("messages",))
    [('messages[0]', 'Hi'), ('messages[2]', 'Bye')]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from .batch import TextEdit, arrow_mask, bad_texts, is_text_type, large_strings

__all__ = ["CHAT_FIELDS", "DEFAULT_FIELDS", "FieldProblem", "arrow_segments", "chosen_fields", "cut_text", "edit_row",
           "flatten_segments", "is_plain", "label_field", "row_segments", "segments_of_columns"]

DEFAULT_FIELDS = ("text",)
CHAT_FIELDS = ("messages", "conversations")  # tried, in order, when the default text field is absent
_CALL_KEYS = frozenset(("tool_calls", "function_call"))  # a message that calls a tool may have no content


class FieldProblem(Exception):
    """Why a row has no checkable text: the field concerned and the reason."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def is_plain(fields: Sequence[str]) -> bool:
    """Whether ``fields`` is one field, read as one string per row (the GPT-4 rule's case)."""
    return len(fields) == 1


def chosen_fields(fields: Sequence[str], names: Sequence[str]) -> tuple[str, ...]:
    """The fields to read from rows whose fields (or columns) are ``names``: ``fields``, or, for the default
    ``text`` absent from ``names``, the first chat field present.

    Example:
        >>> chosen_fields(("text",), ["id", "messages"]), chosen_fields(("prompt", "response"), ["prompt"])
        (('messages',), ('prompt', 'response'))
    """
    fields = tuple(fields)
    if fields == DEFAULT_FIELDS and "text" not in names:
        for chat in CHAT_FIELDS:
            if chat in names:
                return (chat,)
    return fields


def row_segments(row: Mapping[str, Any], fields: Sequence[str]) -> list[tuple[str, str]]:
    """The labelled segments of one row (a parsed JSON object, a dict).

    A field that is missing, null or of another type is a problem (the row is rejected or an error names
    it), and so is a chat message of another shape (neither ``content`` nor ``value``); a chat message without
    text (a tool call, say) is no segment.

    Raises:
        FieldProblem: naming the field and what is wrong with it.
    """
    out: list[tuple[str, str]] = []
    for field in fields:
        if field not in row:
            names = ", ".join(sorted(map(str, row))[:10])
            raise FieldProblem(field, f"missing text field; use --text-field to name the field holding the text "
                                      f"(fields here: {names})")
        value = row[field]
        if isinstance(value, str):
            out.append((field, value))
        elif value is None:
            raise FieldProblem(field, "text is null")
        elif isinstance(value, list) and all(isinstance(m, dict) for m in value):
            out += _chat_segments(field, value)
        else:
            raise FieldProblem(field, f"text field must be a string, got {type(value).__name__} (or a list of "
                                      "chat messages)")
    return out


def _chat_segments(field: str, messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The segments of one chat: a message of another shape (its text under a key decontam does not read) is a
    problem, never read as empty; a message that is a tool call (``content`` null or absent beside
    ``tool_calls``) and parts that are not text (an image) have no text, and are no segment."""
    out = []
    for i, message in enumerate(messages):
        if "content" not in message and "value" not in message and not _CALL_KEYS.intersection(message):
            keys = ", ".join(sorted(map(str, message))[:10])
            raise FieldProblem(field, f"message {i} has neither content (OpenAI style) nor value (ShareGPT) "
                                      f"(its keys: {keys}); name a field holding plain text with --text-field")
        content = message.get("content", message.get("value"))
        if isinstance(content, list):  # parts: the text ones, joined (a message is one segment)
            texts = [p.get("text") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
            untexted = next((p["type"] for p in content if isinstance(p, dict) and not isinstance(p.get("text"), str)
                             and "text" in str(p.get("type", ""))), None)
            if untexted is not None:
                raise FieldProblem(field, f"message {i}: a part of type {untexted!r} has no text string")
            content = "\n".join(texts) if texts else None
        if isinstance(content, str):
            out.append((f"{field}[{i}]", content))
        elif content is not None:
            raise FieldProblem(field, f"message {i}: content must be a string or a list of parts with text, got "
                                      f"{type(content).__name__}")
    return out


def flatten_segments(per_row: Sequence[list[tuple[str, str]]],
                     fields: Sequence[str]) -> tuple[list[str], np.ndarray | None, list[str] | None]:
    """Rows' segments laid out for a batch: the texts, and each one's row and label, or ``None, None`` when
    every row is one plain text of the one field (the GPT-4 rule's case: nothing labelled).

    Example:
        >>> flatten_segments([[("text", "a")], [("text", "b")]], ("text",))
        (['a', 'b'], None, None)
        >>> texts, rows, labels = flatten_segments([[("q", "a"), ("r", "b")], [("q", "c")]], ("q", "r"))
        >>> texts, rows.tolist(), labels
        (['a', 'b', 'c'], [0, 0, 1], ['q', 'r', 'q'])
    """
    if len(fields) == 1 and all(len(s) == 1 and s[0][0] == fields[0] for s in per_row):
        return [s[0][1] for s in per_row], None, None
    texts = [t for s in per_row for _, t in s]
    rows = np.repeat(np.arange(len(per_row), dtype=np.int64), [len(s) for s in per_row])
    return texts, rows, [label for s in per_row for label, _ in s]


def segments_of_columns(columns: Mapping[str, pa.Array], fields: Sequence[str],
                        n_rows: int) -> tuple[pa.Array, np.ndarray, list[str]] | None:
    """The segments of a batch whose fields are Arrow columns without nulls: their texts (a ``large_string``
    array), each one's row and label, in row order (a row's fields in the order given); None when a column is
    not one the Arrow path reads (strings, or chats: lists of structs with a string ``content`` or ``value``),
    for the row-by-row path to read."""
    parts: list[tuple[pa.Array, np.ndarray, list[str]]] = []
    for field in fields:
        col = columns[field]
        if is_text_type(col.type):
            parts.append((large_strings(col).cast(pa.large_string()), np.arange(n_rows, dtype=np.int64),
                          [field] * n_rows))
            continue
        got = _chat_column(col, field)
        if got is None:
            return None
        parts.append(got)
    texts = pa.concat_arrays([p[0] for p in parts]) if parts else pa.array([], pa.large_string())
    rows = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
    labels = [lab for p in parts for lab in p[2]]
    order = np.argsort(rows, kind="stable")
    indices = pa.Array.from_buffers(pa.int64(), len(order), [None, pa.py_buffer(order.astype(np.int64))])
    return texts.take(indices), rows[order], [labels[i] for i in order.tolist()]


def _chat_column(col: pa.Array, field: str) -> tuple[pa.Array, np.ndarray, list[str]] | None:
    """The messages with text of a list-of-structs column (``content`` or ``value`` a string, or ``content`` a
    list of parts with a string ``text``, joined with newlines as :func:`row_segments` joins them)."""
    key = _chat_key(col.type)
    if key is None:
        return None
    import pyarrow.compute as pc  # only chat columns need it

    flat = pc.list_flatten(col)
    parents = np.asarray(pc.list_parent_indices(col).to_numpy(zero_copy_only=False), dtype=np.int64)
    offsets = np.asarray(col.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    position = np.arange(len(flat), dtype=np.int64) + offsets[0] - offsets[parents]
    contents = flat.field(key)
    if is_text_type(contents.type):
        contents = large_strings(contents)
    else:  # a list of parts: each message's text parts, joined (a message without one has no text)
        parts = pc.list_flatten(contents)
        texts = large_strings(parts.field("text"))
        has = np.asarray(texts.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        of = np.asarray(pc.list_parent_indices(contents).to_numpy(zero_copy_only=False), dtype=np.int64)[has]
        counts = np.bincount(of, minlength=len(contents))
        lists = pa.LargeListArray.from_arrays(pa.array(np.concatenate(([0], np.cumsum(counts))), pa.int64()),
                                              texts.filter(arrow_mask(has)).cast(pa.large_string()),
                                              mask=arrow_mask(counts == 0))
        contents = pc.binary_join(lists, pa.scalar("\n", pa.large_string()))
    valid = np.asarray(contents.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    keep = np.flatnonzero(valid)
    indices = pa.Array.from_buffers(pa.int64(), len(keep), [None, pa.py_buffer(keep.astype(np.int64))])
    return (contents.take(indices).cast(pa.large_string()), parents[keep],
            [f"{field}[{p}]" for p in position[keep].tolist()])


def _chat_key(t: pa.DataType) -> str | None:
    """The key of a chat column's messages that holds their text (``content`` or ``value``: text, or
    ``content`` a list of parts with a ``text`` of text), or None for a column of another type."""
    if not (pa.types.is_list(t) or pa.types.is_large_list(t)) or not pa.types.is_struct(t.value_type):
        return None
    item = t.value_type
    key = next((k for k in ("content", "value") if item.get_field_index(k) >= 0), None)
    if key is None:
        return None
    content = item.field(key).type
    if is_text_type(content):
        return key
    if key == "content" and (pa.types.is_list(content) or pa.types.is_large_list(content)) and \
            pa.types.is_struct(content.value_type) and content.value_type.get_field_index("text") >= 0 and \
            is_text_type(content.value_type.field("text").type):
        return key
    return None


def _part_problems(col: pa.Array, field: str) -> dict[int, str]:
    """The rows of a chat column whose messages' content parts include a text part without a text string (a
    part whose type names text, its ``text`` null), as :func:`row_segments` finds them: the first such part of
    the first such message."""
    key = _chat_key(col.type)
    if key is None or is_text_type(col.type.value_type.field(key).type):
        return {}
    import pyarrow.compute as pc

    flat = pc.list_flatten(col)
    contents = flat.field(key)
    parts = pc.list_flatten(contents)
    if parts.type.get_field_index("type") < 0 or parts.field("text").null_count == 0:
        return {}
    types = large_strings(parts.field("type")) if is_text_type(parts.type.field("type").type) else None
    if types is None:
        return {}
    untexted = pc.and_(pc.is_null(parts.field("text")), pc.fill_null(pc.match_substring(types, "text"), False))
    flagged = np.flatnonzero(np.asarray(untexted.to_numpy(zero_copy_only=False), dtype=bool))
    if not len(flagged):
        return {}
    message = np.asarray(pc.list_parent_indices(contents).to_numpy(zero_copy_only=False), dtype=np.int64)[flagged]
    rows = np.asarray(pc.list_parent_indices(col).to_numpy(zero_copy_only=False), dtype=np.int64)[message]
    offsets = np.asarray(col.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    out: dict[int, str] = {}
    for part, msg, row in zip(flagged.tolist(), message.tolist(), rows.tolist()):
        out.setdefault(row, f"message {msg + offsets[0] - offsets[row]}: a part of type "
                            f"{types[part].as_py()!r} has no text string")
    return out


def arrow_segments(columns: Mapping[str, pa.Array], fields: Sequence[str], n_rows: int,
                   max_bytes: int | None, known: Mapping[int, tuple[str | None, str]] | None = None,
                   ) -> tuple[pa.Array, np.ndarray, list[str], dict[int, tuple[str | None, str]], np.ndarray] | None:
    """The segments of a batch of Arrow columns, with the rows that cannot be checked set apart.

    Returns:
        ``(texts, segment_row, labels, bad, keep)``: the segments of the good rows (``segment_row`` indexes the
        good rows, in order), ``bad`` maps a row to ``(field, reason)`` (a null field, invalid UTF-8, a text
        over ``max_bytes``; and the rows of ``known``, found bad already, e.g. for their id), ``keep`` is the
        good rows' mask; or None when a column is of a type the Arrow path does not read.
    """
    bad: dict[int, tuple[str | None, str]] = dict(known or {})
    for field in fields:
        col = columns[field]
        if col.null_count:
            valid = np.asarray(col.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
            for i in np.flatnonzero(~valid).tolist():
                bad.setdefault(i, (field, "text is null"))
        for i, why in _part_problems(col, field).items():
            bad.setdefault(i, (field, why))
    keep = np.ones(n_rows, dtype=bool)
    keep[list(bad)] = False
    got = segments_of_columns({f: columns[f].filter(arrow_mask(keep)) for f in fields}, fields, int(keep.sum()))
    if got is None:
        return None
    texts, rows, labels = got
    kept = np.flatnonzero(keep)
    for seg, reason in bad_texts(texts, max_bytes).items():
        bad.setdefault(int(kept[rows[seg]]), (labels[seg].split("[")[0], reason))
    if len(bad) > n_rows - len(kept):  # some segments were bad: drop their rows' segments
        keep[list(bad)] = False
        good = keep[kept[rows]]
        texts = texts.filter(arrow_mask(good))
        labels = [lab for lab, g in zip(labels, good.tolist()) if g]
        rows = rows[good]
    position = np.cumsum(keep) - 1  # a good row's position among the good rows
    return texts, position[kept[rows]] if len(rows) else rows, labels, dict(sorted(bad.items())), keep


# ---------------------------------------------------------------------------------- writing redacted rows


def cut_text(text: str, cuts: Sequence[tuple[int, int]]) -> str:
    """``text`` without the characters of sorted, disjoint ranges ``cuts``.

    Example:
        >>> cut_text("keep CUT keep", [(5, 9)])
        'keep keep'
    """
    if not cuts:
        return text
    out, at = [], 0
    for a, b in cuts:
        out.append(text[at:a])
        at = b
    out.append(text[at:])
    return "".join(out)


def label_field(label: str | None, plain_field: str, names: Sequence[str] = ()) -> tuple[str, int | None]:
    """The field of a segment label, and the message's index for a chat message (None for a string field).

    Example:
        >>> label_field("messages[2]", "text"), label_field("response", "text"), label_field(None, "text")
        (('messages', 2), ('response', None), ('text', None))
    """
    if label is None or label in names or not label.endswith("]") or "[" not in label:
        return (plain_field if label is None else label), None
    at = label.rindex("[")
    return label[:at], int(label[at + 1 : -1])


def _cut_value(value: str, edit: TextEdit) -> str:
    """A string value with an edit's cuts made (its ``new_text`` when given: the text that was checked)."""
    if edit.new_text is not None:
        return edit.new_text
    if len(value) != edit.n_characters:
        raise ValueError(f"the text to redact has {len(value)} characters, the one checked {edit.n_characters}")
    return cut_text(value, edit.cuts)


def _cut_parts(parts: list[Any], edit: TextEdit) -> list[Any]:
    """A message's content parts with an edit's cuts made: the cuts are offsets of the parts' texts joined
    with newlines (the segment :func:`row_segments` reads), and each part keeps what is left of its own text."""
    texts = [p for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]
    if len("\n".join(p["text"] for p in texts)) != edit.n_characters:
        raise ValueError("the message parts to redact differ from the ones checked")
    out, at = [], 0
    for p in parts:
        if not (isinstance(p, dict) and isinstance(p.get("text"), str)):
            out.append(p)
            continue
        n = len(p["text"])
        own = [(max(a, at) - at, min(b, at + n) - at) for a, b in edit.cuts if a < at + n and b > at]
        out.append({**p, "text": cut_text(p["text"], own)})
        at += n + 1
    return out


def edit_row(row: Mapping[str, Any], edits: Sequence[TextEdit], plain_field: str) -> dict[str, Any]:
    """A copy of a row (a parsed JSON object, a dict) with its redacted texts in place of the originals; the
    row given is not changed, nor are the lists and messages it holds.

    Args:
        row: The row.
        edits: Its texts to redact, by segment label (None: ``plain_field``).
        plain_field: The one text field of rows read as one plain text.

    Raises:
        ValueError: A text that is not the one checked (another length), or a label the row does not have.

    Example:
        >>> edit_row({"id": 1, "text": "keep CUT keep"}, [TextEdit(None, [(5, 9)], 13)], "text")
        {'id': 1, 'text': 'keep keep'}
    """
    out = dict(row)
    copied: set[str] = set()
    for edit in edits:
        field, index = label_field(edit.label, plain_field,
                                   [k for k, v in row.items() if isinstance(v, str)])
        if index is None:
            out[field] = _cut_value(out[field], edit)
            continue
        if field not in copied:
            out[field] = list(row[field])
            copied.add(field)
        message = dict(out[field][index])
        key = "content" if "content" in message else "value"  # as _chat_segments reads a message
        content = message[key]
        message[key] = _cut_value(content, edit) if isinstance(content, str) else _cut_parts(content, edit)
        out[field][index] = message
    return out
