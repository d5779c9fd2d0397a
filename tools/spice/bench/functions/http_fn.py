# SPDX-License-Identifier: GPL-2.0
# A Python function that serves HTTP, as platforms run them: it listens on
# the address its arguments give (default 127.0.0.1 8080) and answers every
# GET or POST with a JSON reply and the checksum of the request and reply.
import hashlib
import json
import socketserver
import sys
from http.server import BaseHTTPRequestHandler


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.answer(b"")

    def do_POST(self):
        self.answer(self.rfile.read(int(self.headers.get("Content-Length", 0))))

    def answer(self, request):
        reply = "hello"
        checksum = hashlib.sha256(request + reply.encode()).hexdigest()[:16]
        body = json.dumps({"reply": reply, "checksum": checksum}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.TCPServer):
    allow_reuse_address = True


def main():
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 8080
    Server((host, port), Handler).serve_forever()


main()
