# make check  - install into .venv, render every overlay, run policycheck
# make test   - install the test tools too (ruff, pytest, conftest), run the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OVERLAYS := $(sort $(dir $(wildcard overlays/*/kustomization.yaml)))

.PHONY: all install check render test cluster-test lint docs clean

all: check

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(STAMP)

## Render every overlay into build/<name>.yaml (what kubectl apply -k would send).
render: install
	@mkdir -p build
	@for o in $(OVERLAYS); do \
	  name=$$(basename $$o); \
	  PATH="$(CURDIR)/$(VENV)/bin:$$PATH" kubectl kustomize $$o > build/$$name.yaml || exit 2; \
	  echo "rendered $$o -> build/$$name.yaml"; \
	done

# conftest is built once into a cache (hack/install-conftest.sh) and put on PATH.
WITH_CONFTEST = dir=$$(hack/install-conftest.sh) && PATH="$$dir:$$PATH"
# actionlint (GitHub Actions workflows) likewise (hack/install-actionlint.sh).
WITH_ACTIONLINT = aldir=$$(hack/install-actionlint.sh) && PATH="$$aldir:$$PATH"

# The cluster tier's control plane (hack/cluster/build.sh: kube-apiserver, etcd, kwok, ... built with Go,
# about 12 minutes the first time, then cached). Without Go the tier skips with the reason (fails under CI=true).
WITH_CLUSTER = export POLICYCHECK_CLUSTER_HOME="$$(hack/cluster/build.sh || true)"

# The servers tier (tests/servers) runs Debian's redis-server and PostgreSQL (hack/install-servers.sh
# installs them as root, else names what is missing and the tier skips, failing under CI=true); the
# PostgreSQL bin directory goes on PATH.
WITH_SERVERS = pgdir=$$(hack/install-servers.sh || true) && PATH="$${pgdir:+$$pgdir:}$$PATH"

check: render
	$(WITH_CONFTEST) $(PY) -m policycheck overlays --require-conftest

test: install lint
	$(WITH_CONFTEST) conftest verify -p policies --no-color
	$(WITH_CONFTEST) && $(WITH_ACTIONLINT) && $(WITH_CLUSTER) && $(WITH_SERVERS) && $(PY) -m pytest

## Only the cluster tier (tests/cluster); `make cluster-test PYTEST_ARGS=--existing-cluster` runs it against
## the cluster KUBECONFIG points at, with the kubectl on PATH.
cluster-test: install
	$(WITH_CONFTEST) && $(WITH_CLUSTER) && $(PY) -m pytest tests/cluster $(PYTEST_ARGS)

## Regenerate the rule reference and the README's report samples (tests fail when they are stale).
docs: install
	$(PY) -m policycheck rules --format markdown > docs/rules.md
	$(PY) hack/readme_samples.py
	$(PY) hack/gen-admission.py
	$(PY) hack/gen-coverage.py

lint: install
	$(VENV)/bin/ruff check policycheck tests
	$(WITH_ACTIONLINT) actionlint .github/workflows/*.yml

clean:
	rm -rf build $(VENV) .pytest_cache .ruff_cache
