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


def partition(overlays: list[Path], count: int, weight: dict[Path, int],
              together: list[list[Path]] | None = None) -> list[list[Path]]:
    """``count`` shares, each in the overlays' own order; the overlays of each group of
    ``together`` land in one share (pairs of the rules across overlays)."""
    group_of: dict[Path, int] = {}
    for g, group in enumerate(together or ()):
        for overlay in group:
            group_of.setdefault(overlay, g)
    units: dict[object, list[Path]] = {}
    for overlay in overlays:
        units.setdefault(("group", group_of[overlay]) if overlay in group_of else overlay, []).append(overlay)

    def unit_weight(members: list[Path]) -> int:
        return sum(weight.get(o, 1) for o in members)

    loads = [0] * count
    members: list[set[Path]] = [set() for _ in range(count)]
    for unit in sorted(units.values(), key=lambda u: (-unit_weight(u), u[0].as_posix())):
        lightest = min(range(count), key=lambda i: (loads[i], i))
        loads[lightest] += unit_weight(unit)
        members[lightest].update(unit)
    return [[o for o in overlays if o in share] for share in members]


def pair_groups(overlays: list[Path], config_path: str | None) -> list[list[Path]]:
    """Overlays that the ``pairs:`` of the configuration compare with each other, grouped (a
    group is checked in one shard, or its pairs could not be compared)."""
    from policycheck import config  # noqa: PLC0415 - only when sharding

    cfg = config.load(config_path)
    specs = cfg.extra.get("pairs")
    if not specs:
        return []
    from policycheck import crossrules  # noqa: PLC0415

    found, _ = crossrules.match(specs, overlays, cfg.source)
    parent = list(range(len(overlays)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for _, i, j in found:
        parent[root(i)] = root(j)
    groups: dict[int, list[Path]] = {}
    for _, i, j in found:
        for k in (i, j):
            members = groups.setdefault(root(k), [])
            if overlays[k] not in members:
                members.append(overlays[k])
    return list(groups.values())


def select(overlays: list[Path], index: int, count: int, together: list[list[Path]] | None = None) -> list[Path]:
    """The overlays of shard ``index`` (1-based) of ``count``."""
    if count == 1:
        return list(overlays)
    return partition(overlays, count, weights(overlays), together)[index - 1]
