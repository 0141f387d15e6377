"""Pod Security Standards: the "restricted" profile, checked on a pod spec.

This is the one implementation of the profile in the project: the manifest
tests and the admission-side checks use it. Each violation names the field
that breaks the profile.
"""

from __future__ import annotations

from dataclasses import dataclass

from policycheck.k8s import PodTemplate, containers, effective, security_context

# Volume types the restricted profile allows (all others are forbidden).
RESTRICTED_VOLUMES = frozenset(
    {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
     "persistentVolumeClaim", "projected", "secret"}
)
SAFE_SYSCTLS = frozenset(
    {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
     "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
     "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
     "net.ipv4.tcp_keepalive_probes"}
)
ALLOWED_SECCOMP = ("RuntimeDefault", "Localhost")
ALLOWED_SELINUX_TYPES = ("", "container_t", "container_init_t", "container_kvm_t", "container_engine_t")


@dataclass(frozen=True)
class Violation:
    field: str
    message: str
    container: str | None = None


def restricted(pod: PodTemplate) -> list[Violation]:
    """Every way a pod spec breaks the PSS restricted profile."""
    out: list[Violation] = []
    spec, base = pod.spec, pod.path
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.bool(key) is True:
            out.append(Violation(f"{base}.{key}", f"{key} shares the node's namespace"))
    for sysctl in spec.map("securityContext").maps("sysctls"):
        name = sysctl.str("name")
        if name not in SAFE_SYSCTLS:
            out.append(Violation(sysctl.path, f"sysctl {name} is not in the safe set"))
    for volume in spec.maps("volumes"):
        bad = [k for k in volume.keys() if k != "name" and k not in RESTRICTED_VOLUMES]
        if bad:
            out.append(Violation(f"{volume.path}.{bad[0]}", f"volume {volume.str('name')} is of type {bad[0]}"))
    for c in containers(pod):
        out.extend(_container(c))
    return out


def _container(c) -> list[Violation]:  # noqa: ANN001 - k8s.Container
    out: list[Violation] = []
    sc = security_context(c)
    here = f"{c.path}.securityContext"

    def bad(field: str, message: str) -> None:
        out.append(Violation(field, message, c.name))

    if sc.bool("privileged") is True:
        bad(f"{here}.privileged", "container is privileged")
    if sc.bool("allowPrivilegeEscalation") is not False:
        bad(f"{here}.allowPrivilegeEscalation", "allowPrivilegeEscalation is not false")
    non_root, _ = effective(c, "runAsNonRoot", "boolean")
    if non_root is not True:
        bad(f"{here}.runAsNonRoot", "runAsNonRoot is not true (container or pod)")
    user, where = effective(c, "runAsUser", "integer")
    if user == 0:
        bad(where or f"{here}.runAsUser", "runAsUser is 0 (root)")
    seccomp, where = effective(c, "seccompProfile", "mapping")
    if seccomp is None or seccomp.get("type") not in ALLOWED_SECCOMP:
        bad(f"{here}.seccompProfile.type", "seccompProfile is not RuntimeDefault or Localhost")
    caps = sc.map("capabilities")
    if "ALL" not in caps.strs("drop"):
        bad(f"{here}.capabilities.drop", "capabilities do not drop ALL")
    for cap in caps.str_items("add"):
        if cap.value != "NET_BIND_SERVICE":
            bad(cap.path, f"capability {cap.value} is added")
    windows, _ = effective(c, "windowsOptions", "mapping")
    if windows is not None and windows.get("hostProcess") is True:
        bad(f"{here}.windowsOptions.hostProcess", "hostProcess container")
    selinux, where = effective(c, "seLinuxOptions", "mapping")
    if selinux is not None and (
        selinux.get("type", "") not in ALLOWED_SELINUX_TYPES or selinux.get("user") or selinux.get("role")
    ):
        bad(where or f"{here}.seLinuxOptions", "seLinuxOptions set a forbidden type, user or role")
    if sc.get("procMount") not in (None, "Default"):
        bad(f"{here}.procMount", "procMount is not Default")
    apparmor, where = effective(c, "appArmorProfile", "mapping")
    if apparmor is not None and apparmor.get("type") not in ("RuntimeDefault", "Localhost"):
        bad(where or f"{here}.appArmorProfile", "appArmorProfile is not RuntimeDefault or Localhost")
    for port in c.spec.maps("ports"):
        if port.get("hostPort"):
            bad(f"{port.path}.hostPort", "hostPort is set")
    return out
