"""Production settings, security headers, health check and the database-down page."""

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "clinic_site.settings.production",
    "SECRET_KEY": "a-long-random-secret-key-for-the-deploy-check-0123456789abcdefghijklmnop",
    "ALLOWED_HOSTS": "clinic.example",
    # Never opened, but system checks (JSONField support) open a connection.
    "DATABASE_URL": "sqlite://:memory:",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "SITE_URL": "https://clinic.example",
}


def run_manage(*args, env):
    base = {key: value for key, value in os.environ.items() if key not in PRODUCTION_ENV}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_under_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "SITE_URL"]
)
def test_production_refuses_to_start_naming_what_is_missing(missing):
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != missing}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "Production settings need these environment variables" in result.stderr
    assert missing in result.stderr


@pytest.mark.django_db
def test_pages_carry_the_strict_content_security_policy_and_isolation_headers(client):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]:
        assert directive in policy
    assert "unsafe-inline" not in policy
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_health_check_reports_database_and_cache(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_health_check_fails_when_the_database_does_not_answer(client):
    with mock.patch("clinic_site.views.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


@pytest.mark.django_db
def test_health_check_fails_when_the_cache_does_not_answer(client):
    with mock.patch("clinic_site.views.cache.set", side_effect=ConnectionError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "cache": "unavailable"}


@pytest.mark.django_db
def test_database_outage_gets_the_sites_own_503_page(client):
    with mock.patch(
        "treatments.views.get_object_or_404", side_effect=OperationalError("server closed")
    ):
        response = client.get("/compare/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "We will be back in a moment" in response.content.decode()


@pytest.mark.django_db
def test_csrf_failure_gets_a_friendly_page_in_the_sites_frame(client):
    client = type(client)(enforce_csrf_checks=True)
    response = client.post("/book/", {"full_name": "Ana"})
    assert response.status_code == 403
    content = response.content.decode()
    assert "Please send the form again" in content
    assert "Book a consultation" in content
