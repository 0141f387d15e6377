"""Image reference parsing shared by the image rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

# \Z, not $: "$" also matches before a trailing newline, which would pass "app@sha256:...\\n" as pinned.
_DIGEST = re.compile(r"@(sha256:[0-9a-f]{64})\Z")


@dataclass(frozen=True)
class ImageRef:
    repository: str
    tag: str | None
    digest: str | None


def parse(image: str) -> ImageRef:
    digest = None
    match = _DIGEST.search(image)
    rest = image
    if match:
        digest = match.group(1)
        rest = image[: match.start()]
    elif "@" in image:
        rest, digest = image.split("@", 1)
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
    return ImageRef(rest, tag, digest)


def valid_digest(ref: ImageRef) -> bool:
    return bool(ref.digest) and bool(re.fullmatch(r"sha256:[0-9a-f]{64}", ref.digest or ""))
