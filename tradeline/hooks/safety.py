"""Where webhooks may go (SSRF protection) and how they are signed.

- Endpoint URLs are HTTPS; plain HTTP only to localhost and only where private targets are allowed
  (BROKER_WEBHOOKS_ALLOW_PRIVATE, true in development, false in production).
- Outside development the host is resolved at send time and every address must be public: no
  loopback, private, link-local (cloud metadata), shared, multicast, reserved or unspecified
  address. The request then goes to the checked address itself (Host header and TLS server name
  stay the original host), so a DNS answer cannot change between the check and the connection.
- Signature: `Tradeline-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, one v1 per
  live secret (two during a rotation's overlap), exactly like Stripe-Signature.
"""

import hashlib
import hmac
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from tradeline.core.errors import ValidationFailed

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
MAX_URL_LENGTH = 500


class AddressRefused(Exception):
    """The endpoint's host is, or resolves to, an address we do not send to."""


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="INVALID_WEBHOOK_URL",
                            details=[{"field": "url", "message": message, "type": "invalid_webhook_url"}])


def clean_endpoint_url(value) -> str:
    """The URL as stored, or a 422. Checks the shape only; addresses are checked when sending."""
    if not isinstance(value, str) or not value.strip():
        raise _invalid("A URL is required.")
    url = value.strip()
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _invalid("The URL is not valid.") from None
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("https", "http"):
        raise _invalid("The URL must start with https:// and name a host.")
    if parts.username or parts.password:
        raise _invalid("The URL must not contain a user name or password.")
    if parts.fragment:
        raise _invalid("The URL must not contain a #fragment.")
    if port == 0:
        raise _invalid("The URL's port is not valid.")
    if parts.scheme == "http" and not (settings.BROKER_WEBHOOKS_ALLOW_PRIVATE and host in LOCAL_HOSTS):
        raise _invalid("The URL must use https:// (plain http:// is only for localhost in development).")
    if not settings.BROKER_WEBHOOKS_ALLOW_PRIVATE:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if host in LOCAL_HOSTS or host.endswith(".localhost") or (address is not None and not _public(address)):
            raise _invalid("The URL must point to a public address.")
    return url


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_loopback
                                      or address.is_link_local or address.is_private or address.is_unspecified)


@dataclass(frozen=True)
class Target:
    """Where to connect: `connect_url` (the checked address) with the original host for Host/SNI."""

    connect_url: str
    host_header: str
    sni_hostname: str | None


def resolve_target(url: str) -> Target:
    """Resolve the URL's host; outside development refuse unless every address is public."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"the host name does not resolve ({type(exc).__name__})") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise AddressRefused("the host name does not resolve")
    if not settings.BROKER_WEBHOOKS_ALLOW_PRIVATE:
        refused = [str(a) for a in addresses if not _public(a)]
        if refused:
            raise AddressRefused(f"{host} resolves to a non-public address ({refused[0]})")
    chosen = addresses[0]
    literal = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    connect_url = parts._replace(netloc=netloc).geturl()
    host_header = parts.netloc.rsplit("@", 1)[-1]
    return Target(connect_url=connect_url, host_header=host_header,
                  sni_hostname=host if parts.scheme == "https" else None)


def signature_header(*, secrets: list[str], timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    parts = [f"t={timestamp}"]
    parts += [f"v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}" for secret in secrets if secret]
    return ",".join(parts)


def verify_signature(*, header: str, body: bytes, secret: str, tolerance: int, now: int) -> bool:
    """What a receiver does (used by our tests and shown in the README)."""
    fields = [item.split("=", 1) for item in (header or "").split(",") if "=" in item]
    timestamps = [value for key, value in fields if key == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit() or abs(now - int(timestamps[0])) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamps[0]}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, value) for key, value in fields if key == "v1")
