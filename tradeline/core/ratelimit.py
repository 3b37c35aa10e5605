"""Cache-backed fixed-window rate limits, per client IP and per identity.

A rule is "<count>/<seconds>" (settings RATE_LIMIT_LOGIN, _CHECKOUT, _CATALOG). Each window is one
cache counter created with `cache.add` (atomic "create if missing", with the window as its expiry)
and bumped with `cache.incr` (atomic on local memory and on Redis), so concurrent requests and
several web processes sharing Redis all count correctly.

    enforce(request, scope="checkout", rule=settings.RATE_LIMIT_CHECKOUT, identity=key_prefix)

counts the request and raises RateLimited (429, Retry-After) once a counter passes its limit.

Work that may turn out to cost nothing (a login whose password is right, a checkout refused before
Stripe was asked) takes a slot first and gives it back afterwards:

    attempt = acquire(request, scope="admin-login", rule=settings.RATE_LIMIT_LOGIN, identity=email)
    ... verify the password ...      # only attempts that got a slot are ever judged
    attempt.succeeded()              # right password: the slot back, the email's failures cleared

`acquire` bumps every counter *before* the work (one atomic INCR each), so N parallel attempts get
N distinct counter values and at most `count` of them proceed; an attempt refused by any counter
takes back what it added (a refused request never counts again). `release()` gives a slot back.
`check(...)`/`hit(...)` count after the fact and are kept for callers that only observe.
`rule` may also name a setting ("RATE_LIMIT_LOGIN").

If the cache itself is down the limiter lets requests through (and logs it): an outage of the
cache must not take the API down with it.
"""

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from tradeline.core.errors import RateLimited

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    count: int
    seconds: int

    @classmethod
    def parse(cls, rule: str) -> "Rule":
        text = str(rule).strip()
        if text.startswith("RATE_LIMIT_"):
            text = str(getattr(settings, text)).strip()
        try:
            count_text, seconds_text = text.split("/", 1)
            count, seconds = int(count_text), int(seconds_text)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"a rate limit rule looks like '<count>/<seconds>', got {rule!r}") from exc
        if count < 1 or seconds < 1:
            raise ValueError(f"a rate limit rule needs count >= 1 and seconds >= 1, got {rule!r}")
        return cls(count, seconds)


def client_ip(request: HttpRequest) -> str:
    """The peer address. X-Forwarded-For is not trusted: a client could forge it to dodge limits."""
    return (request.META.get("REMOTE_ADDR") or "unknown").strip() or "unknown"


def _digest(value: str) -> str:
    # Identities may be emails or key prefixes: keep them out of cache key names.
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:24]


def _subjects(request: HttpRequest | None, identity: str | None, ip: str | None = None) -> list[str]:
    subjects = []
    if ip is None and request is not None:
        ip = client_ip(request)
    if ip:
        subjects.append(f"ip:{_digest(ip)}")
    if identity:
        subjects.append(f"id:{_digest(str(identity).strip().lower())}")
    return subjects


def _window(rule: Rule, now: float) -> tuple[int, int]:
    """(window number, seconds until it ends, at least 1)."""
    number = int(now // rule.seconds)
    retry_after = max(1, math.ceil((number + 1) * rule.seconds - now))
    return number, retry_after


def _counter_key(scope: str, subject: str, rule: Rule, window: int) -> str:
    return f"rl:{scope}:{rule.count}-{rule.seconds}:{subject}:{window}"


def _increment(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:
        # The counter expired between add and incr (window edge): start it again.
        cache.add(key, 0, timeout=timeout)
        return cache.incr(key)


def _raise(scope: str, retry_after: int) -> None:
    raise RateLimited(
        f"Too many requests; try again in {retry_after} seconds.",
        code="RATE_LIMITED",
        retry_after=retry_after,
        details={"scope": scope, "retry_after": retry_after},
    )


def enforce(request: HttpRequest | None, *, scope: str, rule: str, identity: str | None = None,
            ip: str | None = None) -> None:
    """Count one request against the client IP and (if given) the identity; 429 over the limit.

    `ip` overrides the address taken from the request (for services called without one)."""
    hit(request, scope=scope, rule=rule, identity=identity, ip=ip, raise_over=True)


def hit(request: HttpRequest | None, *, scope: str, rule: str, identity: str | None = None,
        ip: str | None = None, raise_over: bool = False) -> int:
    """Count one event; return the highest counter reached. With raise_over, raise when it is over the limit."""
    parsed = Rule.parse(rule)
    window, retry_after = _window(parsed, time.time())
    highest = 0
    try:
        for subject in _subjects(request, identity, ip):
            highest = max(highest, _increment(_counter_key(scope, subject, parsed, window), parsed.seconds + 1))
    except Exception:  # the cache is down: fail open, loudly
        logger.warning("rate limiter cache unavailable (scope %s); request allowed", scope, exc_info=True)
        return 0
    if raise_over and highest > parsed.count:
        _raise(scope, retry_after)
    return highest


class Attempt:
    """The counter slots one acquired attempt holds (see the module doc)."""

    def __init__(self, scope: str, keys: list[str], identity_key: str | None):
        self.scope, self._keys, self._identity_key = scope, keys, identity_key

    def release(self) -> None:
        """Give the slots back: the attempt cost nothing. Once only."""
        keys, self._keys = self._keys, []
        _decrement(self.scope, keys)

    def succeeded(self) -> None:
        """A login that succeeded: its slots back and the identity's earlier failures forgotten."""
        self.release()
        if self._identity_key:
            try:
                cache.delete(self._identity_key)
            except Exception:
                logger.warning("rate limiter cache unavailable (scope %s)", self.scope, exc_info=True)


def _decrement(scope: str, keys: list[str]) -> None:
    for key in keys:
        try:
            cache.decr(key)
        except ValueError:
            pass  # the window ended meanwhile: nothing to give back
        except Exception:
            logger.warning("rate limiter cache unavailable (scope %s)", scope, exc_info=True)


def acquire(request: HttpRequest | None, *, scope: str, rule: str, identity: str | None = None,
            ip: str | None = None) -> Attempt:
    """Take one slot per subject (the client IP first, then the identity) before the work.

    Raises RateLimited when any subject has no slot left, after taking back every slot this call
    took. The cache being down lets the attempt through (an Attempt holding nothing)."""
    parsed = Rule.parse(rule)
    window, retry_after = _window(parsed, time.time())
    subjects = _subjects(request, identity, ip)
    keys = [_counter_key(scope, subject, parsed, window) for subject in subjects]
    identity_key = keys[-1] if identity and subjects and subjects[-1].startswith("id:") else None
    taken: list[str] = []
    try:
        for key in keys:
            count = _increment(key, parsed.seconds + 1)
            taken.append(key)
            if count > parsed.count:
                _decrement(scope, taken)
                _raise(scope, retry_after)
    except RateLimited:
        raise
    except Exception:  # the cache is down: fail open, loudly
        logger.warning("rate limiter cache unavailable (scope %s); request allowed", scope, exc_info=True)
        return Attempt(scope, [], None)
    return Attempt(scope, taken, identity_key)


def check(request: HttpRequest | None, *, scope: str, rule: str, identity: str | None = None,
          ip: str | None = None) -> None:
    """Raise RateLimited if the IP or identity has already used up the window, without counting."""
    parsed = Rule.parse(rule)
    window, retry_after = _window(parsed, time.time())
    try:
        keys = [_counter_key(scope, subject, parsed, window) for subject in _subjects(request, identity, ip)]
        counts = cache.get_many(keys) if keys else {}
    except Exception:
        logger.warning("rate limiter cache unavailable (scope %s); request allowed", scope, exc_info=True)
        return
    if any(int(value or 0) >= parsed.count for value in counts.values()):
        _raise(scope, retry_after)


def reset(request: HttpRequest | None, *, scope: str, rule: str, identity: str | None = None,
          ip: str | None = None) -> None:
    """Clear the current window's counters (e.g. the per-email login counter after a success)."""
    parsed = Rule.parse(rule)
    window, _ = _window(parsed, time.time())
    try:
        subjects = _subjects(request, identity, ip)
        cache.delete_many([_counter_key(scope, subject, parsed, window) for subject in subjects])
    except Exception:
        logger.warning("rate limiter cache unavailable (scope %s)", scope, exc_info=True)
