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
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
        SECURE_HSTS_SECONDS=31536000,
        SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
        SECURE_HSTS_PRELOAD=True,
        SESSION_COOKIE_SECURE=True,
        CSRF_COOKIE_SECURE=True,
        SECURE_REFERRER_POLICY="same-origin",
    )
