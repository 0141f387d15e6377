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


def test_flags_and_modes_are_not_credentials() -> None:
    from policycheck.credentials import is_setting_value, name_looks_secret

    for name in ("AUTH_PROXY_IMAGE", "ENABLE_AUTHZ", "authentication-oidc", "default-authorization-mode", "DB_PASSWORD_FILE"):
        assert not name_looks_secret(name), name
    for name in ("BASIC_AUTH", "auth-header", "DB_PASSWORD", "ENABLE_M2M_TOKENS", "api_key"):
        assert name_looks_secret(name), name
    assert all(is_setting_value(v) for v in ("true", "False", "0", "8080", "enabled", " off "))
    assert not any(is_setting_value(v) for v in ("hunter22", "1234567", "s3cr3t", ""))
