"""Read YAML the way the Kubernetes tool chain does: the YAML 1.2 core schema.

PyYAML's own loaders follow YAML 1.1, where an unquoted ``on`` is true,
``2026-02-30`` is a date (and a crash: the day is out of range), ``=`` is a
"value" tag nobody can construct and ``1:30`` is a base-60 integer. kustomize
(go-yaml v3) writes such strings back unquoted because, for it, they are
plain strings; the API server receives them as strings too. Reading them
back with YAML 1.1 rules would invent dates, booleans and tags that no
cluster ever sees.

Here only the core schema's plain scalars are typed: ``true``/``false``
(three spellings each), ``null``/``~``/empty, decimal, ``0o`` octal and
``0x`` hexadecimal integers, and floats (with ``.inf``/``.nan``).
Everything else is a string. Parsing stays on libyaml (the C scanner and
parser) when it is installed.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

try:
    from yaml.cyaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _CParser = None


class CoreResolver(Resolver):
    """Implicit tags of the YAML 1.2 core schema only."""

    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}


def _add(tag: str, pattern: str, first: str) -> None:
    CoreResolver.add_implicit_resolver(tag, re.compile(pattern, re.X), list(first))


_add("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
_add("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""])
_add("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789")
_add("tag:yaml.org,2002:float",
     r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""", "-+0123456789.")
# Merge keys (<<) are honoured by the Go YAML libraries too.
_add("tag:yaml.org,2002:merge", r"^(?:<<)$", "<")


class CoreConstructor(SafeConstructor):
    """SafeConstructor with the core schema's integer spellings."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        value = str(self.construct_scalar(node))
        if value.startswith("0o"):
            return int(value[2:], 8)
        if value.startswith("0x"):
            return int(value[2:], 16)
        return int(value, 10)

    def construct_yaml_bool(self, node: yaml.ScalarNode) -> bool:
        return str(self.construct_scalar(node)).lower() == "true"


CoreConstructor.add_constructor("tag:yaml.org,2002:int", CoreConstructor.construct_yaml_int)
CoreConstructor.add_constructor("tag:yaml.org,2002:bool", CoreConstructor.construct_yaml_bool)
# Explicit !!timestamp / !!binary / !!omap / !!set stay as SafeConstructor builds them;
# an explicit tag is the author's choice, not an accident of plain scalars.

if _CParser is not None:
    class CoreLoader(_CParser, CoreConstructor, CoreResolver):  # type: ignore[misc,valid-type]
        def __init__(self, stream: Any) -> None:
            _CParser.__init__(self, stream)
            CoreConstructor.__init__(self)
            CoreResolver.__init__(self)
else:  # pragma: no cover - PyYAML without libyaml
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class CoreLoader(Reader, Scanner, Parser, Composer, CoreConstructor, CoreResolver):  # type: ignore[no-redef]
        def __init__(self, stream: Any) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)
            CoreConstructor.__init__(self)
            CoreResolver.__init__(self)


# What reading untrusted YAML can raise besides a syntax error: a constructor's
# ValueError (`!!int abc`), a TypeError (an unhashable key), a RecursionError.
ERRORS = (yaml.YAMLError, ValueError, TypeError, RecursionError)


def load(stream: Any) -> Any:
    """One document, core schema."""
    return yaml.load(stream, Loader=CoreLoader)  # noqa: S506 - a safe constructor


def load_all(stream: Any) -> list[Any]:
    """Every document, core schema."""
    return list(yaml.load_all(stream, Loader=CoreLoader))  # noqa: S506 - a safe constructor


def compose_all(stream: Any) -> list[yaml.Node]:
    """The node trees of every document (for line numbers)."""
    return [n for n in yaml.compose_all(stream, Loader=CoreLoader) if n is not None]


# Plain scalars that a YAML 1.1 reader (PyYAML's safe_load, older tools) types
# differently from the core schema: worth a hint when a config value is wrong.
YAML11_SURPRISES = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)$"
)
