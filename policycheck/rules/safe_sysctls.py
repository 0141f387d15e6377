"""
## What it does
Checks that a pod sets only sysctls of the Kubernetes safe set
(`spec.securityContext.sysctls`), as the target Kubernetes version
(`kube-version`) knows it: the set of `policycheck.pss.SAFE_SYSCTLS`, and
`net.ipv4.tcp_rmem` / `net.ipv4.tcp_wmem` from 1.32 on. Option `allowed`:
unsafe sysctls the cluster's kubelets allow (`--allowed-unsafe-sysctls`).

## Why is this bad?
A sysctl outside the safe set is not isolated per pod: it can change the
kernel behaviour of every pod on the node, or weaken a protection. The
kubelet refuses such a pod unless the node allows the sysctl, so it is also
a pod that may never start.

## Example
```yaml
securityContext:
  sysctls:
    - {name: kernel.msgmax, value: "65536"}
```

## Use instead
A safe sysctl (`net.ipv4.ip_local_port_range`, ...), or node tuning done by
the cluster's operators, and the name in the `allowed` option of this rule.

## References
Pod Security Standards, baseline profile: "Sysctls".
"""

from policycheck.pss import SAFE_SYSCTLS
from policycheck.rules.base import Problem

ID = "safe-sysctls"
FAMILY = "security"
LEVEL = "error"
SUMMARY = "pods set only sysctls of the safe set"
OPTIONS = {"allowed": []}
OPTION_TYPES = {"allowed": [str]}
# Safe sysctls added after the base set, with the first Kubernetes version that allows them.
SAFE_SINCE = {"net.ipv4.tcp_rmem": (1, 32), "net.ipv4.tcp_wmem": (1, 32)}


def version(text: str) -> tuple[int, int]:
    major, _, minor = str(text).partition(".")
    try:
        return int(major), int(minor.split(".")[0])
    except ValueError:
        return (0, 0)


def is_safe(name: str, kube_version: str) -> bool:
    if name in SAFE_SYSCTLS:
        return True
    since = SAFE_SINCE.get(name)
    return since is not None and version(kube_version) >= since


def check(ctx, options):
    allowed = set(options.get("allowed", ()))
    for pod in ctx.pods:
        for sysctl in pod.spec.map("securityContext").maps("sysctls"):
            name = sysctl.str("name")
            if name is None or name in allowed or is_safe(name, ctx.kube_version):
                continue
            yield Problem(pod.obj, f"sysctl {name} is not in the safe set", f"{sysctl.path}.name")
