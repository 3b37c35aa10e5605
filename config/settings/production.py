"""Production hardening and the start-up check for required secrets."""

from django.core.exceptions import ImproperlyConfigured

REQUIRED_IN_PRODUCTION = (
    "SECRET_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "TRADELINE_API_URL",
    "TRADELINE_CONSUMER_KEY",
    "TRADELINE_CONSUMER_SECRET",
    "ALLOWED_HOSTS",
    # One cache shared by every web process: a revoked API key fails in all of them at once (a
    # per-process cache would keep serving it for up to KEY_CACHE_SECONDS), and login and checkout
    # limits count across processes instead of once per process.
    "REDIS_URL",
    "ORDER_STATUS_LINK_SECRET",
)


def check_production(settings: dict) -> None:
    if not settings["IS_PRODUCTION"]:
        return
    missing = [name for name in REQUIRED_IN_PRODUCTION if not settings.get(name)]
    if missing:
        raise ImproperlyConfigured(
            "TRADELINE_ENV=production but these required settings are missing: "
            + ", ".join(missing)
            + ". Set them in the environment (see README.md, Configuration)."
        )
    if settings["DEBUG"]:
        raise ImproperlyConfigured("DEBUG must be false when TRADELINE_ENV=production.")
    settings.update(
        SECURE_SSL_REDIRECT=True,
        # The load balancer terminates TLS and sets X-Forwarded-Proto; it must overwrite (never pass on)
        # a client's own X-Forwarded-Proto header.
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
        # Load-balancer health probes come over plain HTTP to the node: answer them, do not redirect.
        SECURE_REDIRECT_EXEMPT=[r"^health$"],
        SECURE_HSTS_SECONDS=31536000,
        SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
        SECURE_HSTS_PRELOAD=True,
        SECURE_CONTENT_TYPE_NOSNIFF=True,
        SECURE_REFERRER_POLICY="same-origin",
        SECURE_CROSS_ORIGIN_OPENER_POLICY="same-origin",
        X_FRAME_OPTIONS="DENY",
        # Cookies: HTTPS only, not readable from JavaScript (session), not sent on cross-site
        # sub-requests; the __Host- prefix makes browsers refuse them without Secure, with a Domain
        # or on a path other than "/".
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="__Host-sessionid",
        CSRF_COOKIE_SECURE=True,
        CSRF_COOKIE_SAMESITE="Lax",
        CSRF_COOKIE_NAME="__Host-csrftoken",
    )
