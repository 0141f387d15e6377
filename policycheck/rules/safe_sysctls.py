"""
## What it does
Checks that a pod sets only sysctls of the Kubernetes safe set
(`spec.securityContext.sysctls`), as the target Kubernetes version
(`kube-version`) knows it: the set of `policycheck.pss.SAFE_SYSCTLS`, and
`net.ipv4.tcp_rmem` / `net.ipv4.tcp_wmem` from 1.32 on. Option `allowed`:
unsafe sysctls the cluster's kubelets allow (`--allowed-unsafe-sysctls`),
names or, as for the kubelet, prefixes ending in `*` (`kernel.msg*`).

Names are compared as the kubelet reads them: a name whose first separator
is a slash (`net/ipv4/ip_local_port_range`) is the dotted name with dots and
slashes swapped (`net.ipv4.ip_local_port_range`), both in the pod and in
`allowed`. Pod Security admission does not do this: a namespace that
enforces the `baseline` or `restricted` level refuses a pod that spells a
safe sysctl with slashes (kube-apiserver 1.35: "forbidden sysctls"). Such a
name is reported as a warning that names the dotted spelling.

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

from policycheck.model import Severity
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


def normalize(name: str) -> str:
    """A sysctl name as the kubelet reads it: when its first separator is a slash, dots and slashes
    swap (`net/ipv4/conf/eth0.100/rp_filter` is `net.ipv4.conf.eth0/100.rp_filter`)."""
    for ch in name:
        if ch == ".":
            return name
        if ch == "/":
            return name.translate(_SWAP)
    return name


_SWAP = str.maketrans("./", "/.")


def is_safe(name: str, kube_version: str) -> bool:
    name = normalize(name)
    if name in SAFE_SYSCTLS:
        return True
    since = SAFE_SINCE.get(name)
    return since is not None and version(kube_version) >= since


def check(ctx, options):
    allowed = {normalize(n) for n in options.get("allowed", ())}
    prefixes = tuple(n[:-1] for n in allowed if n.endswith("*"))
    for pod in ctx.pods:
        for sysctl in pod.spec.map("securityContext").maps("sysctls"):
            name = sysctl.str("name")
            if name is None or normalize(name) in allowed or normalize(name).startswith(prefixes):
                continue
            if not is_safe(name, ctx.kube_version):
                yield Problem(pod.obj, f"sysctl {name} is not in the safe set", f"{sysctl.path}.name")
            elif normalize(name) != name:
                yield Problem(pod.obj, f"sysctl {name} is the safe {normalize(name)} spelled with slashes: the "
                              "kubelet accepts it, but Pod Security admission (baseline and restricted) refuses "
                              f"the pod; write {normalize(name)}", f"{sysctl.path}.name", severity=Severity.WARNING)
