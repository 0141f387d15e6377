"""Typed reads of rendered objects that never raise.

Rendered objects come from untrusted pull requests: any field can hold any
type, and kustomize renders most of them happily (``env: {A: b}``,
``targetPort: [80]``, ``spec: 1``). Rules therefore read objects only
through :class:`Node`, in the manner of apimachinery's
``unstructured.NestedString``: every read says which type it expects; a
value of another type reads as absent, and the problem is recorded once per
object and path (rule ``field-type`` reports it). ``null`` reads as absent
without a problem, as the API server treats it.

A rule built on these reads cannot crash on a shape, so one odd object
costs one finding, not the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# Dotted-path keys that need quoting: anything but a plain identifier-ish key.
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_$/-]+$")

# When a list, every typed read is appended here as (object id, path, expected type names).
# tests/test_field_types.py uses it to find every field a rule reads.
TRACE: list[tuple[int, str, tuple[str, ...]]] | None = None
# When a set, the id of the Shape of every object read is added (which objects a rule ran on).
READS: set[int] | None = None


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def child_path(base: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{base}[{key}]"
    if _PLAIN_KEY.match(key):
        return f"{base}.{key}" if base else key
    quoted = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{base}["{quoted}"]'


class Shape:
    """Shape problems of one object: path -> "expected X, got Y" (first one wins)."""

    __slots__ = ("problems",)

    def __init__(self) -> None:
        self.problems: dict[str, str] = {}

    def wrong(self, path: str, expected: tuple[str, ...], value: Any) -> None:
        if path not in self.problems:
            self.problems[path] = f"expected {' or '.join(expected)}, got {type_name(value)}"


_EXPECT = {
    "mapping": dict, "list": list, "string": str, "boolean": bool,
}


def _is(value: Any, expected: tuple[str, ...]) -> bool:
    for name in expected:
        if name == "integer":
            if isinstance(value, int) and not isinstance(value, bool):
                return True
        elif name == "number":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return True
        elif name == "scalar":
            if isinstance(value, str | int | float | bool):
                return True
        elif isinstance(value, _EXPECT[name]):
            return True
    return False


class Node:
    """A read-only view of the value at ``path`` of one object."""

    __slots__ = ("path", "shape", "value")

    def __init__(self, value: Any, path: str, shape: Shape) -> None:
        self.value = value
        self.path = path
        self.shape = shape

    def __repr__(self) -> str:
        return f"Node({self.path!r})"

    # -- plumbing -------------------------------------------------------
    def _raw(self, key: str) -> Any:
        return self.value.get(key) if isinstance(self.value, dict) else None

    def _typed(self, key: str | int, value: Any, expected: tuple[str, ...]) -> Any:
        path = child_path(self.path, key)
        if TRACE is not None:
            TRACE.append((id(self.shape), path, expected))
        if READS is not None:
            READS.add(id(self.shape))
        if value is None:
            return None
        if _is(value, expected):
            return value
        self.shape.wrong(path, expected, value)
        return None

    def child(self, key: str | int, value: Any) -> Node:
        return Node(value, child_path(self.path, key), self.shape)

    # -- reads of a key of this mapping ---------------------------------
    def has(self, key: str) -> bool:
        """The key is present with a non-null value (of any type)."""
        return self._raw(key) is not None

    def get(self, key: str, *expected: str) -> Any:
        """The value of ``key`` if it has one of the expected types, else None."""
        return self._typed(key, self._raw(key), expected or ("scalar",))

    def str(self, key: str) -> str | None:
        return self._typed(key, self._raw(key), ("string",))

    def int(self, key: str) -> int | None:
        return self._typed(key, self._raw(key), ("integer",))

    def bool(self, key: str) -> bool | None:
        return self._typed(key, self._raw(key), ("boolean",))

    def port(self, key: str) -> int | str | None:
        """An IntOrString field (ports, targetPort)."""
        return self._typed(key, self._raw(key), ("integer", "string"))

    def map(self, key: str) -> Node:
        """The mapping under ``key`` (an empty one when absent or of another type)."""
        value = self._typed(key, self._raw(key), ("mapping",))
        return Node(value if value is not None else {}, child_path(self.path, key), self.shape)

    def list(self, key: str) -> list[Node]:
        """The items of the list under ``key`` (none when absent or of another type)."""
        value = self._typed(key, self._raw(key), ("list",))
        base = child_path(self.path, key)
        return [Node(item, f"{base}[{i}]", self.shape) for i, item in enumerate(value or ())]

    def _items(self, key: str, expected: str) -> list[Node]:
        """Items of the list under ``key`` of one type; others are recorded and skipped."""
        out = []
        for item in self.list(key):
            if _is(item.value, (expected,)):
                out.append(item)
            elif item.value is not None:
                self.shape.wrong(item.path, (expected,), item.value)
        return out

    def maps(self, key: str) -> list[Node]:
        """The mapping items of the list under ``key``; other items are recorded and skipped."""
        return self._items(key, "mapping")

    def str_items(self, key: str) -> list[Node]:
        """The string items of the list under ``key``, as nodes (for their paths)."""
        return self._items(key, "string")

    def strs(self, key: str) -> list[str]:
        """The string items of the list under ``key``; other items are recorded and skipped."""
        return [item.value for item in self.str_items(key)]

    def str_map(self, key: str) -> dict[str, str]:
        """A map of strings (labels, selectors, data): entries of other types are recorded and skipped."""
        node = self.map(key)
        out = {}
        for k, v in node.items():
            if isinstance(k, str) and isinstance(v, str):
                out[k] = v
            elif v is not None:
                self.shape.wrong(child_path(node.path, str(k)), ("string",), v if isinstance(k, str) else k)
        return out

    # -- this node as a mapping or list ----------------------------------
    def items(self) -> Iterator[tuple[Any, Any]]:
        return iter(self.value.items()) if isinstance(self.value, dict) else iter(())

    def keys(self) -> list[Any]:
        return list(self.value) if isinstance(self.value, dict) else []

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)
