"""A local fake of the Hub's file endpoint (HEAD and ranged GET on /{repo}/resolve/{revision}/{file}),
serving repositories from folders. Loopback only; stops with the test."""

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class _Handler(BaseHTTPRequestHandler):
    root: ClassVar[Path]
    status_for: ClassVar[dict[str, int]] = {}  # repo -> forced HTTP status (401 gated, 404, 429)
    requests: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _file(self) -> Path | None:
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) < 5 or parts[2] != "resolve":
            return None
        repo = "/".join(parts[:2])
        forced = self.status_for.get(repo)
        if forced:
            self.send_response(forced)
            if forced == 401:
                self.send_header("X-Error-Code", "GatedRepo")
                self.send_header("X-Error-Message", "Access to this repo is restricted")
            if forced == 404:
                self.send_header("X-Error-Code", "RepoNotFound")
            if forced == 429:
                self.send_header("Retry-After", "0")  # the client retries at once instead of backing off
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        path = self.root / repo / "/".join(parts[4:])
        if not path.is_file():
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        return path

    def _headers(self, path: Path, body_length: int, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", '"' + hashlib.sha256(path.read_bytes()).hexdigest() + '"')
        self.send_header("Content-Length", str(body_length))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()

    def do_HEAD(self) -> None:
        self.requests.append(f"HEAD {self.path}")
        path = self._file()
        if path is not None:
            self._headers(path, path.stat().st_size)

    def do_GET(self) -> None:
        self.requests.append(f"GET {self.path} {self.headers.get('Range', '')}")
        path = self._file()
        if path is None:
            return
        data = path.read_bytes()
        wanted = self.headers.get("Range")
        if wanted and wanted.startswith("bytes="):
            start, _, end = wanted[6:].partition("-")
            chunk = data[int(start) : (int(end) + 1 if end else len(data))]
            self._headers(path, len(chunk), 206)
            self.wfile.write(chunk)
        else:
            self._headers(path, len(data))
            self.wfile.write(data)


@contextmanager
def fake_hub(root: Path) -> Iterator[type[_Handler]]:
    handler = type("Handler", (_Handler,), {"root": root, "status_for": {}, "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.endpoint = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()
