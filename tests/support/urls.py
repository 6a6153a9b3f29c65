"""Build a sample URL for any rule of the URL map (whole-app walks)."""
from __future__ import annotations

from typing import Any


def sample_url(rule, known: dict[str, Any] | None = None) -> str:
    values: dict[str, Any] = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        name = converter.__class__.__name__
        if known and arg in known:
            values[arg] = known[arg]
        elif name == "AnyConverter":
            values[arg] = sorted(converter.items)[0] if hasattr(converter, "items") else converter.regex.split("|")[0]
        elif name in ("IntegerConverter", "NumberConverter"):
            values[arg] = 1
        else:
            values[arg] = "X1"
    return rule.build(values, append_unknown=False)[1]
