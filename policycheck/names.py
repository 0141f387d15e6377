"""From a rendered name back to the name its source file wrote.

kustomize renames objects: `namePrefix`/`nameSuffix` of every kustomization
on the way (stacked), and a content hash appended to generated ConfigMaps and
Secrets. To point a finding at the file that wrote the object, the rendered
name is unwound with the prefixes and suffixes the kustomization tree
actually declares; only when that finds nothing is the source name guessed
as a run of the name's dash-separated parts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_HASH_SUFFIX = re.compile(r"-[a-z0-9]{10}$")  # (a guess about any name: loose)
MAX_CANDIDATES = 64
# kustomize's content hash of a generated ConfigMap or Secret: a dash and ten characters of its
# alphabet (hex digits with 0, 1, 3, a, e replaced by g, h, k, m, t).
GENERATED_HASH = re.compile(r"-[2456789bcdfghkmt]{10}\Z")


def without_hash(name: str) -> str:
    """A generated ConfigMap's or Secret's name without kustomize's content hash."""
    return GENERATED_HASH.sub("", name)


def source_names(name: str, prefixes: Iterable[str] = (), suffixes: Iterable[str] = ()) -> Iterator[str]:
    """Candidate source names of a rendered ``name``, most likely first."""
    prefixes = [p for p in prefixes if p]
    suffixes = [s for s in suffixes if s]
    seen = {name}
    queue = [name]
    yield name
    while queue and len(seen) < MAX_CANDIDATES:
        current = queue.pop(0)
        unwound = [current[len(p):] for p in prefixes if current.startswith(p) and len(current) > len(p)]
        unwound += [current[: -len(s)] for s in suffixes if current.endswith(s) and len(current) > len(s)]
        unwound.append(_HASH_SUFFIX.sub("", current))  # a generator's hash: least sure, last
        for candidate in unwound:
            if candidate and candidate not in seen:
                seen.add(candidate)
                queue.append(candidate)
                yield candidate
    # Nothing declared explains the name: runs of its parts, longest first.
    parts = name.split("-")[:16]
    for size in range(len(parts) - 1, 0, -1):
        for start in range(len(parts) - size + 1):
            candidate = "-".join(parts[start:start + size])
            if candidate not in seen:
                seen.add(candidate)
                yield candidate
