"""A local HTTP receiver that records what robots would get, and helpers to drive notifications in tests."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

OK = {"errcode": 0, "errmsg": "ok", "code": 0, "msg": "success"}  # what all three vendors say on success


class Receiver:
    """Records every POST (path, query, headers, JSON body); answers from ``answers`` (status, body) in
    order, then ``OK``."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict | str]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urllib.parse.urlsplit(self.path)
                with receiver.lock:
                    receiver.requests.append({
                        "path": parts.path, "query": urllib.parse.parse_qs(parts.query),
                        "content_type": self.headers.get("Content-Type", ""), "json": json.loads(raw.decode("utf-8")),
                    })
                    status, body = receiver.answers.pop(0) if receiver.answers else (200, OK)
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"


@pytest.fixture
def receiver():
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def immediate(settings):
    """Tasks run as soon as they are enqueued (after commit, where they are enqueued on commit)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.LANGUAGE_CODE = "en"  # stored texts in English, so assertions do not depend on the catalog
    settings.GONGZHI_BASE_URL = "http://gongzhi.test"
