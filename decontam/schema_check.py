"""Checking a JSON document against a JSON Schema: the keywords the report schema uses, as draft 2020-12 defines
them, without a dependency (``jsonschema`` is a test dependency only; the tests hold this module to it).

A report edited by hand can break a command that reads it in ways no check foresaw; :func:`schema_problem` says
how it departs from its schema, so that the failure is said as what it is.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["schema_problem", "shipped_schema"]


def shipped_schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped in ``decontam/schema/`` (``report``, ``rescore``), as a dict."""
    from importlib import resources

    return json.loads(resources.files("decontam").joinpath(f"schema/{name}.schema.json").read_text("utf-8"))


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


_JSON_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool), "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool) or isinstance(v, float) and v.is_integer(),
}


def schema_problem(doc: Any, schema: dict[str, Any], at: str = "", root: dict[str, Any] | None = None) -> str | None:
    """The first way ``doc`` departs from ``schema``, as ``"at benchmarks[0].n_items: expected integer, found a
    str"``; None if it conforms.

    Checks the keywords the report schema uses (``type``, ``const``, ``enum``, ``minimum``, ``maximum``,
    ``pattern``, ``minItems``, ``maxItems``, ``uniqueItems``, ``required``, ``properties``,
    ``additionalProperties``, ``items``, ``oneOf``, ``anyOf``, and ``$ref`` within the schema: ``#`` or
    ``#/$defs/NAME``), as JSON Schema defines them, numbers being finite as JSON's are; it descends only where
    the schema does, so a document nested beyond reason costs nothing. ``root`` is the whole schema (for
    ``$ref``; default ``schema``).

    Example:
        >>> schema_problem({"tool": "decontam"}, {"properties": {"tool": {"type": "object"}}})
        'at tool: expected object, found a str'
    """
    root = schema if root is None else root
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref != "#" and not ref.startswith("#/$defs/"):
            raise ValueError(f"unsupported $ref {ref!r} (only '#' and '#/$defs/NAME')")
        return schema_problem(doc, root if ref == "#" else root["$defs"][ref.removeprefix("#/$defs/")], at, root)
    where = f"at {at or 'the top'}: "
    types = schema.get("type")
    if types is not None and not any(_JSON_TYPES[t](doc) for t in ([types] if isinstance(types, str) else types)):
        return f"{where}expected {' or '.join([types] if isinstance(types, str) else types)}, found a {type(doc).__name__}"
    if "const" in schema and not _same(doc, schema["const"]):
        return f"{where}expected {json.dumps(schema['const'])}"
    if "enum" in schema and not any(_same(doc, e) for e in schema["enum"]):
        return f"{where}expected one of {json.dumps(schema['enum'])}"
    number = _JSON_TYPES["number"](doc)
    if number and not math.isfinite(doc):  # Python's json reads NaN and Infinity, which JSON has not
        return f"{where}{doc} is not a number JSON allows"
    if number and "minimum" in schema and doc < schema["minimum"] or \
            number and "maximum" in schema and doc > schema["maximum"]:
        return f"{where}{doc} is out of range [{schema.get('minimum', '')}, {schema.get('maximum', '')}]"
    if isinstance(doc, str) and "pattern" in schema and not re.search(schema["pattern"], doc):
        return f"{where}does not match {schema['pattern']}"
    for key, value in schema.items():
        if key in ("oneOf", "anyOf"):
            fits = sum(schema_problem(doc, option, at, root) is None for option in value)
            if fits == 0 or key == "oneOf" and fits > 1:
                return f"{where}matches {fits} of the forms the schema allows ({key})"
    if isinstance(doc, list):
        return _array_problem(doc, schema, at, where, root)
    if isinstance(doc, dict):
        missing = [k for k in schema.get("required", ()) if k not in doc]
        if missing:
            return f"{where}no {missing[0]}"
        extra = schema.get("additionalProperties")
        for key, value in doc.items():
            sub = schema.get("properties", {}).get(key, extra if isinstance(extra, dict) else None)
            problem = None if sub is None else schema_problem(value, sub, f"{at}.{key}" if at else key, root)
            if problem:
                return problem
    return None


def _array_problem(doc: list[Any], schema: dict[str, Any], at: str, where: str, root: dict[str, Any]) -> str | None:
    if len(doc) < schema.get("minItems", 0) or len(doc) > schema.get("maxItems", len(doc)):
        return f"{where}{len(doc)} elements, outside [{schema.get('minItems', 0)}, {schema.get('maxItems', '')}]"
    if schema.get("uniqueItems") and len({json.dumps(v, sort_keys=True) for v in doc}) < len(doc):
        return f"{where}elements repeat"
    if isinstance(schema.get("items"), dict):
        for i, value in enumerate(doc):
            problem = schema_problem(value, schema["items"], f"{at}[{i}]", root)
            if problem:
                return problem
    return None
