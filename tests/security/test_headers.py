"""Security headers on the browser-facing pages and the API, and the production settings.

- /admin/ (the dashboard) and /portal/ carry the Content-Security-Policy; every inline script a
  page really contains is allowed by its hash in that policy (so the browser runs it), and no
  page relies on inline event handlers (which the policy blocks).
- Every response carries Referrer-Policy, Permissions-Policy, X-Content-Type-Options, and pages
  X-Frame-Options DENY.
- Production settings: HSTS, HTTPS redirect behind the proxy header, secure cookies; and
  `tradeline check --deploy` is clean with a complete production environment (in a subprocess).
"""

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tradeline.core.security import inline_script_hashes_in, script_hash

EXPECTED_CSP_DIRECTIVES = {
    "default-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
}
INLINE_SCRIPT = re.compile(r"<script(?P<attrs>(?:\s[^>]*)?)>(?P<body>.*?)</script>", re.IGNORECASE | re.DOTALL)
EVENT_HANDLER_ATTR = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)


def csp_directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in header.split(";")) if part}


def executable_inline_scripts(html: str) -> list[str]:
    scripts = []
    for match in INLINE_SCRIPT.finditer(html):
        attrs = match.group("attrs")
        if re.search(r"\ssrc\s*=", attrs, re.IGNORECASE):
            continue
        kind = re.search(r"\stype\s*=\s*[\"']?([^\"'\s>]*)", attrs, re.IGNORECASE)
        if kind and kind.group(1).lower() not in ("text/javascript", "application/javascript", "module"):
            continue  # data blocks (json_script) are not executed
        scripts.append(match.group("body"))
    return scripts


def assert_page_policy(response) -> None:
    """The page carries the CSP, and everything it needs to run is allowed by it."""
    assert response.status_code == 200, response.status_code
    directives = csp_directives(response)
    for name, value in EXPECTED_CSP_DIRECTIVES.items():
        assert directives[name] == value, (name, directives[name])
    script_src = directives["script-src"].split()
    assert script_src[0] == "'self'"
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert all(token.startswith("'sha256-") for token in script_src[1:]), script_src
    html = response.content.decode()
    for body in executable_inline_scripts(html):
        assert script_hash(body) in script_src, f"inline script not allowed by the CSP: {body[:120]!r}"
    assert not EVENT_HANDLER_ATTR.search(html), "inline event handler attributes are blocked by the CSP"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


# ----------------------------------------------------------------------------- pages


@pytest.fixture
def portal_client(db, make_broker):
    from tradeline.brokers.services import broker_keys_rotate, broker_set_password

    broker = make_broker(email="csp-broker@example.com", website="https://csp.example")
    broker_keys_rotate(broker_id=broker.pk)
    broker_set_password(broker_id=broker.pk, password="portal-password-123")
    client = Client()
    response = client.post("/portal/login/", {"email": broker.email, "password": "portal-password-123"})
    assert response.status_code == 302, response.content[:300]
    return client


@pytest.fixture
def admin_client(db):
    from tradeline.brokers.models import AdminRole
    from tradeline.testing.factories import make_admin

    client = Client()
    client.force_login(make_admin(role=AdminRole.ADMIN))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/portal/login/", "/admin/login/"])
def test_login_pages_carry_the_policy(path):
    assert_page_policy(Client().get(path))


@pytest.mark.parametrize("path", ["/portal/", "/portal/orders/", "/portal/payouts/", "/portal/settings/",
                                  "/portal/keys/", "/portal/embed/"])
def test_portal_pages_carry_the_policy_and_their_inline_scripts_are_hashed(portal_client, path):
    assert_page_policy(portal_client.get(path))


@pytest.mark.parametrize("path", ["/admin/", "/admin/orders/order/", "/admin/brokers/broker/",
                                  "/admin/payouts/payout/"])
def test_dashboard_pages_carry_the_policy(admin_client, path):
    assert_page_policy(admin_client.get(path))


def test_the_settings_page_inline_script_runs_under_the_policy(portal_client):
    """portal/settings.html has an inline script (the live price preview): it must be allowed."""
    response = portal_client.get("/portal/settings/")
    scripts = executable_inline_scripts(response.content.decode())
    assert scripts, "the settings page is expected to carry its preview script inline"
    assert_page_policy(response)


@pytest.mark.django_db
def test_api_and_other_responses_carry_the_privacy_headers_but_no_page_policy():
    response = Client().get("/api/openapi.json")
    assert response["Referrer-Policy"] == "same-origin"
    assert "geolocation=()" in response["Permissions-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in response
    health = Client().get("/health")
    assert health["Permissions-Policy"] and "Content-Security-Policy" not in health


def test_hashes_cover_template_tags_and_skip_external_and_data_scripts():
    from django.template import Engine

    engine = Engine.get_default()
    source = (
        "{% load static %}<script src=\"{% static 'x.js' %}\"></script>"
        "<script type=\"application/json\">{\"a\": 1}</script>"
        "<script>var url = \"{% url 'portal:settings-preview' %}\";</script>"
    )
    assert inline_script_hashes_in(source, engine=engine) == [script_hash('var url = "/portal/settings/preview";')]
    digest = base64.b64encode(hashlib.sha256(b"alert(1)").digest()).decode()
    assert script_hash("alert(1)") == f"'sha256-{digest}'"


# ----------------------------------------------------------------------------- production settings

PRODUCTION_ENV = {
    "TRADELINE_ENV": "production",
    "DEBUG": "false",
    "SECRET_KEY": "k" * 10 + "Zr8!wq2#Lp0@Vn5$Hs7^Jd3&Mf6*Tc9(Xb1)Gy4-Ue" + "p" * 10,
    "ALLOWED_HOSTS": "shop.example.com",
    "PUBLIC_BASE_URL": "https://shop.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://shop.example.com",
    "DATABASE_URL": "postgres://tradeline@db.internal:5432/tradeline",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "STRIPE_SECRET_KEY": "sk_live_placeholder",
    "STRIPE_WEBHOOK_SECRET": "whsec_placeholder",
    "TRADELINE_API_URL": "https://tradelinesupply.example/wp-json/wc/v3",
    "TRADELINE_CONSUMER_KEY": "ck_placeholder",
    "TRADELINE_CONSUMER_SECRET": "cs_placeholder",
    "ORDER_STATUS_LINK_SECRET": "status-link-placeholder-secret",
    "EMAIL_HOST": "smtp.example.com",
    "ADMIN_EMAILS": "ops@example.com",
    "LOG_FORMAT": "json",
}


def production_run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "DJANGO_"))}
    env.update(PRODUCTION_ENV, TRADELINE_VAR_DIR=str(tmp_path))
    return subprocess.run([sys.executable, "-m", "tradeline", *args], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = production_run("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_settings_harden_transport_and_cookies(tmp_path):
    names = ["SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
             "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_NAME",
             "CSRF_COOKIE_SECURE", "CSRF_COOKIE_NAME", "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS", "DEBUG",
             "SECURE_REDIRECT_EXEMPT"]
    code = "import json; from django.conf import settings as s; print(json.dumps({n: getattr(s, n) for n in %r}))" % names
    result = production_run("shell", "-c", code, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_NAME": "__Host-sessionid",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_NAME": "__Host-csrftoken",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "X_FRAME_OPTIONS": "DENY",
        "DEBUG": False,
        "SECURE_REDIRECT_EXEMPT": ["^health$"],
    }
