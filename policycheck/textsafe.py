"""Text taken from the input, made safe to print on a terminal or in a CI log.

Kinds, names, messages and exemption reasons come from untrusted pull
requests. Raw, a NUL, BEL, ESC, CR or newline in them could recolour a
terminal, rewrite a line or print a fake summary line; so every control
character (C0, DEL, C1) and every Unicode line separator or bidirectional
override is written as an escape (``\\x1b``, ``\\u2028``).
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: object) -> str:
    """``text`` with control and line-breaking characters escaped (one line, always)."""
    return _UNSAFE.sub(_escape, str(text))
