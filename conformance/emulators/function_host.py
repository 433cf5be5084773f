#!/usr/bin/env python3
"""A small function host that serves the conformance function set over HTTP.

It stands in for Azure Functions (whose host cannot be installed on a machine without
internet access) and is called the way Azure Functions HTTP triggers are called:

    POST /api/{name}            body: the JSON payload
    x-functions-key: KEY        must equal the environment variable STRATUS_FUNCTIONS_KEY

Functions (see conformance/src/functions.rs):
    echo   returns the request body unchanged
    fail   500 with {"error": "conformance failure requested"}
    sleep  reads {"ms": N}, sleeps N milliseconds, returns {"slept_ms": N}

Other answers: unknown function -> 404, wrong or missing key -> 401, a method other
than POST on /api/... -> 405, GET /health -> 200. Bodies up to 300 KiB.

Usage: function_host.py [--host 127.0.0.1] [--port 8093]
Standard library only.
"""

import argparse
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 300 * 1024
API_PREFIX = "/api/"
MAX_SLEEP_MS = 10 * 60 * 1000


class FunctionHost(BaseHTTPRequestHandler):
    """Serves /health and POST /api/{name} for the conformance functions."""

    protocol_version = "HTTP/1.1"
    server_version = "stratus-function-host/1"
    # Headers and body go out in separate writes; with Nagle's algorithm on, every request
    # after the first on a kept-alive connection waited ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # one line per request on stderr (the log file)
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    def _send(self, status, body, content_type="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status, message):
        self._send(status, {"error": message})

    def _path(self):
        return self.path.split("?", 1)[0]

    def _drain(self):
        """Reads and discards a request body so the connection stays usable."""
        length = int(self.headers.get("Content-Length") or 0)
        if 0 < length <= MAX_BODY:
            self.rfile.read(length)
        elif length > MAX_BODY:
            self.close_connection = True

    def do_GET(self):
        if self._path() == "/health":
            self._send(200, {"status": "ok"})
        elif self._path().startswith(API_PREFIX):
            self._error(405, "use POST to call a function")
        else:
            self._error(404, "not found")

    def do_HEAD(self):
        self.do_GET()

    def _not_allowed(self):
        self._drain()
        if self._path().startswith(API_PREFIX):
            self._error(405, "use POST to call a function")
        else:
            self._error(404, "not found")

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    def do_POST(self):
        path = self._path()
        if not path.startswith(API_PREFIX):
            self._drain()
            self._error(404, "not found")
            return
        name = path[len(API_PREFIX):]
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            self._error(400, "invalid Content-Length")
            return
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            self._error(411, "Content-Length required")
            return
        if length > MAX_BODY:
            self.close_connection = True
            self._error(413, "body larger than %d bytes" % MAX_BODY)
            return
        body = self.rfile.read(length) if length > 0 else b""

        expected = os.environ.get("STRATUS_FUNCTIONS_KEY", "")
        if not expected or self.headers.get("x-functions-key") != expected:
            self._error(401, "missing or wrong x-functions-key")
            return

        handler = FUNCTIONS.get(name)
        if handler is None:
            self._error(404, "no function named %r" % name)
            return
        handler(self, body)

    # The conformance function set.

    def fn_echo(self, body):
        self._send(200, body)

    def fn_fail(self, _body):
        self._error(500, "conformance failure requested")

    def fn_sleep(self, body):
        try:
            ms = json.loads(body)["ms"]
            if not isinstance(ms, int) or isinstance(ms, bool) or ms < 0:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            self._error(500, 'sleep expects {"ms": N} with N a non-negative integer')
            return
        time.sleep(min(ms, MAX_SLEEP_MS) / 1000.0)
        self._send(200, {"slept_ms": ms})


FUNCTIONS = {
    "echo": FunctionHost.fn_echo,
    "fail": FunctionHost.fn_fail,
    "sleep": FunctionHost.fn_sleep,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8093)
    args = parser.parse_args()
    if not os.environ.get("STRATUS_FUNCTIONS_KEY"):
        sys.exit("function_host.py: set STRATUS_FUNCTIONS_KEY (the x-functions-key callers must send)")
    server = ThreadingHTTPServer((args.host, args.port), FunctionHost)
    server.daemon_threads = True
    print("function host listening on http://%s:%d" % (args.host, args.port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
