"""``policycheck merge``: the shards' JSON reports as one report.

The merged report is the one the unsharded run would have written: the
overlays in the unsharded run's order, defects grouped across all of them
(a defect of a shared base checked by two shards is one defect), the same
summary and so the same exit code. It is refused (exit 2) when the reports
do not make one run: a shard missing or given twice, shards of different
partitions, an overlay in two reports, or reports from different tool
setups (kustomize, conftest, Kubernetes version, policycheck version).
"""

from __future__ import annotations

import json

from policycheck.errors import PolicycheckError
from policycheck.report import Report
from policycheck.report import json as json_report
from policycheck.textsafe import escape

MAX_REPORT_BYTES = 512 * 1024 * 1024


def read(path: str) -> Report:
    label = escape(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_REPORT_BYTES + 1)
    except OSError as exc:
        raise PolicycheckError(f"{label}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_REPORT_BYTES:
        raise PolicycheckError(f"{label}: larger than {MAX_REPORT_BYTES // (1024 * 1024)} MiB")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise PolicycheckError(f"{label}: not JSON (merge reads the reports of --format json)") from None
    return json_report.load(data, label)


def merge(reports: list[tuple[str, Report]]) -> Report:
    """One report of several; ``reports`` are (label, report) in the order given."""
    if not reports:
        raise PolicycheckError("usage: merge needs at least one report")
    first_label, first = reports[0]
    for label, report in reports[1:]:
        for key in sorted(set(first.tool) | set(report.tool)):
            if first.tool.get(key) != report.tool.get(key):
                raise PolicycheckError(f"{escape(label)} and {escape(first_label)} come from different runs: "
                                       f"tool.{escape(key)} differs")
        if first.base != report.base:  # --base REF: the same REF (commit) for every shard, or none
            raise PolicycheckError(f"{escape(label)} and {escape(first_label)} come from different runs: "
                                   "--base differs")
    order = _order(reports)
    seen: dict[str, str] = {}
    overlays = []
    for label, report in reports:
        for overlay in report.overlays:
            if overlay.path in seen:
                raise PolicycheckError(f"overlay {escape(overlay.path)} is in {escape(seen[overlay.path])} and in "
                                       f"{escape(label)}")
            seen[overlay.path] = label
            overlays.append(overlay)
    if order is not None:
        missing = [o for o in order if o not in seen]
        extra = [o for o in seen if o not in set(order)]
        if missing or extra:
            what = f"{escape(missing[0])} is in no report" if missing else f"{escape(extra[0])} is in no shard list"
            raise PolicycheckError(f"the shards do not add up to their run: {what}")
        rank = {path: i for i, path in enumerate(order)}
        overlays.sort(key=lambda o: rank[o.path])
    notes = list(dict.fromkeys(n for _, r in reports for n in r.notes))
    return Report(tool=dict(first.tool), overlays=overlays, findings=[f for o in overlays for f in o.findings],
                  notes=notes, base=first.base)


def _order(reports: list[tuple[str, Report]]) -> list[str] | None:
    """The unsharded run's overlay order when the reports are shards, after checking the set
    of shards is whole; None for reports that are not shards."""
    shards = [(label, r.shard) for label, r in reports if r.shard]
    if not shards:
        return None
    if len(shards) != len(reports):
        plain = next(label for label, r in reports if not r.shard)
        raise PolicycheckError(f"{escape(plain)} is not a shard's report, the others are")
    count = shards[0][1]["count"]
    order = shards[0][1]["overlays"]
    indexes: dict[int, str] = {}
    for label, shard in shards:
        if shard["count"] != count or shard["overlays"] != order:
            raise PolicycheckError(f"{escape(label)} is a shard of another run (--shard count or overlays differ)")
        if shard["index"] in indexes:
            raise PolicycheckError(f"shard {shard['index']}/{count} given twice: {escape(indexes[shard['index']])} "
                                   f"and {escape(label)}")
        indexes[shard["index"]] = label
    missing = [i for i in range(1, count + 1) if i not in indexes]
    if missing:
        raise PolicycheckError(f"shard {missing[0]}/{count} is missing ({len(missing)} of {count} missing)")
    return order
