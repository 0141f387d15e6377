"""
## What it does
Checks every Redis container (the last path component of its image
repository is `redis`, `valkey` or `redis-stack-server`, or one of the
option `images`; init containers and Sentinels, `redis-sentinel` or
`--sentinel`, are not checked) for the settings a Redis that holds queued
work needs. Its configuration is read from the words of `command` and
`args`, and from the ConfigMaps and Secrets of the overlay mounted into the
container that it uses: a mounted file counts when `command`/`args`, or a
file already counted, names its path (`sh /etc/redis/start.sh` counts
`start.sh`, which names `/etc/redis/redis.conf`); a container with neither
`command` nor `args` counts every mounted file, since only the image's
entrypoint knows which it reads. Comment lines are skipped. It reports:

1. no authentication: no `requirepass` with a value, no `aclfile`, and no
   ACL line `user <name> ... on ...` without `nopass` (a `user default on
   nopass` line lets anyone in whatever else is set);
2. `--requirepass` on a command line (in `command`/`args` or in a mounted
   script), literal or `$(VAR)`;
3. no `maxmemory`, or `maxmemory 0`, which Redis reads as "no bound";
4. a literal `maxmemory` (bytes, or `k`/`m`/`g` = 1000-based, `kb`/`mb`/`gb`
   = 1024-based, any case) above `max-percent` % of the container's memory
   limit (90 by default; 1 to 99, so a value at the limit always fails). A
   computed value (a variable, shell arithmetic, a `printf` placeholder:
   anything that is not a literal size) is accepted: only the container
   knows it. Without a memory limit there is nothing to compare with (rule
   `resource-limits` reports that);
5. a `maxmemory-policy` that is not in `policies` (default `noeviction`).
   No `maxmemory-policy` at all is Redis's default, `noeviction`: accepted.

Every finding is on the workload, so one exemption annotation covers its
Redis. A setting read from a mounted file is reported at the volume that
mounts it, and the message names the ConfigMap or Secret and the key. No
message shows a password or any other value of the configuration except a
literal size and a known eviction policy name.

A Redis used as a cache, where evicting keys is the point (`allkeys-lru`),
is not a broker: exempt its workload with
`policycheck.io/exempt.redis-broker-safety: "<why>"`, or widen `policies`
for the overlays that run it. An image configured through environment
variables (`REDIS_PASSWORD` of some packaged images) or through a
configuration file baked into the image is not understood: exempt it too.

## Why is this bad?
Here Redis is Celery's broker: every queued task lives in it. Without a
password, any pod that reaches port 6379 reads, deletes or injects tasks
(and `CONFIG SET` rewrites the server). A password passed as an argument is
readable in `ps` and `/proc/<pid>/cmdline` by anyone on the node or in the
pod. Without `maxmemory` below the container's memory limit, a backlog
grows until the kernel's OOM killer ends Redis, and the tasks written since
the last fsync are lost; with an eviction policy, a full Redis silently drops
queued tasks instead of refusing new ones.

## Example
```yaml
containers:
  - name: redis
    image: redis:7-alpine
    args: ["redis-server", "--requirepass", "$(REDIS_PASSWORD)", "--maxmemory-policy", "allkeys-lru"]
    resources:
      limits: {memory: 256Mi}
```

## Use instead
A configuration file from a ConfigMap, a password from a mounted Secret
written into a file Redis includes, and a bound computed from the limit
(this repository's `base/redis/config/`):
```yaml
containers:
  - name: redis
    image: redis:7-alpine
    command: ["sh", "/etc/redis/start.sh"]   # writes requirepass and maxmemory (70 % of the limit)
    env:
      - name: REDIS_MEMORY_LIMIT_MIB
        valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}
    volumeMounts:
      - {name: config, mountPath: /etc/redis}   # redis.conf: maxmemory-policy noeviction,
                                                # include /run/redis/runtime.conf
```

## References
- Redis security: <https://redis.io/docs/latest/operate/oss_and_stack/management/security/>
- Redis ACL: <https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/>
- Key eviction: <https://redis.io/docs/latest/develop/reference/eviction/>
- Celery with Redis: <https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html>
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass

from policycheck.k8s import Container, parse_quantity, requests_and_limits
from policycheck.rules._images import parse as parse_image
from policycheck.rules.base import Problem

ID = "redis-broker-safety"
FAMILY = "availability"
LEVEL = "error"
SUMMARY = "a Redis broker requires a password (not on its command line) and a maxmemory below its limit, noeviction"
OPTIONS = {"images": [], "max-percent": 90, "policies": ["noeviction"]}
OPTION_TYPES = {"images": [str], "max-percent": range(1, 100)}

REDIS_IMAGES = frozenset({"redis", "valkey", "redis-stack-server"})
# The policies Redis knows: the only values of the configuration a message repeats.
KNOWN_POLICIES = frozenset({"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
                            "volatile-lfu", "volatile-random", "volatile-ttl"})
# Redis's units (memtoll): k/m/g count in 1000s, kb/mb/gb in 1024s, b is bytes; any case.
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}
_SIZE = re.compile(r"([0-9]{1,20})([a-z]{0,2})")
# Words: runs between blanks and quotes. Lines: real line breaks, and the `\n` written in a printf
# format or an echo -e string, which become line breaks in the file a script writes.
_WORDS = re.compile(r"""[^\s'"]+""")
_LINES = re.compile(r"\r\n|[\n\r]|\\n")
_COMPUTED = re.compile(r"[$%`{]")
# One Redis configuration read is at most this long (a larger mounted value is read in part).
_TEXT_LIMIT = 1 << 20


def redis_size(text: object) -> int | None:
    """A Redis memory size ("100mb", "1G", "1048576") in bytes; None when it is not a literal size."""
    if not isinstance(text, str):
        return None
    match = _SIZE.fullmatch(text.strip().lower())
    if not match or match.group(2) not in _UNITS:
        return None
    return int(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class Where:
    """Where a line of the configuration was read: the field on the workload, and what it says in a message."""

    field: str
    source: str  # "" for command/args, else " (ConfigMap x, key y)"


@dataclass(frozen=True)
class Line:
    words: tuple[tuple[str, str], ...]  # (word, field)
    where: Where


def _lines(text: str) -> Iterator[tuple[list[str], bool]]:
    """The words of each line of ``text`` that is not a comment, with whether it starts a new line."""
    for number, line in enumerate(_LINES.split(text[:_TEXT_LIMIT])):
        if line.lstrip().startswith("#"):
            continue
        yield _WORDS.findall(line), number > 0


def _command_lines(c: Container) -> list[Line]:
    """command + args as one line of words (a `sh -c` script's own line breaks start new ones)."""
    lines: list[Line] = []
    current: list[tuple[str, str]] = []
    where = Where(c.path, "")
    for key in ("command", "args"):
        for item in c.spec.str_items(key):
            for words, new_line in _lines(item.value):
                if new_line and current:
                    lines.append(Line(tuple(current), where))
                    current = []
                current.extend((w, item.path) for w in words)
    if current:
        lines.append(Line(tuple(current), where))
    return lines


def _text_lines(text: str, where: Where) -> list[Line]:
    return [Line(tuple((w, where.field) for w in words), where) for words, _ in _lines(text) if words]


@dataclass(frozen=True)
class MountedFile:
    path: str
    text: str
    where: Where


def _decoded(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def _object_texts(obj, kind: str) -> dict[str, str]:  # noqa: ANN001 - K8sObject
    root = obj.root
    texts = dict(root.str_map("data")) if kind == "ConfigMap" else {}
    if kind == "Secret":
        for key, value in root.str_map("data").items():
            decoded = _decoded(value)
            if decoded is not None:
                texts[key] = decoded
        texts.update(root.str_map("stringData"))
    return texts


def _mounted_files(ctx, c: Container) -> list[MountedFile]:  # noqa: ANN001 - Context
    """Every key of a ConfigMap or Secret of the overlay mounted into the container, as a file path."""
    volumes = {v.str("name"): v for v in c.pod.spec.maps("volumes")}
    files: list[MountedFile] = []
    for mount in c.spec.maps("volumeMounts"):
        volume = volumes.get(mount.str("name"))
        mount_path = (mount.str("mountPath") or "").rstrip("/")
        if volume is None or not mount_path:
            continue
        sources = [(volume.map(key), kind, name_key) for key, kind, name_key in
                   (("configMap", "ConfigMap", "name"), ("secret", "Secret", "secretName"))]
        sources += [(src.map(key), kind, "name") for src in volume.map("projected").maps("sources")
                    for key, kind in (("configMap", "ConfigMap"), ("secret", "Secret"))]
        sub_path = mount.str("subPath")
        for ref, kind, name_key in sources:
            name = ref.str(name_key) if ref.keys() else None
            obj = ctx.find(kind, name, c.pod.obj.namespace) if name else None
            if obj is None:
                continue
            texts = _object_texts(obj, kind)
            items = {i.str("key"): i.str("path") for i in ref.maps("items")}
            for key, text in texts.items():
                if items and key not in items:
                    continue
                relative = items.get(key) or key
                if sub_path is not None:
                    if sub_path != relative:
                        continue
                    path = mount_path
                else:
                    path = f"{mount_path}/{relative}"
                files.append(MountedFile(path, text, Where(f"{ref.path}.{name_key}", f" ({kind} {name}, key {key})")))
    return files


def _configuration(ctx, c: Container) -> list[Line]:  # noqa: ANN001 - Context
    """The lines Redis's configuration is read from: command/args and the mounted files they use."""
    lines = _command_lines(c)
    files = _mounted_files(ctx, c)
    if not lines:
        return [line for f in files for line in _text_lines(f.text, f.where)]
    used: set[int] = set()
    texts = [" ".join(w for line in lines for w, _ in line.words)]
    while texts:
        text = texts.pop()
        for index, f in enumerate(files):
            if index not in used and f.path in text:
                used.add(index)
                file_lines = _text_lines(f.text, f.where)
                lines.extend(file_lines)
                texts.append(" ".join(w for line in file_lines for w, _ in line.words))
    return lines


def _is_redis(c: Container, extra: set[str]) -> bool:
    image = c.spec.str("image")
    if not image:
        return False
    repository = parse_image(image.strip()).repository.lower()
    last = repository.rpartition("/")[2]
    return last in REDIS_IMAGES or last in extra or repository in extra


def _is_sentinel(lines: list[Line]) -> bool:
    for line in lines:
        if line.where.source:
            continue
        for word, _ in line.words:
            if word == "--sentinel" or word.rpartition("/")[2] == "redis-sentinel":
                return True
    return False


def _directives(lines: list[Line], name: str) -> Iterator[tuple[Line, str, str | None, str]]:
    """(line, word, value, field) of each `name` / `--name` word, the value being the next word of its line."""
    for line in lines:
        for index, (word, field) in enumerate(line.words):
            if word.lower() in (name, f"--{name}"):
                value = line.words[index + 1][0] if index + 1 < len(line.words) else None
                if value is not None and value.startswith("--"):
                    value = None
                yield line, word.lower(), value, field


def _acl_users(lines: list[Line]) -> tuple[bool, bool]:
    """(an ACL user that is on and needs a password, the default user on without one)."""
    protected = open_default = False
    for line in lines:
        words = [w.lower() for w, _ in line.words]
        for index, word in enumerate(words):
            if word not in ("user", "--user") or index + 1 >= len(words):
                continue
            rules = words[index + 2:]
            if "on" not in rules:
                continue
            if "nopass" in rules:
                open_default = open_default or words[index + 1] == "default"
            else:
                protected = True
    return protected, open_default


def _memory_limit(c: Container) -> tuple[float | None, str | None]:
    _, limits = requests_and_limits(c)
    text = limits.get("memory", "string", "number")
    return parse_quantity(text), (str(text) if text is not None else None)


def _check_container(ctx, c: Container, options) -> Iterator[Problem]:  # noqa: ANN001
    lines = _configuration(ctx, c)
    if _is_sentinel(lines):
        return
    obj, name, image_field = c.pod.obj, c.name, f"{c.path}.image"

    # 1 and 2: authentication, and a password on a command line.
    passwords = list(_directives(lines, "requirepass"))
    for line, word, _, field in passwords:
        if word == "--requirepass":
            yield Problem(obj, f"Redis container {name} gets its password on a command line (--requirepass)"
                          f"{line.where.source}: it shows in ps and /proc/<pid>/cmdline; write requirepass into "
                          "a file from a mounted Secret instead", field, name)
    acl_file = any(value for _, _, value, _ in _directives(lines, "aclfile"))
    acl_protected, open_default = _acl_users(lines)
    authenticated = any(value for _, _, value, _ in passwords) or acl_file or acl_protected
    if not authenticated or open_default:
        why = ("its ACL user default is on with nopass" if open_default and authenticated else
               "no requirepass, aclfile or ACL user is set")
        yield Problem(obj, f"Redis container {name} requires no password ({why}): any pod that reaches it "
                      "can read, delete or inject queued tasks", image_field, name)

    # 3 and 4: the memory bound.
    # A maxmemory without a value is a configuration Redis refuses to start with: not this rule's concern.
    bounds = [d for d in _directives(lines, "maxmemory") if d[2] is not None]
    if not bounds:
        yield Problem(obj, f"Redis container {name} sets no maxmemory: it grows until the kernel kills it and "
                      "queued tasks are lost", image_field, name)
    limit, limit_text = _memory_limit(c)
    percent = options["max-percent"]
    for line, _, value, field in bounds:
        size = redis_size(value)
        if size == 0:
            yield Problem(obj, f"Redis container {name} sets maxmemory 0{line.where.source}, which is no bound: "
                          "it grows until the kernel kills it and queued tasks are lost", field, name)
        elif size is not None and limit is not None and limit > 0 and size * 100 > limit * percent:
            yield Problem(obj, f"Redis container {name} sets maxmemory {value}{line.where.source}, above "
                          f"{percent} % of its memory limit {limit_text}: the kernel kills it before it refuses "
                          "writes, and queued tasks are lost; leave room for the append-only rewrite and "
                          "client buffers", field, name)

    # 5: the eviction policy.
    allowed = {p.lower() for p in options["policies"]}
    for line, _, value, field in _directives(lines, "maxmemory-policy"):
        if value is None or _COMPUTED.search(value) or value.lower() in allowed:
            continue
        shown = value.lower() if value.lower() in KNOWN_POLICIES else "an unknown policy"
        yield Problem(obj, f"Redis container {name} sets maxmemory-policy {shown}{line.where.source}: when full it "
                      "evicts keys, queued tasks among them; a broker must refuse writes instead (noeviction)",
                      field, name)


def check(ctx, options):
    extra = {i.lower() for i in options["images"]}
    for c in ctx.containers():
        if c.list_name == "containers" and _is_redis(c, extra):
            yield from _check_container(ctx, c, options)
