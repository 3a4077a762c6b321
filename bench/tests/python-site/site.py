#!/usr/bin/env python3
"""Part of the sitebench site in Python's standard library, the way the course's lecture
builds a server with http.server: /healthz, /plaintext, /json, /hello and /status/{code}.
Nothing else (no static pages, no accounts), so the benchmark must time the scenarios it
answers and report the others failed. Used by bench/tests/any_server.rs.

    python3 site.py --port 8080
"""

import argparse
import html
import json
import signal
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Site(BaseHTTPRequestHandler):
    # Keep-alive, as the benchmark's connections expect.
    protocol_version = "HTTP/1.1"
    # The head and the body leave in two writes: with Nagle's algorithm on, the body waits
    # for the client's delayed ACK of the head, 40 ms per request on Linux.
    disable_nagle_algorithm = True
    server_version = "sitebench-python"
    sys_version = ""

    def send(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def problem(self, status):
        phrase = HTTPStatus(status).phrase
        body = {"type": "about:blank", "title": phrase, "status": status}
        self.send(status, "application/problem+json", json.dumps(body).encode())

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/healthz":
            self.send(200, "text/plain; charset=utf-8", b"ok")
        elif url.path == "/plaintext":
            self.send(200, "text/plain; charset=utf-8", b"Hello, World!")
        elif url.path == "/json":
            body = json.dumps({"message": "Hello, World!"}).encode()
            self.send(200, "application/json", body)
        elif url.path == "/hello":
            name = parse_qs(url.query).get("name", ["World"])[0]
            page = f"<!doctype html><title>Hello</title><p>Hello, {html.escape(name)}!</p>"
            self.send(200, "text/html; charset=utf-8", page.encode())
        elif url.path.startswith("/status/") and url.path[8:].isdigit():
            code = int(url.path[8:])
            if 400 <= code <= 599 and code in HTTPStatus._value2member_map_:
                self.problem(code)
            else:
                self.problem(400)
        else:
            self.problem(404)

    do_HEAD = do_GET

    def do_POST(self):
        # Read the body so the connection stays usable, then refuse: no accounts here.
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.problem(404)

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Site)
    server.daemon_threads = True
    # SIGTERM ends it cleanly (exit status 0), as the benchmark asks of every server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except SystemExit:
        server.server_close()
        raise


if __name__ == "__main__":
    main()
