"""RBAC helpers shared by the rules of the "rbac" family: the policy rules of
Roles and ClusterRoles, how a policy rule matches a right (the API server's
own matching, wildcards included), and the subjects of bindings.

Every read goes through access.Node, so an odd shape reads as absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from policycheck.access import Node
from policycheck.model import K8sObject

RBAC_GROUP = "rbac.authorization.k8s.io"
ALL = "*"


@dataclass(frozen=True)
class Right:
    """One right a policy rule may grant: a verb on a resource (``pods/exec``) of an API group."""

    verb: str
    resource: str
    group: str = ""
    # What a finding points at: the resource item, or (for rights a verb defines: escalate,
    # bind, impersonate, approve) the verb item.
    mark: str = "resource"

    def __str__(self) -> str:
        where = f"{self.resource}.{self.group}" if self.group else self.resource
        return f"{self.verb} on {where}"


@dataclass(frozen=True)
class PolicyRule:
    """One entry of a role's ``rules``, with the nodes of its lists (for their paths)."""

    obj: K8sObject
    index: int
    node: Node
    verbs: list[Node]
    groups: list[Node]
    resources: list[Node]
    names: list[str]
    urls: list[Node]  # nonResourceURLs

    @property
    def path(self) -> str:
        return self.node.path

    def _values(self, nodes: list[Node]) -> list[str]:
        return [n.value for n in nodes]

    def verb_node(self, verb: str) -> Node | None:
        """The item of ``verbs`` that grants ``verb`` (the exact verb first, else ``*``)."""
        return _first(self.verbs, verb)

    def resource_node(self, resource: str) -> Node | None:
        """The item of ``resources`` that covers ``resource`` (``pods/exec``), as the API server matches it.
        ``userextras/*`` stands for every subresource of ``userextras`` (one per key of a user's extra
        information): an item covers it when it covers at least one of them."""
        if resource.endswith("/*"):
            base = resource[:-1]
            for node in self.resources:
                value = node.value
                if value == ALL or (value.startswith(base) and len(value) > len(base)) or \
                        (value.startswith("*/") and len(value) > 2):
                    return node
            return None
        exact = _first(self.resources, resource, wildcard=False)
        if exact is not None:
            return exact
        _, _, sub = resource.partition("/")
        for node in self.resources:
            if node.value == ALL or (sub and node.value == f"*/{sub}"):
                return node
        return None

    def covers_group(self, group: str) -> bool:
        return any(g in (group, ALL) for g in self._values(self.groups))

    def grants(self, right: Right) -> tuple[Node, Node] | None:
        """(verb item, resource item) when this rule grants ``right``, else None."""
        if not self.covers_group(right.group):
            return None
        if right.verb == "create" and self.names and "/" not in right.resource:
            # The name of an object being created is not known when the request is authorized, so a
            # rule limited by resourceNames never grants create on it (it does on a subresource,
            # pods/exec or serviceaccounts/token, whose request names the existing object).
            return None
        verb = self.verb_node(right.verb)
        resource = self.resource_node(right.resource)
        if verb is None or resource is None:
            return None
        return verb, resource


def _first(nodes: list[Node], value: str, wildcard: bool = True) -> Node | None:
    for node in nodes:
        if node.value == value:
            return node
    if wildcard:
        for node in nodes:
            if node.value == ALL:
                return node
    return None


def is_rbac(obj: K8sObject) -> bool:
    return obj.api_version.rpartition("/")[0] == RBAC_GROUP


def aggregated(obj: K8sObject) -> bool:
    """A ClusterRole whose rules the controller manager fills from other roles (``aggregationRule``)."""
    return obj.kind == "ClusterRole" and obj.root.has("aggregationRule")


def roles(objects: Iterable[K8sObject]) -> Iterator[K8sObject]:
    """Roles and ClusterRoles, without aggregated ClusterRoles (their written rules are overwritten)."""
    for obj in objects:
        if obj.kind in ("Role", "ClusterRole") and is_rbac(obj) and not aggregated(obj):
            yield obj


def policy_rules(obj: K8sObject) -> Iterator[PolicyRule]:
    for index, node in enumerate(obj.root.list("rules")):
        if not node.is_map:
            if node.value is not None:
                node.shape.wrong(node.path, ("mapping",), node.value)
            continue
        yield PolicyRule(obj, index, node, node.str_items("verbs"), node.str_items("apiGroups"),
                         node.str_items("resources"), node.strs("resourceNames"), node.str_items("nonResourceURLs"))


def first_grant(rule: PolicyRule, rights: Iterable[Right]) -> tuple[list[Right], Node] | None:
    """The rights of ``rights`` that ``rule`` grants, and the item to point at (the resource item
    of the first one, or its verb item for a right a verb defines): None when it grants none of them."""
    granted: list[Right] = []
    where: Node | None = None
    for right in rights:
        match = rule.grants(right)
        if match is not None:
            granted.append(right)
            where = where or (match[0] if right.mark == "verb" else match[1])
    return (granted, where) if granted and where is not None else None


def summary(rights: list[Right], limit: int = 3) -> str:
    """``get on secrets, list on secrets and 1 more``: the first rights, in order."""
    shown = ", ".join(str(r) for r in rights[:limit])
    more = len(rights) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def describe(rule: PolicyRule) -> str:
    return f"{rule.obj.kind} {rule.obj.name} rules[{rule.index}]"


def limited(rule: PolicyRule, limit: int = 3) -> str:
    """``, limited by resourceNames to a, b`` for a rule entry with resourceNames, else ``""``."""
    if not rule.names:
        return ""
    shown = ", ".join(rule.names[:limit])
    more = len(rule.names) - limit
    return f", limited by resourceNames to {shown}" + (f" and {more} more" if more > 0 else "")


def minor_version(text: str) -> tuple[int, int]:
    """``(1, 35)`` for ``"1.35"`` (the target ``kube-version``); ``(0, 0)`` when unreadable."""
    major, _, minor = str(text).partition(".")
    try:
        return int(major), int(minor.split(".")[0])
    except ValueError:
        return (0, 0)


# -- bindings ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    binding: K8sObject
    node: Node
    kind: str
    name: str
    namespace: str | None  # a ServiceAccount's namespace (the binding's, when a RoleBinding leaves it out)

    @property
    def path(self) -> str:
        return self.node.path

    def __str__(self) -> str:
        if self.kind == "ServiceAccount":
            return f"ServiceAccount {self.namespace}/{self.name}" if self.namespace else f"ServiceAccount {self.name}"
        return f"{self.kind} {self.name}"


def bindings(objects: Iterable[K8sObject]) -> Iterator[K8sObject]:
    for obj in objects:
        if obj.kind in ("RoleBinding", "ClusterRoleBinding") and is_rbac(obj):
            yield obj


def role_ref(binding: K8sObject) -> tuple[str | None, str | None]:
    ref = binding.root.map("roleRef")
    return ref.str("kind"), ref.str("name")


def subjects(binding: K8sObject) -> Iterator[Subject]:
    for node in binding.root.maps("subjects"):
        kind, name = node.str("kind"), node.str("name")
        if kind is None or name is None:
            continue
        namespace = node.str("namespace")
        if kind == "ServiceAccount" and not namespace and binding.kind == "RoleBinding":
            namespace = binding.namespace
        yield Subject(binding, node, kind, name, namespace)


def grant_problems(objects: Iterable[K8sObject], rights: tuple[Right, ...], *, skip_named: bool = False
                   ) -> Iterator[tuple[K8sObject, str, str]]:
    """(role, message, field path) for every rule entry of a Role or ClusterRole that grants one of
    ``rights``; the message says when the entry is limited by resourceNames. With ``skip_named``,
    such entries pass (they cannot create, and name the Secrets they read)."""
    for role in roles(objects):
        for rule in policy_rules(role):
            if skip_named and rule.names:
                continue
            found = first_grant(rule, rights)
            if found is not None:
                granted, where = found
                yield role, f"{describe(rule)} grants {summary(granted)}{limited(rule)}", where.path
