"""Split a run's overlays across CI jobs: ``--shard I/N``.

Every job of a matrix finds the same overlays and computes the same
partition (no coordination needed): overlays are weighed by the bytes
their render reads (``policycheck.inputs``, sizes only), then handed out
heaviest first, each to the lightest shard so far (ties: by path, then the
lower shard). A job checks its own share; ``policycheck merge`` puts the
JSON reports together again and refuses a set of shards that is not
complete, so a job that never reported cannot pass the gate.
"""

from __future__ import annotations

import re
from pathlib import Path

from policycheck.errors import PolicycheckError

MAX_SHARDS = 1000
_SPEC = re.compile(r"([0-9]{1,4})/([0-9]{1,4})")


def parse(spec: str) -> tuple[int, int]:
    """``I/N`` as (index, count), 1 <= I <= N."""
    match = _SPEC.fullmatch(spec.strip())
    if not match:
        raise PolicycheckError("usage: --shard takes I/N, for example 2/4 (the second of four shards)")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= index <= count <= MAX_SHARDS:
        raise PolicycheckError(f"usage: --shard {index}/{count}: need 1 <= I <= N <= {MAX_SHARDS}")
    return index, count


# What checking any overlay costs, in bytes of input it weighs as much as: about the time a
# render of a few small files takes next to the time per megabyte of a big one.
BASE_WEIGHT = 256 * 1024


def weights(overlays: list[Path]) -> dict[Path, int]:
    """Each overlay's weight: BASE_WEIGHT plus the bytes its render reads (files shared by
    overlays count for each)."""
    from policycheck.inputs import Walker  # noqa: PLC0415 - a YAML reader, only when sharding

    walker = Walker(sizes_only=True)
    out = {}
    for overlay in overlays:
        try:
            size = walker.walk(overlay).size
        except Exception:  # noqa: BLE001 - an overlay the walk cannot read still gets a shard
            size = 0
        out[overlay] = BASE_WEIGHT + size
    return out


def partition(overlays: list[Path], count: int, weight: dict[Path, int]) -> list[list[Path]]:
    """``count`` shares, each in the overlays' own order."""
    loads = [0] * count
    members: list[set[Path]] = [set() for _ in range(count)]
    for overlay in sorted(overlays, key=lambda o: (-weight.get(o, 1), o.as_posix())):
        lightest = min(range(count), key=lambda i: (loads[i], i))
        loads[lightest] += weight.get(overlay, 1)
        members[lightest].add(overlay)
    return [[o for o in overlays if o in share] for share in members]


def select(overlays: list[Path], index: int, count: int) -> list[Path]:
    """The overlays of shard ``index`` (1-based) of ``count``."""
    if count == 1:
        return list(overlays)
    return partition(overlays, count, weights(overlays))[index - 1]
