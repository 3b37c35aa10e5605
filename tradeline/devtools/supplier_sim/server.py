"""The simulator's HTTP server (stdlib ThreadingHTTPServer).

WooCommerce REST v3 under /wp-json/wc/v3:
  GET  /pricing                       the catalog (messy formats, see catalog.py)
  POST /orders                        create an order; stock goes down
  GET  /orders/{id}                   one order
  GET  /orders?search=&include=&modified_after=&page=&per_page=&order=   X-WP-Total / X-WP-TotalPages
  GET  /orders/{id}/notes?type=customer   the order's notes (lifecycle.py: stages after placement)
Auth: OAuth 1.0a HMAC-SHA1 (query string or Authorization header; timestamp within ±15 min,
single-use nonces) or HTTP Basic with the consumer key/secret. Errors: {code, message, data: {status}}.

Control endpoints (no auth, local use only):
  GET  /_sim/state             POST /_sim/reset {"catalog_size", "seed", "bad_rows"}
  POST /_sim/faults {Faults}   DELETE /_sim/faults (or POST /_sim/faults/clear)
  POST /_sim/stock {"card_id", "stock"}   GET /_sim/orders   GET /_sim/requests
  POST /_sim/orders/<id>/status {"status", "note"}   POST /_sim/tick {"stage_seconds"}
"""

import base64
import hashlib
import hmac
import json
import logging
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from tradeline.devtools.supplier_sim import lifecycle
from tradeline.devtools.supplier_sim.state import Faults, SimState, _error

logger = logging.getLogger(__name__)

API_PREFIX = "/wp-json/wc/v3"
TIMESTAMP_WINDOW = 15 * 60
MAX_BODY = 1024 * 1024


def _enc(value: str) -> str:
    return quote(str(value), safe="-._~")


def oauth_signature(method: str, base_url: str, params: list[tuple[str, str]], consumer_secret: str) -> str:
    """RFC 5849 HMAC-SHA1 signature (one-legged: no token secret)."""
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in params))
    base_string = "&".join([method.upper(), _enc(base_url), _enc(normalized)])
    key = f"{_enc(consumer_secret)}&"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AuthFailed(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class SupplierSimulator:
    def __init__(self, *, consumer_key: str, consumer_secret: str, host: str = "127.0.0.1", port: int = 0,
                 catalog_size: int = 60, seed: int = 1, bad_rows: int = 2, faults: Faults | None = None,
                 verbose: bool = False, stage_seconds: float | None = None):
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.state = SimState(catalog_size=catalog_size, seed=seed, bad_rows=bad_rows)
        if faults is not None:
            self.state.set_faults(faults)
        self.verbose = verbose
        self.httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.stage_seconds = stage_seconds  # orders move through their stages on this clock (None: by control)
        self._stopping = threading.Event()

    def _clock(self) -> None:
        while not self._stopping.wait(1.0):
            if self.stage_seconds:
                lifecycle.tick(self.state, stage_seconds=self.stage_seconds)

    @property
    def root(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return self.root + API_PREFIX

    def start(self) -> "SupplierSimulator":
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="supplier-sim", daemon=True)
        self._thread.start()
        threading.Thread(target=self._clock, name="supplier-sim-clock", daemon=True).start()
        return self

    def serve_forever(self) -> None:
        threading.Thread(target=self._clock, name="supplier-sim-clock", daemon=True).start()
        self.httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self._stopping.set()
        self.state.wake.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    # -- auth -------------------------------------------------------------------------------------

    def authenticate(self, method: str, path: str, query: list[tuple[str, str]], headers) -> None:
        header = headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            try:
                key, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise AuthFailed("woocommerce_rest_authentication_error", "Invalid Basic credentials.") from None
            if not (hmac.compare_digest(key, self.consumer_key) and hmac.compare_digest(secret, self.consumer_secret)):
                raise AuthFailed("woocommerce_rest_authentication_error", "Consumer key or secret is invalid.")
            return
        oauth_params: list[tuple[str, str]] = []
        if header.lower().startswith("oauth "):
            for part in header[6:].split(","):
                name, _, value = part.strip().partition("=")
                if name and name != "realm":
                    oauth_params.append((unquote(name), unquote(value.strip('"'))))
        params = list(query) + oauth_params
        given = dict(params)
        if "oauth_consumer_key" not in given:
            raise AuthFailed("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        if not hmac.compare_digest(given["oauth_consumer_key"], self.consumer_key):
            raise AuthFailed("woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if given.get("oauth_signature_method") != "HMAC-SHA1":
            raise AuthFailed("woocommerce_rest_authentication_error", "Invalid signature method.")
        try:
            timestamp = int(given.get("oauth_timestamp", ""))
        except ValueError:
            raise AuthFailed("woocommerce_rest_authentication_error", "Invalid timestamp.") from None
        if abs(time.time() - timestamp) > TIMESTAMP_WINDOW:
            raise AuthFailed("woocommerce_rest_authentication_error", "Invalid timestamp.")
        signature = given.get("oauth_signature", "")
        host = headers.get("Host", "")
        signed = [(k, v) for k, v in params if k != "oauth_signature"]
        expected = oauth_signature(method, f"http://{host}{path}", signed, self.consumer_secret)
        if not hmac.compare_digest(signature, expected):
            raise AuthFailed("woocommerce_rest_authentication_error",
                             "Invalid signature - provided signature does not match.")
        nonce = given.get("oauth_nonce", "")
        if not nonce or not self.state.use_nonce(self.consumer_key, nonce, timestamp, TIMESTAMP_WINDOW):
            raise AuthFailed("woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used.")


def _make_handler(sim: SupplierSimulator):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes
        server_version = "TradelineSupplySim/1.0"

        def log_message(self, fmt, *args):
            if sim.verbose:
                logger.info("supplier-sim %s", fmt % args)

        def do_GET(self):
            self._dispatch("GET")

        def do_POST(self):
            self._dispatch("POST")

        def do_DELETE(self):
            self._dispatch("DELETE")

        def do_PUT(self):
            self._dispatch("PUT")

        # -- plumbing -------------------------------------------------------------------------

        def _send(self, status: int, body, headers: dict | None = None) -> None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            self._status = status
            if self._api_route is not None and not self._logged:
                # Logged before the answer leaves, so a client that got it also sees it in the log.
                sim.state.log_request(self._method, self._api_route, status)
                self._logged = True
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def _error(self, code: str, message: str, status: int, headers: dict | None = None) -> None:
            self._send(status, _error(code, message, status), headers)

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise ValueError("body too large")
            raw = self.rfile.read(length) if length else b""
            return json.loads(raw) if raw else {}

        def _dispatch(self, method: str) -> None:
            self._status = 0
            self._logged = False
            parts = urlsplit(self.path)
            path = parts.path
            self._method = method
            self._api_route = path[len(API_PREFIX):] if path.startswith(API_PREFIX) else None
            query = parse_qsl(parts.query, keep_blank_values=True)
            try:
                if path.startswith("/_sim/"):
                    self._control(method, path, query)
                elif path.startswith(API_PREFIX + "/") or path == API_PREFIX:
                    self._api(method, path, query)
                else:
                    self._error("rest_no_route", "No route was found matching the URL and request method.", 404)
            except (BrokenPipeError, ConnectionResetError):
                return
            except Exception:  # the simulator must answer, whatever happens
                logger.exception("supplier simulator error on %s %s", method, path)
                if not self._status:
                    self._error("internal_server_error", "Simulator error.", 500)

        def _log_now(self, method: str, route: str) -> None:
            """Record a request that will get no answer (status 0) before it starts hanging."""
            sim.state.log_request(method, route, 0)
            self._logged = True

        # -- WooCommerce API ------------------------------------------------------------------

        def _api(self, method: str, path: str, query: list) -> None:
            route = path[len(API_PREFIX):] or "/"
            try:
                payload = self._body() if method in ("POST", "PUT") else {}
            except ValueError:
                payload = None
            fault, wake = sim.state.take_fault(method, route)
            if fault is not None:
                if fault.latency_ms:
                    wake.wait(fault.latency_ms / 1000)
                if fault.timeout:
                    self._log_now(method, route)
                    wake.wait(fault.hang_seconds)
                    self.close_connection = True
                    return
                if fault.status:
                    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                    if fault.status == 429:
                        self._error("woocommerce_rest_too_many_requests", "Too many requests.", 429, headers)
                    else:
                        self._error("internal_server_error", "The server is temporarily unavailable.",
                                    fault.status, headers)
                    return
            try:
                sim.authenticate(method, path, query, self.headers)
            except AuthFailed as exc:
                self._error(exc.code, exc.message, 401)
                return
            if payload is None:
                self._error("rest_invalid_json", "Invalid JSON body passed.", 400)
                return
            status, body, headers = self._route(method, route, dict(query), payload)
            if fault is not None and fault.lost_response:
                self._log_now(method, route)
                wake.wait(fault.hang_seconds)  # the work is done, but the answer never arrives
                self.close_connection = True
                return
            if fault is not None and fault.malformed:
                raw = json.dumps(body).encode()
                self._send(200, raw[: max(1, len(raw) // 2)] or b"{")
                return
            self._send(status, body, headers)

        def _route(self, method: str, route: str, query: dict, payload) -> tuple[int, object, dict]:
            if route == "/pricing" and method == "GET":
                return 200, sim.state.pricing_rows(), {}
            if route == "/orders" and method == "POST":
                if not isinstance(payload, dict):
                    return 400, _error("rest_invalid_json", "Invalid JSON body passed.", 400), {}
                status, body = sim.state.create_order(payload)
                return status, body, {}
            if route == "/orders" and method == "GET":
                return self._search(query)
            if route.startswith("/orders/") and route.endswith("/notes") and method == "GET":
                notes = lifecycle.notes_of(sim.state, route[len("/orders/"):-len("/notes")], query.get("type", "any"))
                if notes is None:
                    return 404, _error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404), {}
                return 200, notes, {}
            if route.startswith("/orders/") and method == "GET":
                order = sim.state.get_order(route[len("/orders/"):])
                if order is None:
                    return 404, _error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404), {}
                return 200, order, {}
            return 404, _error("rest_no_route", "No route was found matching the URL and request method.", 404), {}

        def _search(self, query: dict) -> tuple[int, object, dict]:
            try:
                page = int(query.get("page", "1"))
                per_page = int(query.get("per_page", "10"))
            except ValueError:
                return 400, _error("rest_invalid_param", "Invalid parameter(s): page, per_page", 400), {}
            if page < 1 or not 1 <= per_page <= 100:
                return 400, _error("rest_invalid_param", "Invalid parameter(s): page, per_page", 400), {}
            found = sim.state.search_orders(query.get("search", ""), ascending=query.get("order") == "asc")
            found = lifecycle.filter_orders(found, query)
            total = len(found)
            pages = max(1, math.ceil(total / per_page)) if total else 0
            rows = found[(page - 1) * per_page: page * per_page]
            return 200, rows, {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}

        # -- control --------------------------------------------------------------------------

        def _control(self, method: str, path: str, query: list) -> None:
            try:
                body = self._body() if method in ("POST", "PUT") else {}
            except ValueError:
                self._error("invalid_json", "Invalid JSON body.", 400)
                return
            state = sim.state
            try:
                if path == "/_sim/state" and method == "GET":
                    self._send(200, state.snapshot())
                elif path == "/_sim/reset" and method == "POST":
                    state.reset(catalog_size=body.get("catalog_size"), seed=body.get("seed"),
                                bad_rows=body.get("bad_rows"))
                    self._send(200, state.snapshot())
                elif path == "/_sim/faults" and method == "POST":
                    state.set_faults(Faults.from_dict(body))
                    self._send(200, state.snapshot())
                elif (path == "/_sim/faults" and method == "DELETE") or (path == "/_sim/faults/clear"
                                                                          and method == "POST"):
                    state.clear_faults()
                    self._send(200, state.snapshot())
                elif path == "/_sim/stock" and method == "POST":
                    state.set_stock(str(body["card_id"]), int(body["stock"]))
                    self._send(200, {"card_id": str(body["card_id"]), "stock": int(body["stock"])})
                elif path == "/_sim/orders" and method == "GET":
                    self._send(200, state.orders())
                elif path.startswith("/_sim/orders/") and path.endswith("/status") and method == "POST":
                    order_id = path[len("/_sim/orders/"):-len("/status")]
                    self._send(200, lifecycle.set_status(state, int(order_id), str(body["status"]), body.get("note")))
                elif path == "/_sim/tick" and method == "POST":
                    self._send(200, {"moved": lifecycle.tick(state, stage_seconds=float(body.get("stage_seconds", 0)))})
                elif path == "/_sim/requests" and method == "GET":
                    self._send(200, state.requests[-200:])
                else:
                    self._error("not_found", "Unknown simulator control endpoint.", 404)
            except (KeyError, TypeError, ValueError) as exc:
                self._error("invalid_request", f"Invalid control request: {exc}", 400)

    return Handler
