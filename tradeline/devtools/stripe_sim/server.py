"""The local Stripe-compatible HTTP server: Stripe's API subset, a hosted checkout page, test controls.

    sim = StripeSim(secret_key="sk_test_...", webhook_secret="whsec_...", webhook_url=None).start()
    sim.url  # -> http://127.0.0.1:<port>; point STRIPE_API_BASE at it

With state_path, everything is kept in SQLite and a restart continues where it stopped (persist.py).

Routes:
  /v1/...          the Stripe API (bearer auth with the secret key, form-encoded params, Idempotency-Key)
  /checkout/<id>   the hosted checkout page of a session (Pay / delayed / Decline / Cancel)
  /pay/<plink>     a payment link: opens a new checkout session
  /_sim/...        JSON test controls (see controls.py)
"""

import base64
import binascii
import hmac
import json
import logging
import threading
import time
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tradeline.devtools.stripe_sim import api, connect, connect_pages, controls, objects as o
from tradeline.devtools.stripe_sim.delivery import Deliverer
from tradeline.devtools.stripe_sim.errors import SimError
from tradeline.devtools.stripe_sim.forms import parse_params
from tradeline.devtools.stripe_sim.hosted import handle_page
from tradeline.devtools.stripe_sim.params import check_request
from tradeline.devtools.stripe_sim.persist import StripeStore
from tradeline.devtools.stripe_sim.state import SimState

logger = logging.getLogger("tradeline.stripe_sim")

MAX_BODY_BYTES = 1024 * 1024
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


class Faults:
    """Injected failures for /v1 calls: an HTTP status and/or a delay, for the next N calls or all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[dict] = []

    def set(self, *, status: int | None = None, delay_ms: int = 0, count: int | None = None,
            path: str | None = None, method: str | None = None) -> dict:
        if status is not None and not (400 <= int(status) <= 599):
            raise SimError(400, "A fault status must be an HTTP error status (400-599).", param="status")
        if not status and not delay_ms:
            raise SimError(400, "A fault needs a status or a delay_ms.", param="status")
        rule = {"status": int(status) if status else None, "delay_ms": max(0, int(delay_ms or 0)),
                "count": None if count is None else max(1, int(count)), "path": path or "/v1/",
                "method": method.upper() if method else None}
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def list(self) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._rules]

    def take(self, method: str, path: str) -> tuple[int | None, int]:
        with self._lock:
            for rule in self._rules:
                if not path.startswith(rule["path"]) or (rule["method"] and rule["method"] != method):
                    continue
                if rule["count"] is not None:
                    rule["count"] -= 1
                    if rule["count"] <= 0:
                        self._rules.remove(rule)
                return rule["status"], rule["delay_ms"]
        return None, 0


class IdempotencyStore:
    """Idempotency-Key -> (fingerprint, status, body), 24 h. Requests with one key run one at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, str, int, dict]] = {}
        self._key_locks: dict[str, threading.Lock] = {}
        self._unsaved: set[str] = set()

    def key_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def get(self, key: str):
        with self._lock:
            entry = self._entries.get(key)
            if entry and time.time() - entry[0] > IDEMPOTENCY_TTL_SECONDS:
                del self._entries[key]
                return None
            return entry

    def put(self, key: str, fingerprint: str, status: int, body: dict, *, saved_at: float | None = None) -> None:
        with self._lock:
            self._entries[key] = (saved_at or time.time(), fingerprint, status, body)
            if saved_at is None:
                self._unsaved.add(key)

    def unsaved(self) -> list[tuple[str, tuple]]:
        """Entries not yet handed to the store (and forgets that they were not)."""
        with self._lock:
            keys, self._unsaved = self._unsaved, set()
            return [(key, self._entries[key]) for key in keys if key in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._unsaved.clear()


class StripeSim:
    def __init__(self, *, secret_key: str, webhook_secret: str, webhook_url: str | None = None,
                 host: str = "127.0.0.1", port: int = 0, public_url: str | None = None,
                 delivery_timeout: float = 5.0, retry_delays: tuple[float, ...] = (),
                 expire_interval: float | None = None, log_requests: bool = False, state_path=None):
        if not secret_key or not secret_key.startswith("sk_test_"):
            raise ValueError("The local Stripe server only accepts a test-mode secret key (sk_test_...).")
        if not webhook_secret:
            raise ValueError("A webhook signing secret (whsec_...) is required.")
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.state = SimState()
        self.connect = connect.ConnectState(self.state)  # Connect objects (connect.py), same lock and events
        self.faults = Faults()
        self.idempotency = IdempotencyStore()
        self.deliverer = Deliverer(self.state, webhook_secret=webhook_secret, webhook_url=webhook_url or None,
                                   timeout=delivery_timeout, retry_delays=retry_delays)
        self.store = StripeStore(state_path, self) if state_path else None
        self.log_requests = log_requests
        # Contract checks (tests): called with every /v1 request's params, and with every JSON body
        # the API answers or an event carries; they record what differs from Stripe's definitions.
        self.request_hook = None
        self.response_hook = None
        self.generation = 0
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.sim = self
        bound_host, bound_port = self.httpd.server_address[:2]
        if bound_host in ("0.0.0.0", "::"):
            bound_host = "127.0.0.1"
        self.url = (public_url or f"http://{bound_host}:{bound_port}").rstrip("/")
        self.port = bound_port
        self.expire_interval = expire_interval
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    @property
    def webhook_url(self) -> str | None:
        return self.deliverer.webhook_url

    def set_webhook_url(self, url: str | None) -> None:
        self.deliverer.webhook_url = url or None

    def reset(self) -> None:
        self.deliverer.cancel_retries()
        self.deliverer.wait_idle(timeout=self.deliverer.timeout + 1)
        self.generation += 1
        self.state.reset()
        self.connect.reset()
        self.faults.clear()
        self.idempotency.clear()
        if self.store is not None:
            self.store.clear()

    def start(self) -> "StripeSim":
        serve = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                 name="stripe-sim", daemon=True)
        serve.start()
        self._threads.append(serve)
        if self.expire_interval:
            sweeper = threading.Thread(target=self._expire_loop, name="stripe-sim-expiry", daemon=True)
            sweeper.start()
            self._threads.append(sweeper)
        return self

    def serve_forever(self) -> None:
        self.start()
        try:
            while not self._stopping.wait(0.5):
                pass
        finally:
            self.stop()

    def stop(self) -> None:
        self._stopping.set()
        self.deliverer.cancel_retries()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.store is not None:
            self.persist()
            self.store.close()
            self.store = None

    def persist(self) -> None:
        """Write what changed to the state file (no-op without one)."""
        if self.store is not None:
            self.store.sync()

    def _expire_loop(self) -> None:
        while not self._stopping.wait(self.expire_interval):
            for session_id in self.state.due_for_expiry():
                try:
                    _, events = self.state.expire(session_id)
                except SimError:
                    continue
                self.persist()
                self.deliverer.enqueue(events)


class _Handler(BaseHTTPRequestHandler):
    server_version = "stripe-sim/1.0"
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the body waits for the client's
    # delayed ACK of the headers (about 40 ms per keep-alive request).
    disable_nagle_algorithm = True

    @property
    def sim(self) -> StripeSim:
        return self.server.sim

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's signature
        pass  # one line per request is written in _handle (never headers: they carry the API key)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_DELETE(self):
        self._handle("DELETE")

    # ---- plumbing ---------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        started = time.monotonic()
        self.request_id = o.new_id("req_", 14)
        self.status_sent = 0
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        try:
            body = self._read_body()
            if path.startswith("/v1/"):
                self._api(method, path, split.query, body)
            elif path.startswith("/_sim/connect/"):
                self.send_json(*connect_pages.handle_control(self.sim, method, path, body))
            elif path.startswith("/_sim/") or path == "/_sim":
                status, payload = controls.handle(self.sim, method, path, parse_qs(split.query), body)
                if method != "GET":
                    self.sim.persist()
                self.send_json(status, payload)
            elif not (path.startswith("/connect/") and connect_pages.handle_page(self, method, path)):
                handle_page(self, method, path, parse_qs(split.query), body)
                if method != "GET":
                    self.sim.persist()
        except SimError as exc:
            self.send_json(exc.status, exc.body())
        except (BrokenPipeError, ConnectionResetError):
            return
        except Exception:
            logger.exception("stripe_sim: unexpected error on %s %s", method, path)
            self.send_json(500, {"error": {"type": "api_error", "message": "An unexpected error occurred."}})
        if self.sim.log_requests:
            logger.info("%s %s -> %s (%d ms)", method, path, self.status_sent,
                        int((time.monotonic() - started) * 1000))

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError as exc:
            raise SimError(400, "Invalid Content-Length header.") from exc
        if size < 0 or size > MAX_BODY_BYTES:
            self.close_connection = True
            raise SimError(413, "Request body too large.")
        return self.rfile.read(size)

    def send_json(self, status: int, payload, *, headers: dict | None = None) -> None:
        data = json.dumps(payload, indent=2).encode()
        self.send_bytes(status, data, "application/json", headers=headers)

    def send_bytes(self, status: int, data: bytes, content_type: str, *, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", self.request_id)
        self.send_header("Stripe-Version", self.headers.get("Stripe-Version") or o.API_VERSION)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.status_sent = status

    def redirect(self, location: str) -> None:
        self.send_response(303)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.status_sent = 303

    # ---- the API ----------------------------------------------------------------------------

    def _authenticate(self) -> None:
        header = self.headers.get("Authorization", "")
        key = ""
        if header.startswith("Bearer "):
            key = header[7:].strip()
        elif header.startswith("Basic "):
            try:
                key = base64.b64decode(header[6:].strip()).decode().split(":", 1)[0]
            except (binascii.Error, UnicodeDecodeError):
                key = ""
        if not key:
            raise SimError(401, "You did not provide an API key. You need to provide your API key in the "
                           "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
        if not hmac.compare_digest(key.encode(), self.sim.secret_key.encode()):
            masked = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else "****"
            raise SimError(401, f"Invalid API Key provided: {masked}", code="api_key_invalid")

    def _api(self, method: str, path: str, query: str, body: bytes) -> None:
        route = partial(self.sim.connect.route if connect.handles(path) else api.route, self.sim)
        status, delay_ms = self.sim.faults.take(method, path)
        if delay_ms:
            generation = self.sim.generation
            time.sleep(delay_ms / 1000)
            if generation != self.sim.generation:  # reset while we slept: this request belongs to the past
                raise SimError(500, "The local Stripe server was reset during this request.", type="api_error")
        if status:
            error_type = "api_error" if status >= 500 else "invalid_request_error"
            raise SimError(status, "An error occurred with our connection to Stripe. (injected fault)",
                           type=error_type)
        self._authenticate()
        if method == "POST":
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if body and ctype not in ("application/x-www-form-urlencoded", ""):
                raise SimError(400, "Invalid request: the body must be form-encoded "
                               "(application/x-www-form-urlencoded), like Stripe's API.")
            try:
                params = parse_params(body.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise SimError(400, "Invalid request: the body is not UTF-8.") from exc
            if query:
                params.update(parse_params(query))
        else:
            params = parse_params(query)
        check_request(method, path, params)
        if self.sim.request_hook is not None:
            self.sim.request_hook(method, path, params)
        ctx = {"request_id": self.request_id, "idempotency_key": None}
        key = self.headers.get("Idempotency-Key") if method == "POST" else None
        if not key:
            result_status, payload, events = route(method, path, params, ctx)
            self._contract(method, path, payload)
            self.send_json(result_status, payload)
            self.sim.deliverer.enqueue(events)
            return
        if len(key) > 255:
            raise SimError(400, "Idempotency keys can be at most 255 characters long.", type="idempotency_error")
        ctx["idempotency_key"] = key
        fingerprint = json.dumps([method, path, params], sort_keys=True)
        with self.sim.idempotency.key_lock(key):
            entry = self.sim.idempotency.get(key)
            if entry is not None:
                _, stored_fp, stored_status, stored_body = entry
                if stored_fp != fingerprint:
                    raise SimError(400, "Keys for idempotent requests can only be used with the same parameters "
                                   f"they were first used with. Try using a key other than '{key}' if you meant "
                                   "to execute a different request.", type="idempotency_error")
                self.send_json(stored_status, stored_body, headers={"Idempotent-Replayed": "true"})
                return
            try:
                result_status, payload, events = route(method, path, params, ctx)
            except SimError as exc:
                if exc.status == 402:  # card errors are remembered like successes; validation errors are not
                    self.sim.idempotency.put(key, fingerprint, exc.status, exc.body())
                raise
            self.sim.idempotency.put(key, fingerprint, result_status, payload)
        self._contract(method, path, payload)
        self.send_json(result_status, payload, headers={"Idempotency-Key": key})
        self.sim.deliverer.enqueue(events)

    def _contract(self, method: str, path: str, payload) -> None:
        """Before an API answer leaves: the contract hook (tests) and the state file."""
        if self.sim.response_hook is not None:
            self.sim.response_hook(method, path, payload)
        if method != "GET":
            self.sim.persist()
