#!/usr/bin/env python3
"""Write docs/coverage.md, the map of the checks of four peer linters (kube-linter, Checkov,
Polaris, kube-score) onto policycheck's rules, from hack/coverage-data.yaml, and copy its summary
table into README.md between `<!-- coverage:begin -->` and `<!-- coverage:end -->`.

Every row is validated first: exactly one mapping (covered_by, partial, na or none), and every
rule id it names is a built-in rule (policycheck.rules.REGISTRY) or a house rule of policies/*.rego.

    .venv/bin/python hack/gen-coverage.py          # write docs/coverage.md and the README block
    .venv/bin/python hack/gen-coverage.py --check  # exit 1 when either is stale or a row is wrong
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "hack" / "coverage-data.yaml"
DOC = ROOT / "docs" / "coverage.md"
README = ROOT / "README.md"
BEGIN, END = "<!-- coverage:begin -->", "<!-- coverage:end -->"
MAPPINGS = ("covered_by", "partial", "na", "none")
COLUMNS = ("covered", "partial", "not applicable offline", "not covered")


def load(path: Path = DATA) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)["tools"]


def rule_ids() -> tuple[set[str], set[str]]:
    """The built-in rule ids and the house (Rego) rule ids."""
    sys.path.insert(0, str(ROOT))
    from policycheck.conftest import Settings, house_rule_ids  # noqa: PLC0415 (after the sys.path entry)
    from policycheck.rules import REGISTRY  # noqa: PLC0415

    return set(REGISTRY), house_rule_ids(Settings(policies=[str(ROOT / "policies")]))


def validate(tools: list[dict], builtin: set[str], house: set[str]) -> list[str]:
    """Problems of the data, one line each (empty when it is sound)."""
    problems = []
    for tool in tools:
        seen = set()
        name = tool.get("tool", "?")
        if not tool.get("source"):
            problems.append(f"{name}: no source")
        for check in tool.get("checks") or []:
            cid = check.get("id")
            where = f"{name} {cid}"
            if not cid:
                problems.append(f"{name}: a check without id")
            elif cid in seen:
                problems.append(f"{where}: listed twice")
            seen.add(cid)
            meaning = check.get("meaning")
            if not isinstance(meaning, str) or not meaning.strip() or "\n" in meaning:
                problems.append(f"{where}: needs a one-line meaning")
            unknown = set(check) - {"id", "meaning", *MAPPINGS}
            if unknown:
                problems.append(f"{where}: unknown keys {sorted(unknown)}")
            present = [m for m in MAPPINGS if m in check]
            if len(present) != 1:
                problems.append(f"{where}: needs exactly one of {', '.join(MAPPINGS)}, has {present or 'none'}")
                continue
            kind, value = present[0], check[present[0]]
            if kind == "covered_by":
                if not isinstance(value, list) or not value or not all(isinstance(r, str) for r in value):
                    problems.append(f"{where}: covered_by must be a non-empty list of rule ids")
                    continue
                for rule in value:
                    if rule not in builtin and rule not in house:
                        problems.append(f"{where}: no such rule {rule!r} (built-in or house rule)")
            elif kind in ("partial", "na"):
                if not isinstance(value, str) or not value.strip():
                    problems.append(f"{where}: {kind} needs the reason")
            elif value is not True:
                problems.append(f"{where}: none must be true")
    return problems


def status(check: dict) -> str:
    """The column of the summary a row counts in."""
    if "covered_by" in check:
        return "covered"
    if "partial" in check:
        return "partial"
    return "not applicable offline" if "na" in check else "not covered"


def cell(check: dict, builtin: set[str]) -> str:
    if "covered_by" in check:
        return ", ".join(f"[`{r}`](rules.md#{r})" if r in builtin else f"`{r}` (house rule)"
                         for r in check["covered_by"])
    if "partial" in check:
        return f"partial: {check['partial']}"
    if "na" in check:
        return f"not applicable offline: {check['na']}"
    return "not covered"


def esc(text: str) -> str:
    return text.replace("|", "\\|")


def summary(tools: list[dict]) -> str:
    lines = ["| Peer | checks | " + " | ".join(COLUMNS) + " |", "|---|---:|---:|---:|---:|---:|"]
    totals = [0] * (len(COLUMNS) + 1)
    for tool in tools:
        counts = [len(tool["checks"])] + [sum(status(c) == col for c in tool["checks"]) for col in COLUMNS]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        lines.append(f"| {tool['tool']} | " + " | ".join(map(str, counts)) + " |")
    lines.append("| all four | " + " | ".join(map(str, totals)) + " |")
    return "\n".join(lines) + "\n"


def render(tools: list[dict], builtin: set[str]) -> str:
    out = [
        "# Coverage of other linters",
        "",
        "<!-- Generated by `.venv/bin/python hack/gen-coverage.py` from hack/coverage-data.yaml; "
        "edit the data, not this file. -->",
        "",
        "Each check of four peer linters, what it looks for (in our words), and what in policycheck",
        "covers it: the rule(s) that check the same concern, **partial** with what is missing,",
        "**not applicable offline** (flags of the API server, kubelet and other control-plane parts,",
        "PodSecurityPolicy, facts only a running cluster has), or **not covered**. Rules marked",
        "\"house rule\" are the Rego rules of `policies/` (see the README); the others are in",
        "[rules.md](rules.md). A rule that is off or a warning by default, or needs an option",
        "(`min-replicas` `minimum`, `run-as-non-root` `min-uid`/`min-gid`, `priority-class`),",
        "still counts as covering the concern.",
        "",
        "## Summary",
        "",
        summary(tools).rstrip("\n"),
        "",
    ]
    for tool in tools:
        out += [f"## {tool['tool']}", "", f"Source: {tool['source']}.", "",
                "| id | meaning | policycheck |", "|---|---|---|"]
        out += [f"| `{c['id']}` | {esc(c['meaning'])} | {esc(cell(c, builtin))} |" for c in tool["checks"]]
        out.append("")
    return "\n".join(out)


def readme_block(tools: list[dict]) -> str:
    return (f"{BEGIN}\n<!-- Generated by `.venv/bin/python hack/gen-coverage.py` from "
            f"hack/coverage-data.yaml. -->\n{summary(tools)}{END}")


def with_readme_block(readme: str, tools: list[dict]) -> str:
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"README.md has no {BEGIN} ... {END} block")
    return readme[:start] + readme_block(tools) + readme[end + len(END):]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that the outputs are current")
    args = parser.parse_args()
    tools = load()
    builtin, house = rule_ids()
    problems = validate(tools, builtin, house)
    if problems:
        print("hack/coverage-data.yaml:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    doc = render(tools, builtin)
    readme_old = README.read_text(encoding="utf-8")
    readme = with_readme_block(readme_old, tools)
    if args.check:
        stale = [str(p.relative_to(ROOT)) for p, new, old in
                 ((DOC, doc, DOC.read_text(encoding="utf-8") if DOC.exists() else ""),
                  (README, readme, readme_old)) if new != old]
        if stale:
            print(f"stale: {', '.join(stale)} (run .venv/bin/python hack/gen-coverage.py)", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(doc, encoding="utf-8")
    if readme != readme_old:
        README.write_text(readme, encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)} and the README coverage block")
    return 0


if __name__ == "__main__":
    sys.exit(main())
