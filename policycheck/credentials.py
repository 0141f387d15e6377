"""What looks like a credential. Matching never returns or prints the value.

Every pattern here runs over text from untrusted pull requests, so each one is
linear in the length of that text: no match attempt can rescan what an earlier
attempt at another position already read.

- Runs are consumed with possessive quantifiers (``*+``, ``++``; Python 3.11),
  so a failing attempt never backtracks into them.
- A run that may be followed by more of itself (the URL scheme) can only start
  at a run boundary (the lookbehind), so an attempt starting inside a run,
  which would rescan its tail, fails after one character.
- A literal that ends a run (``PRIVATE KEY`` before ``-----``) is checked with
  a fixed-width lookbehind after the possessive run instead of by
  backtracking through it.

The run after one ``://``, ``sk-`` or ``-----BEGIN`` cannot reach past the
next one (``/``, ``-`` end those runs), so even a text made of nothing but
such starts is read a bounded number of times.

One value is scanned up to ``SCAN_LIMIT`` characters: a longer value is
scanned on its first and last ``SCAN_LIMIT // 2`` characters only (a
credential wholly inside the middle of a value of more than 1 MiB is not
seen; it is not a realistic place for one).
"""

from __future__ import annotations

import re

SCAN_LIMIT = 1 << 20  # characters of one value or name that are scanned

# "auth" counts only as a word of its own (BASIC_AUTH, auth-header), not inside
# authentication/authorization, which name modes and providers.
SENSITIVE_NAME = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|(?<![a-z])auth(?![a-z]))", re.IGNORECASE
)
# Names that mention a secret but hold a reference to one (or an image), not the value.
REFERENCE_NAME = re.compile(r"(_FILE|_PATH|_DIR|_NAME|_REF|_ID|_IMAGE)$", re.IGNORECASE)
# Values that are settings, never credentials: flags and plain numbers.
_SETTING_VALUE = re.compile(r"(?:true|false|yes|no|on|off|enabled?|disabled?|[-+]?[0-9]{1,6}(?:\.[0-9]+)?)",
                            re.IGNORECASE)


def is_setting_value(value: object) -> bool:
    """A flag or small number (``"true"``, ``"0"``): not a credential whatever its name says."""
    return isinstance(value, bool | int | float) or (isinstance(value, str) and bool(_SETTING_VALUE.fullmatch(
        value.strip())))

# A URL with user:password@. Same meaning as
# ``[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@``: a scheme run that contains a
# lower-case letter, right before ``://``; the user part stops at the first
# ``:`` and the password at the first ``@``, so neither needs backtracking.
# The group ``secret`` is the password.
URL_WITH_PASSWORD = re.compile(
    r"(?<![a-z0-9+.-])[0-9+.-]*+[a-z][a-z0-9+.-]*+://[^/\s:@]++:(?P<secret>[^/\s@]++)@"
)
# The header of a PEM private key: ``-----BEGIN [A-Z ]*PRIVATE KEY-----``.
PRIVATE_KEY_HEADER = re.compile(r"-----BEGIN [A-Z ]*+(?<=PRIVATE KEY)-----")
VALUE_PATTERNS: tuple[re.Pattern[str], ...] = (
    URL_WITH_PASSWORD,
    PRIVATE_KEY_HEADER,
    re.compile(r"\bsk-[A-Za-z0-9_-]{16,}+"),  # OpenAI-style API keys
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key ids
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}+\b"),  # GitHub tokens
    re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{10,}+"),  # Slack tokens
)


def scanned_parts(text: str) -> tuple[str, ...]:
    """The parts of ``text`` that are scanned: all of it, or its head and tail
    when it is longer than ``SCAN_LIMIT``."""
    if len(text) <= SCAN_LIMIT:
        return (text,)
    half = SCAN_LIMIT // 2
    return (text[:half], text[-half:])


def _as_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bool, int, float)):
        return None  # no pattern can match a number, a bool or null
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - deeply nested or hostile objects: nothing to scan
        return None


# Each of VALUE_PATTERNS needs one of these substrings: a string without any of them is
# answered by a few substring searches instead of six regular expressions (most
# strings of a render are names, labels and descriptions).
# None of them holds a character JSON escapes, so they also find candidates in JSON text.
NEEDS = re.compile(r"://|-----BEGIN|sk-|AKIA|gh[pousr]_|xox[abpr]-")


def value_looks_secret(value: object) -> bool:
    text = _as_text(value)
    if not text:
        return False
    return any(NEEDS.search(part) and any(p.search(part) for p in VALUE_PATTERNS) for part in scanned_parts(text))


def name_looks_secret(name: str) -> bool:
    text = name if isinstance(name, str) else _as_text(name)
    if not text:
        return False
    parts = scanned_parts(text)
    return any(SENSITIVE_NAME.search(part) for part in parts) and not REFERENCE_NAME.search(parts[-1])
