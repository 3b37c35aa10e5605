"""The simulator's HTTP server (stdlib ThreadingHTTPServer).

WooCommerce REST v3 under /wp-json/wc/v3:
  GET  /pricing                       the catalog (messy formats, see catalog.py)
  POST /orders                        create an order as the real store does (see orders.py)
  GET  /orders/{id}                   one order
  GET  /orders?search=&include=&modified_after=&page=&per_page=&order=   X-WP-Total / X-WP-TotalPages
  GET  /orders/{id}/notes?type=customer   the order's notes (lifecycle.py: stages after placement)
Auth as WooCommerce: OAuth 1.0a HMAC-SHA1 or HMAC-SHA256 (query string or Authorization header;
timestamp within ±15 min, single-use nonces); HTTP Basic only when served over HTTPS (ssl_context).
Errors: {code, message, data: {status}} with WooCommerce's own codes. A created order answers 201
with a Location header; lists carry X-WP-Total, X-WP-TotalPages and Link (rel prev/next).
With state_path, orders, order ids and stock are kept in SQLite across restarts (persist.py).

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
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from tradeline.devtools.supplier_sim import lifecycle
from tradeline.devtools.supplier_sim.orders import with_links
from tradeline.devtools.supplier_sim.persist import SupplierStore
from tradeline.devtools.supplier_sim.state import Faults, SimState, _error

logger = logging.getLogger(__name__)

API_PREFIX = "/wp-json/wc/v3"
TIMESTAMP_WINDOW = 15 * 60
MAX_BODY = 1024 * 1024


def _enc(value: str) -> str:
    return quote(str(value), safe="-._~")


OAUTH_REQUIRED = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method")
SIGNATURE_METHODS = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}


def oauth_signature(method: str, base_url: str, params: list[tuple[str, str]], consumer_secret: str,
                    algorithm=hashlib.sha1) -> str:
    """RFC 5849 HMAC signature (one-legged: no token secret), SHA-1 or SHA-256 as WooCommerce accepts."""
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in params))
    base_string = "&".join([method.upper(), _enc(base_url), _enc(normalized)])
    key = f"{_enc(consumer_secret)}&"
    digest = hmac.new(key.encode(), base_string.encode(), algorithm).digest()
    return base64.b64encode(digest).decode()


class AuthFailed(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class SupplierSimulator:
    def __init__(self, *, consumer_key: str, consumer_secret: str, host: str = "127.0.0.1", port: int = 0,
                 catalog_size: int = 60, seed: int = 1, bad_rows: int = 2, faults: Faults | None = None,
                 verbose: bool = False, ssl_context=None, state_path=None, stage_seconds: float | None = None):
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.state = SimState(catalog_size=catalog_size, seed=seed, bad_rows=bad_rows)
        if faults is not None:
            self.state.set_faults(faults)
        self.verbose = verbose
        self.https = ssl_context is not None
        self.httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.store = SupplierStore(state_path, self.state) if state_path else None
        self.stage_seconds = stage_seconds  # orders move through their stages on this clock (None: by control)
        self._stopping = threading.Event()

    @property
    def root(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"{'https' if self.https else 'http'}://{host}:{port}"

    @property
    def url(self) -> str:
        return self.root + API_PREFIX

    def _clock(self) -> None:
        while not self._stopping.wait(1.0):
            if self.stage_seconds:
                lifecycle.tick(self.state, stage_seconds=self.stage_seconds)

    def start(self) -> "SupplierSimulator":
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="supplier-sim", daemon=True)
        self._thread.start()
        threading.Thread(target=self._clock, name="supplier-sim-clock", daemon=True).start()
        return self

    def serve_forever(self) -> None:
        threading.Thread(target=self._clock, name="supplier-sim-clock", daemon=True).start()
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            if self.store is not None:
                self.store.close()

    def stop(self) -> None:
        self._stopping.set()
        self.state.wake.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        if self.store is not None:
            self.store.close()

    # -- auth -------------------------------------------------------------------------------------

    def authenticate(self, method: str, path: str, query: list[tuple[str, str]], headers) -> bool:
        """True when the request carries valid credentials, False when it carries none (WooCommerce
        then refuses it in the route's permission check); AuthFailed for wrong ones.

        As WooCommerce: HTTP Basic only over HTTPS (over plain HTTP a Basic header is ignored);
        otherwise OAuth 1.0a one-legged, HMAC-SHA1 or HMAC-SHA256, parameters in the query string
        or an `Authorization: OAuth` header."""
        header = headers.get("Authorization", "")
        if self.https and header.lower().startswith("basic "):
            try:
                key, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise AuthFailed("woocommerce_rest_authentication_error", "Consumer key is invalid.") from None
            if not hmac.compare_digest(key.encode(), self.consumer_key.encode()):
                raise AuthFailed("woocommerce_rest_authentication_error", "Consumer key is invalid.")
            if not hmac.compare_digest(secret.encode(), self.consumer_secret.encode()):
                raise AuthFailed("woocommerce_rest_authentication_error", "Consumer secret is invalid.")
            return True
        if self.https:
            key, secret = _query_value(query, "consumer_key"), _query_value(query, "consumer_secret")
            if key is not None or secret is not None:  # WooCommerce also takes them as query parameters over SSL
                if not (hmac.compare_digest((key or "").encode(), self.consumer_key.encode())
                        and hmac.compare_digest((secret or "").encode(), self.consumer_secret.encode())):
                    raise AuthFailed("woocommerce_rest_authentication_error", "Consumer key is invalid.")
                return True
        oauth_params: list[tuple[str, str]] = []
        if header.lower().startswith("oauth "):
            for part in header[6:].split(","):
                name, _, value = part.strip().partition("=")
                if name and name != "realm":
                    oauth_params.append((unquote(name), unquote(value.strip('"'))))
        params = list(query) + oauth_params
        given = dict(params)
        present = [name for name in OAUTH_REQUIRED if name in given]
        if not present:
            return False
        missing = [name for name in OAUTH_REQUIRED if name not in given]
        if missing:
            label = "parameter" if len(missing) == 1 else "parameters"
            raise AuthFailed("woocommerce_rest_authentication_missing_parameter",
                             f"Missing OAuth {label} {', '.join(missing)}")
        if not hmac.compare_digest(given["oauth_consumer_key"].encode(), self.consumer_key.encode()):
            raise AuthFailed("woocommerce_rest_authentication_error", "Consumer key is invalid.")
        algorithm = SIGNATURE_METHODS.get(given["oauth_signature_method"])
        if algorithm is None:
            raise AuthFailed("woocommerce_rest_authentication_error",
                             "Invalid signature - signature method is invalid.")
        signature = given["oauth_signature"]
        host = headers.get("Host", "")
        scheme = "https" if self.https else "http"
        signed = [(k, v) for k, v in params if k != "oauth_signature"]
        expected = oauth_signature(method, f"{scheme}://{host}{path}", signed, self.consumer_secret, algorithm)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise AuthFailed("woocommerce_rest_authentication_error",
                             "Invalid signature - provided signature does not match.")
        try:
            timestamp = int(given["oauth_timestamp"])
        except ValueError:
            raise AuthFailed("woocommerce_rest_authentication_error", "Invalid timestamp.") from None
        if abs(time.time() - timestamp) > TIMESTAMP_WINDOW:
            raise AuthFailed("woocommerce_rest_authentication_error", "Invalid timestamp.")
        nonce = given["oauth_nonce"]
        if not nonce or not self.state.use_nonce(self.consumer_key, nonce, timestamp, TIMESTAMP_WINDOW):
            raise AuthFailed("woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used.")
        return True


def _query_value(query: list[tuple[str, str]], name: str) -> str | None:
    for key, value in query:
        if key == name:
            return value
    return None


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

        def _send(self, status: int, body, headers: dict | None = None,
                  content_type: str = "application/json; charset=UTF-8") -> None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            self._status = status
            if self._api_route is not None and not self._logged:
                # Logged before the answer leaves, so a client that got it also sees it in the log.
                sim.state.log_request(self._method, self._api_route, status)
                self._logged = True
            self.send_response(status)
            self.send_header("Content-Type", content_type)
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
                    # WooCommerce itself never answers 429 or 5xx with a body of its own: what the
                    # client sees is the web server's or proxy's HTML page.
                    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                    reason = self.responses.get(fault.status, ("Error",))[0]
                    page = f"<html><head><title>{fault.status} {reason}</title></head><body><center><h1>" \
                           f"{fault.status} {reason}</h1></center><hr><center>nginx</center></body></html>"
                    self._send(fault.status, page.encode(), headers, content_type="text/html")
                    return
            try:
                authenticated = sim.authenticate(method, path, query, self.headers)
            except AuthFailed as exc:
                self._error(exc.code, exc.message, 401)
                return
            if payload is None:
                self._error("rest_invalid_json", "Invalid JSON body passed.", 400)
                return
            self._authenticated = authenticated
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
            """WooCommerce's routes: the route is matched first (rest_no_route), then its permission
            check refuses a request without credentials."""
            one = re.fullmatch(r"/orders/(\d+)", route)
            if route == "/pricing" and method == "GET":
                denied = self._denied("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
                return denied or (200, sim.state.pricing_rows(), {})
            if route == "/orders" and method == "POST":
                denied = self._denied("woocommerce_rest_cannot_create",
                                      "Sorry, you are not allowed to create resources.")
                if denied:
                    return denied
                if not isinstance(payload, dict):
                    return 400, _error("rest_invalid_json", "Invalid JSON body passed.", 400), {}
                status, body = sim.state.create_order(payload)
                if status != 201:
                    return status, body, {}
                return 201, with_links(body, sim.url), {"Location": f"{sim.url}/orders/{body['id']}"}
            if route == "/orders" and method == "GET":
                denied = self._denied("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
                return denied or self._search(query)
            notes = re.fullmatch(r"/orders/(\d+)/notes", route)
            if notes and method == "GET":
                denied = self._denied("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
                rows = None if denied else lifecycle.notes_of(sim.state, notes[1], query.get("type", "any"))
                if denied or rows is None:
                    return denied or (404, _error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404), {})
                return 200, rows, {}
            if one and method == "GET":
                denied = self._denied("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
                if denied:
                    return denied
                order = sim.state.get_order(one[1])
                if order is None:
                    return 404, _error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404), {}
                return 200, with_links(order, sim.url), {}
            return 404, _error("rest_no_route", "No route was found matching the URL and request method.", 404), {}

        def _denied(self, code: str, message: str):
            if self._authenticated:
                return None
            return 401, _error(code, message, 401), {}

        def _search(self, query: dict) -> tuple[int, object, dict]:
            bad = []
            try:
                page = int(query.get("page", "1"))
            except ValueError:
                page, bad = 1, ["page"]
            try:
                per_page = int(query.get("per_page", "10"))
            except ValueError:
                per_page, bad = 10, bad + ["per_page"]
            if page < 1 and "page" not in bad:
                bad.append("page")
            if not 1 <= per_page <= 100 and "per_page" not in bad:
                bad.append("per_page")
            if query.get("order", "desc") not in ("asc", "desc"):
                bad.append("order")
            if bad:
                return 400, _error("rest_invalid_param", f"Invalid parameter(s): {', '.join(bad)}", 400,
                                   params={name: f"{name} is not valid." for name in bad}), {}
            found = sim.state.search_orders(query.get("search", ""), ascending=query.get("order") == "asc")
            found = lifecycle.filter_orders(found, query)
            total = len(found)
            pages = math.ceil(total / per_page) if total else 0
            rows = [with_links(o, sim.url) for o in found[(page - 1) * per_page: page * per_page]]
            headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
            links = []
            if page > 1:
                links.append(f'<{self._page_url(query, min(page - 1, max(pages, 1)))}>; rel="prev"')
            if pages > page:
                links.append(f'<{self._page_url(query, page + 1)}>; rel="next"')
            if links:
                headers["Link"] = ", ".join(links)
            return 200, rows, headers

        def _page_url(self, query: dict, page: int) -> str:
            params = {k: v for k, v in query.items() if not k.startswith("oauth_")
                      and k not in ("consumer_key", "consumer_secret")}
            params["page"] = str(page)
            return f"{sim.url}/orders?{urlencode(params)}"

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
