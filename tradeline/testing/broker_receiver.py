"""A broker's webhook receiver for tests: a real HTTP server on a free local port that verifies
`Tradeline-Signature` the way a broker would and answers with the status the test chooses."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tradeline.hooks.safety import verify_signature


class Receiver:
    def __init__(self):
        self.secret = ""
        self.statuses: list[int] = []  # answers in order; then `default_status`
        self.default_status = 200
        self.response_body = b'{"received":true}'
        self.delay_seconds = 0.0
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                header = self.headers.get("Tradeline-Signature", "")
                with receiver.lock:
                    receiver.requests.append({
                        "path": self.path, "headers": dict(self.headers), "body": body,
                        "json": json.loads(body or b"null"),
                        "verified": verify_signature(header=header, body=body, secret=receiver.secret,
                                                     tolerance=300, now=int(time.time())),
                    })
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default_status
                if receiver.delay_seconds:
                    time.sleep(receiver.delay_seconds)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(receiver.response_body)))
                self.end_headers()
                self.wfile.write(receiver.response_body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/tradeline"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def broker_receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()
