#!/usr/bin/env python3
"""Write admission/: ValidatingAdmissionPolicies that enforce policycheck's
pod rules in the cluster, generated from the rule registry.

    python3 hack/gen-admission.py [--check]

For each policycheck profile the cluster can tell apart (a namespace label,
see PROFILES) and each place a pod spec sits (SHAPES), one policy and one
Deny binding. A policy holds the rules of RULES that are at level `error` in
that profile of this repository's policycheck.yaml (built-in profiles
included), so `image-digest` lands in prod only. Every rule is a CEL variable
holding one message per offending container ("<rule-id>: container x ...");
the single validation denies when any rule has a message and lists them all,
because the API server reports only the first denying validation of a
request. tests/test_admission.py fails when admission/ is stale (--check
exits 1 then).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policycheck import config  # noqa: E402
from policycheck.model import Severity  # noqa: E402
from policycheck.rules import REGISTRY  # noqa: E402

OUT = ROOT / "admission"
NAMESPACE = "ai-agents"
PROFILE_LABEL = "environment"


@dataclass(frozen=True)
class View:
    """A policy variable: one record per container with the fields a rule reads, as policycheck reads them."""

    comment: str
    record: str  # CEL map literal over container `c`
    ephemeral: bool  # whether ephemeral containers are in it (policycheck walks them for these rules)
    pod: tuple[tuple[str, str], ...] = ()  # pod-level variables the record falls back to


VIEWS = {
    "runAs": View(
        "effective runAsNonRoot and runAsUser of every container: its own securityContext wins over the pod's",
        "{'container': c.name,\n"
        "  'runAsNonRoot': c.?securityContext.?runAsNonRoot.orValue(variables.podRunAsNonRoot),\n"
        "  'runAsUser': c.?securityContext.?runAsUser.orValue(variables.podRunAsUser)}",
        True,
        (("podRunAsNonRoot", "variables.podSpec.?securityContext.?runAsNonRoot.orValue(false)"),
         ("podRunAsUser", "variables.podSpec.?securityContext.?runAsUser.orValue(-1)")),
    ),
    "images": View("the image of every container ('' when unset)",
                   "{'container': c.name, 'image': c.?image.orValue('')}", True),
    "limits": View("the resource limits of every init and regular container (ephemeral ones cannot have any)",
                   "{'container': c.name, 'limits': c.?resources.?limits.orValue({})}", False),
}


@dataclass(frozen=True)
class Check:
    """One way a container breaks a rule: a CEL condition on the view's record `r`, and what it says."""

    bad: str
    says: str  # CEL string expression; the generator puts "<rule-id>: container <name> " in front


@dataclass(frozen=True)
class AdmissionRule:
    view: str
    checks: tuple[Check, ...]
    note: str  # how the CEL relates to the Python rule


# A message with a line break is refused by the server (it falls back to the policy's plain message, which
# names no rule): line breaks in an image are shown escaped.
NAMED_IMAGE = "(r.image == '' ? '(none)' : r.image.replace('\\n', '\\\\n').replace('\\r', '\\\\r'))"

# Keyed by policycheck rule id; the ids, summaries and levels come from policycheck.rules.REGISTRY.
RULES: dict[str, AdmissionRule] = {
    "run-as-non-root": AdmissionRule(
        "runAs",
        (
            Check("r.runAsNonRoot != true", "'may run as root: runAsNonRoot is not true'"),
            Check("r.runAsUser == 0", "'runs as uid 0'"),
        ),
        "init and ephemeral containers too",
    ),
    "image-tag-pinned": AdmissionRule(
        "images",
        (
            # A digest is anything after the first '@'; without one, the tag follows the last ':' of the last
            # path segment (once a trailing '@' with nothing after it is dropped).
            Check("!(r.image.matches('(?s)@.') ||\n"
                  "    (r.image.matches(':[^:/@]+@?$') && !r.image.matches(':latest@?$')))",
                  f"'image ' + {NAMED_IMAGE} + ' is not pinned to a tag'"),
        ),
        "no tag, an empty tag or `latest` fails unless the image has a digest",
    ),
    "image-digest": AdmissionRule(
        "images",
        (
            Check("!r.image.matches('@sha256:[0-9a-f]{64}$')", f"'image ' + {NAMED_IMAGE} + ' has no sha256 digest'"),
        ),
        "the image ends in `@sha256:` and 64 lowercase hex digits",
    ),
    "resource-limits": AdmissionRule(
        "limits",
        tuple(Check(f"!('{res}' in r.limits)", f"'has no {res} limit'") for res in ("cpu", "memory")),
        "a request above its limit never reaches admission: the API server's own validation refuses it",
    ),
}


@dataclass(frozen=True)
class Shape:
    """Kinds whose pod spec sits at the same path: one policy each, so every CEL path type-checks."""

    name: str
    pod_spec: str
    resources: tuple[tuple[str, tuple[str, ...]], ...]  # (api group, resources)


SHAPES = (
    Shape("pods", "object.spec", (("", ("pods", "pods/ephemeralcontainers")),)),
    Shape("workloads", "object.spec.template.spec", (
        ("apps", ("deployments", "statefulsets", "daemonsets", "replicasets")),
        ("batch", ("jobs",)),
        ("", ("replicationcontrollers",)),
    )),
    Shape("cronjobs", "object.spec.jobTemplate.spec.template.spec", (("batch", ("cronjobs",)),)),
)

# profile -> the namespace selector's requirement on PROFILE_LABEL. A namespace is prod when it carries
# `environment: prod` (overlays/prod stamps it on the ai-agents Namespace); anything else is dev, the
# laxer profile: the label can only add rules, never remove the dev ones.
PROFILES = {
    "dev": ("NotIn", ["prod"]),
    "prod": ("In", ["prod"]),
}


def camel(rule_id: str) -> str:
    head, *rest = rule_id.split("-")
    return head + "".join(word.capitalize() for word in rest)


def profile_rules(profile: str) -> list[str]:
    """The rules of RULES at level error in this repository's profile, in registry order."""
    levels = config.load(str(ROOT / "policycheck.yaml")).profiles[profile]
    return [rule for rule in REGISTRY if rule in RULES and levels.level(rule) == Severity.ERROR]


def _message(rule_id: str, says: str) -> str:
    prefix = f"'{rule_id}: container ' + r.container + ' "
    return prefix + says[1:] if says.startswith("'") else prefix + "' + " + says


def rule_expression(rule_id: str) -> str:
    rule = RULES[rule_id]
    return " +\n".join(f"variables.{rule.view}.map(r, {check.bad},\n  {_message(rule_id, check.says)})"
                       for check in rule.checks)


def view_expression(view: View) -> str:
    lists = ("containers", "ephemeralContainers") if view.ephemeral else ("containers",)
    return " +\n".join(f"variables.{name}.map(c, {view.record})" for name in lists)


def policy_name(profile: str, shape: Shape) -> str:
    return f"policycheck-{profile}-{shape.name}"


def _indent(text: str, by: int) -> list[str]:
    return [" " * by + line for line in text.splitlines()]


def policy(profile: str, shape: Shape, rules: list[str]) -> str:
    variables: list[tuple[str, str, str]] = [
        ("podSpec", "", shape.pod_spec),
        ("containers", "init and regular containers, in policycheck's order",
         "variables.podSpec.?initContainers.orValue([]) + variables.podSpec.containers"),
        ("ephemeralContainers", "", "variables.podSpec.?ephemeralContainers.orValue([])"),
    ]
    for name, view in VIEWS.items():
        if any(RULES[rule].view == name for rule in rules):
            variables += [(var, "", expr) for var, expr in view.pod]
            variables.append((name, view.comment, view_expression(view)))
    for rule_id in rules:
        comment = f"{rule_id}: {REGISTRY[rule_id].summary}; {RULES[rule_id].note}"
        variables.append((camel(rule_id), comment, rule_expression(rule_id)))
    variables.append(("violations", "every rule's messages", " + ".join(f"variables.{camel(r)}" for r in rules)))
    lines = [
        "apiVersion: admissionregistration.k8s.io/v1",
        "kind: ValidatingAdmissionPolicy",
        "metadata:",
        f"  name: {policy_name(profile, shape)}",
        "  annotations:",
        f"    policycheck.io/profile: {profile}",
        f"    policycheck.io/rules: {','.join(rules)}",
        "spec:",
        "  failurePolicy: Fail",
        "  matchConstraints:",
        "    resourceRules:",
    ]
    for group, resources in shape.resources:
        lines += [
            f'      - apiGroups: ["{group}"]',
            "        apiVersions: [v1]",
            "        operations: [CREATE, UPDATE]",
            f"        resources: [{', '.join(resources)}]",
        ]
    lines.append("  variables:")
    for name, comment, expression in variables:
        if comment:
            lines.append(f"    # {comment}")
        lines += [f"    - name: {name}", "      expression: |-", *_indent(expression, 8)]
    lines += [
        "  validations:",
        "    - expression: size(variables.violations) == 0",
        f"      message: violates policycheck rules ({', '.join(rules)}) of profile {profile}",
        "      messageExpression: variables.violations.join('; ')",
        "      reason: Forbidden",
    ]
    return "\n".join(lines) + "\n"


def binding(profile: str, shape: Shape) -> str:
    operator, values = PROFILES[profile]
    return "\n".join([
        "apiVersion: admissionregistration.k8s.io/v1",
        "kind: ValidatingAdmissionPolicyBinding",
        "metadata:",
        f"  name: {policy_name(profile, shape)}",
        "  annotations:",
        f"    policycheck.io/profile: {profile}",
        "spec:",
        f"  policyName: {policy_name(profile, shape)}",
        "  validationActions: [Deny]",
        "  matchResources:",
        "    namespaceSelector:",
        "      matchLabels:",
        f"        kubernetes.io/metadata.name: {NAMESPACE}",
        "      matchExpressions:",
        f"        - key: {PROFILE_LABEL}",
        f"          operator: {operator}",
        f"          values: [{', '.join(values)}]",
    ]) + "\n"


HEADER = "# Generated by hack/gen-admission.py from policycheck's rule registry and policycheck.yaml; do not edit.\n"

KUSTOMIZATION = HEADER + """\
# Cluster-scoped objects only: no `namespace:` here, and nothing that stamps one.
# Apply with `kubectl apply --server-side -k admission/` (docs/admission.md).
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization

resources:
  - policies.yaml
  - bindings.yaml
"""


def render() -> dict[str, str]:
    """admission/ file name -> content."""
    policies, bindings = [], []
    for profile in PROFILES:
        rules = profile_rules(profile)
        for shape in SHAPES:
            policies.append(policy(profile, shape, rules))
            bindings.append(binding(profile, shape))
    return {
        "kustomization.yaml": KUSTOMIZATION,
        "policies.yaml": HEADER + "---\n".join(policies),
        "bindings.yaml": HEADER + "---\n".join(bindings),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[1])
    parser.add_argument("--check", action="store_true", help="exit 1 if admission/ is not what would be written")
    args = parser.parse_args(argv)
    files = render()
    stale = sorted(name for name, text in files.items()
                   if not (OUT / name).is_file() or (OUT / name).read_text(encoding="utf-8") != text)
    extra = sorted(p.name for p in OUT.iterdir() if p.name not in files) if OUT.is_dir() else []
    if args.check:
        for name in stale:
            print(f"gen-admission: admission/{name} is stale: run python3 hack/gen-admission.py", file=sys.stderr)
    else:
        OUT.mkdir(exist_ok=True)
        for name in stale:
            (OUT / name).write_text(files[name], encoding="utf-8")
            print(f"wrote admission/{name}")
        stale = []
    for name in extra:
        print(f"gen-admission: admission/{name} is not generated: remove it", file=sys.stderr)
    return 1 if stale or extra else 0


if __name__ == "__main__":
    sys.exit(main())
