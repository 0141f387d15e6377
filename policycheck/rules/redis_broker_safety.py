"""
## What it does
Checks every Redis server container for the settings a Redis that holds
queued work needs.

**Which containers.** A container or a native sidecar (an init container
with `restartPolicy: Always`; other init containers are not checked) whose
image repository is `redis`, `valkey`, `redis-stack` or
`redis-stack-server`, or one of the option `images`, compared after Docker
Hub's names are dropped (`docker.io/`, `index.docker.io/`,
`registry-1.docker.io/`, `library/`) on both sides: the entry matches the
whole repository or its end at a `/` (`redis-store` and
`sourcegraph/redis-store` both match
`index.docker.io/sourcegraph/redis-store@sha256:…`). Of those, only a
container that runs the server is checked:

- one with neither `command` nor `args` (the image's entrypoint starts it),
  or with only `args` (or an explicit `docker-entrypoint.sh`) that begin
  with an option or a `.conf` file (the official entrypoint adds
  `redis-server` in front);
- otherwise one whose `command`, `args`, or the mounted scripts they name,
  mention `redis-server`, `valkey-server` or `redis-stack-server` (or
  `<name>-server` for an `images` entry `<name>`, `keydb-server` for
  `keydb`; a Bitnami image's own `/opt/bitnami/scripts/<name>/run.sh`).
  A `redis-cli`/`valkey-cli` command (a backup job), or a shell or script
  that never starts the server (a loop of `redis-cli` calls that copies
  `redis.conf` somewhere) is not a server.

Sentinels hold no data and are skipped: `redis-sentinel`,
`valkey-sentinel` or `--sentinel` on the command line, or in a counted
mounted script (see below) a line that starts the server with `--sentinel`
or runs `redis-sentinel`/`valkey-sentinel` (as its program, not as a host
name: `redis-cli -h redis-sentinel` is no Sentinel); a configuration file
ending in `sentinel.conf`, env `SENTINEL` set to `true`/`yes`, or container
ports that are all 26379.

**Where the configuration is read.** From the words of `command` and
`args`, and from the ConfigMaps and Secrets of the overlay mounted into the
container that it uses: a mounted file counts when `command`/`args`, or a
file already counted, names its path (`sh /etc/redis/start.sh` counts
`start.sh`, which names `/etc/redis/redis.conf`); a container with neither
`command` nor `args` counts every mounted file, since only the image's
entrypoint knows which it reads. An `include` counts the mounted files it
names (a glob: those it matches; a relative path: those whose path ends with
it). A Secret's `data` is read decoded (also when kustomize wraps a long
value over several lines). Comment lines are skipped. For a Bitnami image (a
repository under a `bitnami/` path: `bitnami/redis`, `bitnami/valkey`,
...), the literal value of `REDIS_EXTRA_FLAGS` or `VALKEY_EXTRA_FLAGS` is
more command-line words, and a non-empty value or any `valueFrom` of
`REDIS_PASSWORD`, `REDIS_PASSWORD_FILE`, `VALKEY_PASSWORD` or
`VALKEY_PASSWORD_FILE` is a password, whatever `ALLOW_EMPTY_PASSWORD` says
(Bitnami's scripts set `requirepass` whenever the password is not empty;
`ALLOW_EMPTY_PASSWORD` only lets it be empty). Other images' environment
variables are not read.

It reports:

1. no authentication: no `requirepass` with a value, no `aclfile`, no ACL
   line `user <name> ... on ...` without `nopass`, and no Bitnami password
   variable (a `user default on nopass` line lets anyone in whatever else is
   set). Reported at the container's `command` (else `args`, else `image`);
   for a Bitnami image with no password and `ALLOW_EMPTY_PASSWORD` `yes`/`true`,
   at that variable's value, and the message says it lets clients in without
   a password. When the environment of another image names a `*PASSWORD*`
   variable the image may read, the message says environment variables are
   not read;
2. `--requirepass` with a value on a command line (in `command`/`args`, a
   Bitnami `*_EXTRA_FLAGS` or a mounted script), literal or `$(VAR)`, at
   the argument that sets it (`--requirepass ""` is only "no password");
3. no `maxmemory`, at the memory limit (`resources.limits.memory`, else
   where 1 is), or `maxmemory 0`, which Redis reads as "no bound", at the
   argument that sets it;
4. a literal `maxmemory` (bytes, or `k`/`m`/`g` = 1000-based, `kb`/`mb`/`gb`
   = 1024-based, any case) above `max-percent` % of the container's memory
   limit (90 by default; 1 to 99, so a value at the limit always fails), at
   the argument that sets it. A computed value (a variable, shell
   arithmetic, a `printf` placeholder: anything that is not a literal size)
   is accepted: only the container knows it. Without a memory limit there
   is nothing to compare with (rule `resource-limits` reports that);
5. a `maxmemory-policy` that is not in `policies` (default `noeviction`),
   at the argument that sets it. No `maxmemory-policy` at all is Redis's
   default, `noeviction`: accepted;
6. instead of 1 and 3, when the configuration reads a file that no mounted
   ConfigMap or Secret of the overlay provides (an `emptyDir` an init
   container or a script fills, a file baked into the image): the file the
   server is started with (the first word after `redis-server`/`valkey-server`,
   when it is a path and not an option, or the `.conf` file the entrypoint
   is given), else the first `include <path>` (or `--include`) with a
   literal path. One finding, at the argument naming the file (at the volume
   of the mounted file that holds the `include`), that what is still missing
   after every counted text is read (the password, the memory bound, or
   both) cannot be checked; the message names only that. Nothing missing:
   nothing is said (base/redis's `start.sh` writes `requirepass` and
   `maxmemory` into the file `redis.conf` includes, and is counted). What
   the command line sets still counts (a `--requirepass` after it is still
   reported). An eviction policy such a file sets is not seen.

Every finding is on the workload, so one exemption annotation covers its
Redis. Each finding is at the field that causes it: no password at
`command` (else `args`, else `image`; Bitnami's `ALLOW_EMPTY_PASSWORD` at its
value), no `maxmemory` at the memory limit (else where no password would
be), a setting on the command line at its argument. A setting read from a
mounted file is reported at the volume that mounts it, and the message names
the ConfigMap or Secret (as written, without the hash kustomize appends to a
generated one) and the key. Findings can share a line: no password and no
`maxmemory` when there is no memory limit, several settings of one `sh -c`
string, of one `*_EXTRA_FLAGS` value or of one mounted volume; every report
still shows each. No message shows a password or any other value of the
configuration except a literal size, a known eviction policy name and the
path of an unreadable configuration or included file.

A Redis used as a cache, where evicting keys is the point (`allkeys-lru`),
is not a broker: exempt its workload with
`policycheck.io/exempt.redis-broker-safety: "<why>"`, or widen `policies`
for the overlays that run it. An image configured through environment
variables other than Bitnami's, or through a configuration file baked into
the image, is not understood: exempt it once its settings are checked.

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

import re
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase

from policycheck.k8s import Container, parse_quantity, requests_and_limits, secret_text
from policycheck.names import without_hash
from policycheck.rules._images import parse as parse_image
from policycheck.rules.base import Problem

ID = "redis-broker-safety"
FAMILY = "availability"
LEVEL = "error"
SUMMARY = "a Redis broker requires a password (not on its command line) and a maxmemory below its limit, noeviction"
OPTIONS = {"images": [], "max-percent": 90, "policies": ["noeviction"]}
OPTION_TYPES = {"images": [str], "max-percent": range(1, 100)}

REDIS_IMAGES = frozenset({"redis", "valkey", "redis-stack-server", "redis-stack"})
# The programs that are the server, a client, or a Sentinel.
SERVERS = frozenset({"redis-server", "valkey-server", "redis-stack-server"})
CLIENTS = frozenset({"redis-cli", "valkey-cli"})
SENTINELS = frozenset({"redis-sentinel", "valkey-sentinel"})
SENTINEL_PORT = 26379
# Docker Hub's registry names and its namespace of official images, the same image with or without them.
_HUB_REGISTRIES = ("docker.io/", "index.docker.io/", "registry-1.docker.io/")
# The environment a Bitnami image turns into configuration.
BITNAMI_PASSWORDS = ("REDIS_PASSWORD", "REDIS_PASSWORD_FILE", "VALKEY_PASSWORD", "VALKEY_PASSWORD_FILE")
BITNAMI_FLAGS = ("REDIS_EXTRA_FLAGS", "VALKEY_EXTRA_FLAGS")
# A Bitnami image's own start script (baked into the image): it runs the server.
_BITNAMI_RUN = re.compile(r"/opt/bitnami/scripts/[\w.-]+/run\.sh")
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
# The names inside a word ("$(which" "redis-server);" names redis-server).
_NAMES = re.compile(r"[\w.+-]+")
# A configuration file path a message may repeat.
_PLAIN_PATH = re.compile(r"[\w./@+-]{1,200}")
# An include's path: a plain path, or a glob (Redis 7 reads every file that matches).
_INCLUDE_PATH = re.compile(r"[\w./@+*?\[\]-]{1,200}")
# The path of each include in a text: the files it names (a relative path, a glob) are read.
_INCLUDE_WORD = re.compile(r"(?:^|[\s'\"])-{0,2}include\s+([\w./@+*?\[\]-]{1,200})", re.IGNORECASE)
# Words after which a script's word is the program it runs.
_RUNS_NEXT = frozenset({"exec", "nohup", "then", "do", "else", "&&", "||", "|", "&", ";", "time", "command"})
# kustomize's content hash on a generated ConfigMap or Secret.
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


def repository(image: str) -> str:
    """An image's repository, lower case, without Docker Hub's registry names nor `library/`."""
    repo = parse_image(image.strip()).repository.lower()
    for registry in _HUB_REGISTRIES:
        if repo.startswith(registry):
            repo = repo[len(registry):]
            break
    return repo.removeprefix("library/")


def image_matches(image: str, names: frozenset[str] | set[str]) -> bool:
    """The image's repository is one of ``names``, or ends with one at a path component boundary."""
    repo = repository(image)
    return any(repo == n or repo.endswith(f"/{n}") for n in names)


@dataclass(frozen=True)
class Where:
    """Where a line of the configuration was read: the field on the workload, and what it says in a message."""

    field: str
    source: str  # "" for command/args, else " (ConfigMap x, key y)" or " (in REDIS_EXTRA_FLAGS)"
    command_line: bool  # command/args, or flags an image adds to its server's command line


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
    where = Where(c.path, "", True)
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


def _object_texts(obj, kind: str) -> dict[str, str]:  # noqa: ANN001 - K8sObject
    root = obj.root
    texts = dict(root.str_map("data")) if kind == "ConfigMap" else {}
    if kind == "Secret":
        for key, value in root.str_map("data").items():
            decoded = secret_text(value)
            if decoded is not None:
                texts[key] = decoded
        texts.update(root.str_map("stringData"))
    return texts


def shown_name(obj) -> str:  # noqa: ANN001 - K8sObject
    """The name a user wrote for an object: a generated ConfigMap or Secret without kustomize's hash."""
    if not obj.generated_by:
        return obj.name
    return obj.source_name or without_hash(obj.name)


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
                where = Where(f"{ref.path}.{name_key}", f" ({kind} {shown_name(obj)}, key {key})", False)
                files.append(MountedFile(path, text, where))
    return files


def _env(c: Container) -> dict[str, object]:
    """The container's environment: name -> its env entry (a Node)."""
    return {name: e for e in c.spec.maps("env") if (name := e.str("name"))}


def _flag_lines(c: Container, env: dict) -> list[Line]:
    """A Bitnami image's REDIS_EXTRA_FLAGS/VALKEY_EXTRA_FLAGS: literal words added to the server's command line."""
    lines: list[Line] = []
    for name in BITNAMI_FLAGS:
        entry = env.get(name)
        value = entry.str("value") if entry is not None else None
        if value:
            field = f"{entry.path}.value"
            words = tuple((w, field) for line, _ in _lines(value) for w in line)
            if words:
                lines.append(Line(words, Where(field, f" (in {name})", True)))
    return lines


def _configuration(ctx, c: Container, flags: list[Line]) -> tuple[list[Line], list[MountedFile]]:  # noqa: ANN001
    """The lines Redis's configuration is read from (command/args, the flags, the mounted files they use),
    and every mounted file."""
    lines = _command_lines(c)
    files = _mounted_files(ctx, c)
    if not lines:
        return [*flags, *(line for f in files for line in _text_lines(f.text, f.where))], files
    lines.extend(flags)
    used: set[int] = set()
    texts = [" ".join(w for line in lines for w, _ in line.words)]
    while texts:
        text = texts.pop()
        for index, f in enumerate(files):
            if index not in used and (f.path in text or any(_includes(i, f.path)
                                                               for i in _INCLUDE_WORD.findall(text))):
                used.add(index)
                file_lines = _text_lines(f.text, f.where)
                lines.extend(file_lines)
                texts.append(" ".join(w for line in file_lines for w, _ in line.words))
    return lines, files


def _includes(include: str, path: str) -> bool:
    """Whether `include <include>` reads the file at ``path``: a glob matches it (Redis 7 reads every match),
    a relative path is the end of it (Redis resolves it from its working directory, unknown here)."""
    return fnmatchcase(path, include if include.startswith("/") else f"*/{include}")


def _names(word: str) -> list[str]:
    return _NAMES.findall(word)


def _start(c: Container) -> tuple[str | None, tuple[str, str] | None]:
    """The first word the container runs (of command, else of args), and the first word the image's
    entrypoint is given with its field: the first of args without a command, or the word after an explicit
    `docker-entrypoint.sh` (the official images' entrypoint, which adds `redis-server` in front of options)."""
    words: list[tuple[str, str, str]] = []
    for key in ("command", "args"):
        for item in c.spec.str_items(key):
            words.extend((w, item.path, key) for w in _WORDS.findall(item.value)[:2])
            if len(words) >= 2:
                break
        if len(words) >= 2:
            break
    if not words:
        return None, None
    first, field, key = words[0]
    if key == "args":
        return first, (first, field)
    if first.rpartition("/")[2] == "docker-entrypoint.sh" and len(words) > 1:
        return first, words[1][:2]
    return first, None


def _runs_server(c: Container, lines: list[Line], servers: frozenset[str], bitnami: bool) -> bool:
    """Whether the container runs a Redis server, not a client, a script or another program that does not."""
    first, given = _start(c)
    if first is None:
        return True  # the image's entrypoint
    if first.rpartition("/")[2] in CLIENTS:
        return False
    if given is not None and (given[0].startswith("-") or given[0].endswith(".conf")):
        return True  # options or a configuration file for the entrypoint, which adds the server
    for line in lines:
        for word, _ in line.words:
            if servers.intersection(_names(word)) or (bitnami and _BITNAMI_RUN.search(word)):
                return True
    return False


@dataclass(frozen=True)
class ConfigFile:
    server: str
    path: str
    field: str  # where the path is written


def _config_file(c: Container, lines: list[Line], servers: frozenset[str]) -> ConfigFile | None:
    """The configuration file the server is started with: the first word after the server's name, when it
    is a path (holds a `/` or ends in `.conf`) and neither an option nor computed; or the first word the
    entrypoint is given, if it ends in `.conf`."""
    _, given = _start(c)
    if given is not None and not given[0].startswith("-") and given[0].endswith(".conf"):
        image = repository(c.spec.str("image") or "")
        server = "valkey-server" if image.rpartition("/")[2].startswith("valkey") else "redis-server"
        return ConfigFile(server, *given) if _PLAIN_PATH.fullmatch(given[0]) else None
    for line in lines:
        for index, (word, _) in enumerate(line.words[:-1]):
            server = next((n for n in _names(word) if n in servers), None)
            if server is None:
                continue
            after, field = line.words[index + 1]
            if (after.startswith("-") or _COMPUTED.search(after) or not _PLAIN_PATH.fullmatch(after)
                    or not ("/" in after or after.endswith(".conf"))):
                return None  # an option, a computed word, or a word of a script that is no file
            return ConfigFile(server, after, field if line.where.command_line else line.where.field)
    return None


def _runs_program(words: list[str], index: int) -> bool:
    """Whether a script's word at ``index`` is in the place of the program a line runs."""
    if index == 0:
        return True
    before = words[index - 1]
    return before in _RUNS_NEXT or before.endswith((";", "&", "|"))


def _is_sentinel(c: Container, lines: list[Line], env: dict, config: ConfigFile | None,  # noqa: PLR0911
                 servers: frozenset[str]) -> bool:
    for line in lines:
        words = [w for w, _ in line.words]
        if line.where.command_line:
            if any(w == "--sentinel" or SENTINELS.intersection(_names(w)) for w in words):
                return True
            continue
        # A mounted script: the line that starts the server with --sentinel, or that runs a Sentinel.
        starts_server = any(servers.intersection(_names(w)) for w in words)
        if (starts_server and "--sentinel" in words) or any(
                SENTINELS.intersection(_names(w)) and _runs_program(words, i) for i, w in enumerate(words)):
            return True
    if config is not None and config.path.endswith("sentinel.conf"):
        return True
    _, given = _start(c)
    if given is not None and given[0].endswith("sentinel.conf"):
        return True
    entry = env.get("SENTINEL")
    if entry is not None and (entry.get("value", "string", "boolean") is True
                              or str(entry.get("value", "string", "boolean")).lower() in ("true", "yes")):
        return True
    ports = [p.port("containerPort") for p in c.spec.maps("ports")]
    return bool(ports) and all(p == SENTINEL_PORT for p in ports)


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


def _env_password(env: dict) -> tuple[bool, str | None]:
    """(a Bitnami image's password variable is set: a non-empty value or a valueFrom, the field of
    ALLOW_EMPTY_PASSWORD's value when it is yes/true). Bitnami's scripts set requirepass whenever the
    password is not empty; ALLOW_EMPTY_PASSWORD only lets it be empty."""
    if any(entry.str("value") or entry.has("valueFrom")
           for name in BITNAMI_PASSWORDS if (entry := env.get(name)) is not None):
        return True, None
    allow = env.get("ALLOW_EMPTY_PASSWORD")
    allowed = allow.get("value", "string", "boolean") if allow is not None else None
    if allowed is True or str(allowed).lower() in ("yes", "true"):
        return False, f"{allow.path}.value"
    return False, None


@dataclass(frozen=True)
class Unread:
    """A file the configuration reads that no mounted ConfigMap or Secret provides."""

    what: str  # "runs redis-server with /x.conf", "includes /run/a.conf (ConfigMap c, key redis.conf)"
    field: str


def _unprovided_include(lines: list[Line], files: list[MountedFile]) -> Unread | None:
    """The first `include <path>` (or `--include`) that no mounted file provides; a relative path is
    compared with the end of the mounted paths, a glob must match one of them. A computed path names nothing."""
    for line, _, value, field in _directives(lines, "include"):
        if (value is None or _COMPUTED.search(value) or not _INCLUDE_PATH.fullmatch(value)
                or not ("/" in value or value.endswith(".conf"))):
            continue
        if not any(_includes(value, f.path) for f in files):
            return Unread(f"includes {value}{line.where.source}", field)
    return None


def _memory_limit(c: Container) -> tuple[float | None, str | None, str | None]:
    """The memory limit in bytes, as written, and its field."""
    _, limits = requests_and_limits(c)
    text = limits.get("memory", "string", "number")
    if text is None:
        return None, None, None
    return parse_quantity(text), str(text), f"{limits.path}.memory"


def _command_field(c: Container) -> str:
    """Where what is missing from the server's start is reported: its command, else its args, else its image."""
    for key in ("command", "args"):
        if c.spec.has(key):
            return f"{c.path}.{key}"
    return f"{c.path}.image"


def _check_container(ctx, c: Container, options, servers: frozenset[str]) -> Iterator[Problem]:  # noqa: ANN001
    env = _env(c)
    bitnami = "bitnami" in repository(c.spec.str("image") or "").split("/")[:-1]
    flags = _flag_lines(c, env) if bitnami else []
    lines, files = _configuration(ctx, c, flags)
    if not _runs_server(c, lines, servers, bitnami):
        return
    config = _config_file(c, lines, servers)
    if _is_sentinel(c, lines, env, config, servers):
        return
    unread: Unread | None = None
    if config is not None and not any(f.path == config.path for f in files):
        unread = Unread(f"runs {config.server} with {config.path}", config.field)
    else:
        unread = _unprovided_include(lines, files)
    obj, name, start_field = c.pod.obj, c.name, _command_field(c)
    missing: list[Problem] = []

    # 1 and 2: authentication, and a password on a command line.
    passwords = list(_directives(lines, "requirepass"))
    for line, word, value, field in passwords:
        if word == "--requirepass" and value:
            yield Problem(obj, f"Redis container {name} gets its password on a command line (--requirepass)"
                          f"{line.where.source}: it shows in ps and /proc/<pid>/cmdline; write requirepass into "
                          "a file from a mounted Secret instead", field, name)
    acl_file = any(value for _, _, value, _ in _directives(lines, "aclfile"))
    acl_protected, open_default = _acl_users(lines)
    env_password, allow_empty = _env_password(env) if bitnami else (False, None)
    authenticated = any(value for _, _, value, _ in passwords) or acl_file or acl_protected or env_password
    password_field = start_field
    if not authenticated or open_default:
        if open_default and authenticated:
            why = "its ACL user default is on with nopass"
        elif allow_empty is not None:
            why = ("ALLOW_EMPTY_PASSWORD lets clients in without a password, and no password variable, "
                   "requirepass, aclfile or ACL user is set")
            password_field = allow_empty
        elif bitnami:
            why = "no requirepass, aclfile, ACL user or password variable is set"
        elif any("PASSWORD" in n.upper() for n in env):
            why = ("no requirepass, aclfile or ACL user is set; settings from environment variables are not "
                   "read: exempt the workload if its image turns them into configuration")
        else:
            why = "no requirepass, aclfile or ACL user is set"
        missing.append(Problem(obj, f"Redis container {name} requires no password ({why}): any pod that reaches "
                               "it can read, delete or inject queued tasks", password_field, name))

    # 3 and 4: the memory bound.
    # A maxmemory without a value is a configuration Redis refuses to start with: not this rule's concern.
    bounds = [d for d in _directives(lines, "maxmemory") if d[2] is not None]
    limit, limit_text, limit_field = _memory_limit(c)
    if not bounds:
        missing.append(Problem(obj, f"Redis container {name} sets no maxmemory: it grows until the kernel kills "
                               "it and queued tasks are lost", limit_field or start_field, name))
    if missing and unread is not None:
        # What is missing may be in the file nobody can read here: say that, once, naming only what is missing.
        what = " and ".join(w for w, lacking in (("password", not authenticated or open_default),
                                                 ("memory bound", not bounds)) if lacking)
        yield Problem(obj, f"Redis container {name} {unread.what}, which no ConfigMap or Secret of the overlay "
                      f"mounts: its {what} cannot be checked (exempt the workload with the reason once checked)",
                      unread.field, name)
    else:
        yield from missing
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


def _option_names(options) -> set[str]:  # noqa: ANN001
    return {repository(i) for i in options["images"] if i.strip()}


def check(ctx, options):
    extra = _option_names(options)
    names = REDIS_IMAGES | extra
    # A server named after an `images` entry: `keydb` runs `keydb-server`.
    servers = SERVERS | {f"{n.rpartition('/')[2]}-server" for n in extra}
    for c in ctx.containers():
        sidecar = c.list_name == "initContainers" and c.spec.str("restartPolicy") == "Always"
        if (c.list_name == "containers" or sidecar) and _is_redis(c, names):
            yield from _check_container(ctx, c, options, servers)


def _is_redis(c: Container, names: set[str]) -> bool:
    image = c.spec.str("image")
    return bool(image and image.strip()) and image_matches(image, names)
