"""
## What it does
Checks Roles and ClusterRoles for rights to run commands in, or connect to,
running pods and nodes:

- `create` or `get` on `pods/exec`, `pods/attach` or `pods/portforward`;
- `update` or `patch` on `pods/ephemeralcontainers`: add a debug container,
  with an image and command of the holder's choice, to a running pod;
- `create` or `get` on `nodes/proxy`: the kubelet's API, whose `/exec`,
  `/attach` and `/run` endpoints run commands in any container of the node
  (a WebSocket connection is authorized as `get`).

Wildcards count: `*` verbs, `*` resources and `*/exec` grant these rights
too. One finding per rule entry, at the resource item that grants the first
right, naming the rights (rights that need no more than themselves first);
an entry limited by `resourceNames` is still reported, and the message
names the objects.

`get` without `create` on `pods/exec`, `pods/attach` or `pods/portforward`
depends on the target Kubernetes version (`kube-version`). A WebSocket
connection starts with a GET request, which kube-apiserver authorized as
`get`: before 1.35, `get` alone is enough to exec over WebSockets (what
kubectl uses by default since 1.30). From 1.35 kube-apiserver also requires
`create` for these WebSocket requests, behind the feature gate
`AuthorizePodWebsocketUpgradeCreatePermission`, beta and on by default, which
a cluster may turn off. Such a grant is therefore still reported at 1.35 and
later, and the message says what it depends on. `get` on `nodes/proxy` is
reported at every version: the feature gate is kube-apiserver's, and the
kubelet authorizes a WebSocket request to its `/exec` as `get` on
`nodes/proxy`.

Aggregated ClusterRoles (with `aggregationRule`) are skipped.

## Why is this bad?
Exec and attach give a shell in the container with its ServiceAccount token,
mounted Secrets and network position; an ephemeral container gives the same,
and can share the process namespace of the pod's other containers;
port-forward reaches ports that no Service or NetworkPolicy exposes.
`nodes/proxy` does all of that for every pod of the node, and admission
checks written for `pods/exec` do not see its requests.

## Example
```yaml
rules:
  - apiGroups: [""]
    resources: ["pods", "pods/exec"]
    verbs: ["get", "create"]
  - apiGroups: [""]
    resources: ["nodes/proxy"]
    verbs: ["get"]
```

## Use instead
Grant exec to people through a break-glass role bound for a limited time,
not to workloads; read logs with `pods/log` and kubelet metrics with
`nodes/metrics` and `nodes/stats`.

## References
kubernetes/kubernetes#134577 (release note of 1.35: `create` required for
exec, attach and port-forward over WebSockets, feature gate
`AuthorizePodWebsocketUpgradeCreatePermission`, beta, on by default);
kubernetes/kubernetes#78741 (`get` alone allowed exec over WebSockets).
"""

from policycheck.rbac import Right, describe, first_grant, limited, minor_version, policy_rules, roles, summary
from policycheck.rules.base import Problem

ID = "rbac-pod-exec"
FAMILY = "rbac"
LEVEL = "error"
SUMMARY = "no rights to exec into, attach to or port-forward to pods, add ephemeral containers or proxy to kubelets"

STREAMS = ("exec", "attach", "portforward")
RIGHTS = (
    *(Right(verb, f"pods/{sub}") for sub in STREAMS for verb in ("create", "get")),
    *(Right(verb, "pods/ephemeralcontainers") for verb in ("update", "patch")),
    *(Right(verb, "nodes/proxy") for verb in ("create", "get")),
)
# From this version kube-apiserver requires create for exec, attach and port-forward over WebSockets too,
# unless the feature gate is turned off (kubernetes/kubernetes#134577).
CREATE_REQUIRED = (1, 35)
GATE = "AuthorizePodWebsocketUpgradeCreatePermission"


def websocket_only(rule, right: Right) -> bool:
    """``get`` on pods/exec, attach or portforward that the entry grants without ``create`` on it."""
    return right.verb == "get" and right.resource.startswith("pods/") and \
        rule.grants(Right("create", right.resource, right.group)) is None


def message(rule, certain: list[Right], websocket: list[Right], kube_version: str) -> str:
    text = f"{describe(rule)} grants {summary(certain + websocket)}{limited(rule)}"
    if certain:
        return text
    if minor_version(kube_version) < CREATE_REQUIRED:
        return f"{text}: without create, enough for exec, attach or port-forward over WebSockets " \
               f"before Kubernetes 1.35"
    return f"{text}: without create, which Kubernetes {kube_version} requires as well unless " \
           f"kube-apiserver's feature gate {GATE} (beta, on by default since 1.35) is turned off"


def check(ctx, options):
    for role in roles(ctx.objects):
        for rule in policy_rules(role):
            found = first_grant(rule, RIGHTS)
            if found is None:
                continue
            granted, _ = found
            certain = [r for r in granted if not websocket_only(rule, r)]
            websocket = [r for r in granted if websocket_only(rule, r)]
            first = (certain + websocket)[0]
            where = rule.grants(first)[1]
            yield Problem(role, message(rule, certain, websocket, ctx.kube_version), where.path)
