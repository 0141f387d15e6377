"""Rules of the secrets family: fires/passes fixtures and family-specific cases."""

from __future__ import annotations

from tests.rulekit import family_tests, fixture_findings

FAMILY = "secrets"
RULES, test_fires, test_passes = family_tests(FAMILY)


def test_messages_never_contain_the_value() -> None:
    found = fixture_findings("secret-in-configmap", "fires") + fixture_findings("secret-in-env", "fires")
    assert len(found) == 3
    for f in found:
        assert "hunter2" not in f.message and "app:hunter2@" not in f.message


def test_references_to_secrets_are_not_credentials() -> None:
    from policycheck.credentials import name_looks_secret, value_looks_secret

    assert name_looks_secret("DB_PASSWORD") and not name_looks_secret("DB_PASSWORD_FILE")
    assert value_looks_secret("postgresql://u:p@db:5432/x") and not value_looks_secret("redis://redis:6379/0")
