import uuid

import pytest
from django.core.cache import cache
from django.test import RequestFactory, override_settings

from tradeline.core import ratelimit
from tradeline.core.errors import RateLimited
from tradeline.testing.concurrency import raised, run_together


def _request(ip="10.0.0.1"):
    return RequestFactory().get("/api/public/pricing", REMOTE_ADDR=ip)


def _scope():
    return f"test-{uuid.uuid4().hex[:8]}"


def test_limit_allows_count_then_raises_429_with_retry_after():
    scope = _scope()
    for _ in range(3):
        ratelimit.enforce(_request(), scope=scope, rule="3/60")
    with pytest.raises(RateLimited) as caught:
        ratelimit.enforce(_request(), scope=scope, rule="3/60")
    assert caught.value.status == 429
    assert caught.value.code == "RATE_LIMITED"
    assert 1 <= caught.value.retry_after <= 60
    assert caught.value.details == {"scope": scope, "retry_after": caught.value.retry_after}


def test_ips_are_counted_separately():
    scope = _scope()
    ratelimit.enforce(_request("10.0.0.1"), scope=scope, rule="1/60")
    ratelimit.enforce(_request("10.0.0.2"), scope=scope, rule="1/60")
    with pytest.raises(RateLimited):
        ratelimit.enforce(_request("10.0.0.1"), scope=scope, rule="1/60")


def test_identity_is_limited_across_ips():
    scope = _scope()
    ratelimit.enforce(_request("10.0.0.1"), scope=scope, rule="2/60", identity="tlm_pk_abc")
    ratelimit.enforce(_request("10.0.0.2"), scope=scope, rule="2/60", identity="tlm_pk_abc")
    with pytest.raises(RateLimited):
        ratelimit.enforce(_request("10.0.0.3"), scope=scope, rule="2/60", identity="tlm_pk_abc")
    # another identity from a fresh IP is unaffected
    ratelimit.enforce(_request("10.0.0.4"), scope=scope, rule="2/60", identity="tlm_pk_other")


def test_scopes_are_independent():
    first, second = _scope(), _scope()
    ratelimit.enforce(_request(), scope=first, rule="1/60")
    ratelimit.enforce(_request(), scope=second, rule="1/60")
    with pytest.raises(RateLimited):
        ratelimit.enforce(_request(), scope=first, rule="1/60")


def test_window_expires(monkeypatch):
    scope = _scope()
    now = [1_000_000.0]  # a window boundary for 10-second windows
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    ratelimit.enforce(_request(), scope=scope, rule="1/10")
    now[0] += 9.5
    with pytest.raises(RateLimited) as caught:
        ratelimit.enforce(_request(), scope=scope, rule="1/10")
    assert caught.value.retry_after == 1
    now[0] += 1
    ratelimit.enforce(_request(), scope=scope, rule="1/10")


@override_settings(RATE_LIMIT_LOGIN="2/60")
def test_rule_may_name_a_setting():
    scope = _scope()
    ratelimit.enforce(_request(), scope=scope, rule="RATE_LIMIT_LOGIN")
    ratelimit.enforce(_request(), scope=scope, rule="RATE_LIMIT_LOGIN")
    with pytest.raises(RateLimited):
        ratelimit.enforce(_request(), scope=scope, rule="RATE_LIMIT_LOGIN")


@pytest.mark.parametrize("rule", ["", "5", "five/60", "0/60", "5/0", "5/-1"])
def test_malformed_rule_is_refused(rule):
    with pytest.raises(ValueError):
        ratelimit.Rule.parse(rule)


def test_check_does_not_count_and_hit_does():
    scope, email = _scope(), "admin@example.com"
    for _ in range(5):
        ratelimit.check(_request(), scope=scope, rule="2/60", identity=email)
    assert ratelimit.hit(_request("10.1.1.1"), scope=scope, rule="2/60", identity=email) == 1
    assert ratelimit.hit(_request("10.1.1.2"), scope=scope, rule="2/60", identity=email) == 2
    with pytest.raises(RateLimited):
        ratelimit.check(_request("10.9.9.9"), scope=scope, rule="2/60", identity=email)
    ratelimit.reset(None, scope=scope, rule="2/60", identity=email)
    ratelimit.check(_request("10.9.9.9"), scope=scope, rule="2/60", identity=email)


def test_concurrent_requests_never_exceed_the_limit():
    scope = _scope()

    def five_requests():
        outcomes = []
        for _ in range(5):
            try:
                ratelimit.enforce(_request(), scope=scope, rule="25/60")
                outcomes.append("allowed")
            except RateLimited:
                outcomes.append("refused")
        return outcomes

    results = run_together([five_requests] * 16)
    assert raised(results) == []
    outcomes = [outcome for result in results for outcome in result]
    assert outcomes.count("allowed") == 25
    assert outcomes.count("refused") == 16 * 5 - 25


def test_identity_is_not_stored_in_plain_text(monkeypatch):
    monkeypatch.setattr(ratelimit.time, "time", lambda: 2_000_000.0)
    scope, rule = _scope(), ratelimit.Rule(5, 60)
    ratelimit.enforce(_request(), scope=scope, rule="5/60", identity="someone@example.com")
    window = ratelimit._window(rule, 2_000_000.0)[0]
    key = ratelimit._counter_key(scope, "id:" + ratelimit._digest("someone@example.com"), rule, window)
    assert "someone" not in key
    assert cache.get(key) == 1


def test_cache_outage_fails_open(monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "add", broken)
    monkeypatch.setattr(cache, "get_many", broken)
    scope = _scope()
    for _ in range(3):
        ratelimit.enforce(_request(), scope=scope, rule="1/60")
        ratelimit.check(_request(), scope=scope, rule="1/60")


def test_acquire_counts_before_the_work_and_refused_attempts_take_their_slot_back():
    scope = _scope()
    attempts = [ratelimit.acquire(_request(), scope=scope, rule="2/60", identity="a@example.com") for _ in range(2)]
    for _ in range(3):
        with pytest.raises(RateLimited):
            ratelimit.acquire(_request(), scope=scope, rule="2/60", identity="a@example.com")
    # the refused ones added nothing: one slot given back frees exactly one attempt
    attempts[0].release()
    attempts[0].release()  # once only
    ratelimit.acquire(_request(), scope=scope, rule="2/60", identity="a@example.com")
    with pytest.raises(RateLimited):
        ratelimit.acquire(_request(), scope=scope, rule="2/60", identity="a@example.com")


def test_acquire_refused_by_the_identity_gives_the_ip_slot_back():
    scope = _scope()
    ratelimit.acquire(_request("10.0.0.1"), scope=scope, rule="1/60", identity="k1")
    with pytest.raises(RateLimited):
        ratelimit.acquire(_request("10.0.0.2"), scope=scope, rule="1/60", identity="k1")
    ratelimit.acquire(_request("10.0.0.2"), scope=scope, rule="1/60", identity="k2")  # 10.0.0.2 was not charged


def test_succeeded_clears_the_identity_failures_but_not_the_ip():
    scope = _scope()
    ratelimit.acquire(_request("10.0.0.1"), scope=scope, rule="2/60", identity="u")
    ratelimit.acquire(_request("10.0.0.2"), scope=scope, rule="2/60", identity="u").succeeded()
    ratelimit.acquire(_request("10.0.0.3"), scope=scope, rule="2/60", identity="u")
    ratelimit.acquire(_request("10.0.0.3"), scope=scope, rule="2/60", identity="u")


def test_parallel_acquires_never_pass_the_limit():
    scope = _scope()

    def attempt():
        try:
            ratelimit.acquire(_request(), scope=scope, rule="5/60", identity="victim@example.com")
            return "judged"
        except RateLimited:
            return "refused"

    results = run_together([attempt] * 40)
    assert raised(results) == []
    assert results.count("judged") == 5
