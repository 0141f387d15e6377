"""What looks like a credential. Matching never returns or prints the value."""

from __future__ import annotations

import re

SENSITIVE_NAME = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)", re.IGNORECASE
)
# Names that mention a secret but hold a reference to one, not the value.
REFERENCE_NAME = re.compile(r"(_FILE|_PATH|_DIR|_NAME|_REF|_ID)$", re.IGNORECASE)
VALUE_PATTERNS = (
    re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"),  # URL with user:password@
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),  # OpenAI-style API keys
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key ids
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),  # GitHub tokens
    re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{10,}"),  # Slack tokens
)


def value_looks_secret(value: object) -> bool:
    text = str(value)
    return any(p.search(text) for p in VALUE_PATTERNS)


def name_looks_secret(name: str) -> bool:
    return bool(SENSITIVE_NAME.search(name)) and not REFERENCE_NAME.search(name)
