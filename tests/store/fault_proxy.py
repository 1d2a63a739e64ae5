#!/usr/bin/env python3
"""A loopback HTTP proxy that injects faults between fractfs and a store.

    fault_proxy.py UPSTREAM_PORT PORT_FILE

Listens on 127.0.0.1 (an ephemeral port for data, another for control; both
written to PORT_FILE as "DATA CONTROL"), forwards each request to
127.0.0.1:UPSTREAM_PORT unchanged (headers byte for byte: they are signed),
and applies the queued faults first:

    GET http://127.0.0.1:CONTROL/fault?kind=K&count=N[&method=M]
        K: delay (ms=...), drop (close without answering), cut (send half the
        body, then close), 500, 503, slowdown (S3's 503 SlowDown), hang (never
        answer); the next N matching requests get it.
    GET /clear    forget queued faults
    GET /stats    JSON: requests seen, faults applied

Stops on SIGTERM. Only for the tests: serves 127.0.0.1 alone.
"""
import http.client
import http.server
import json
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

UPSTREAM = int(sys.argv[1])
lock = threading.Lock()
faults = []  # [kind, count, method, ms]
stats = {"requests": 0, "faults": 0}


def take_fault(method):
    with lock:
        stats["requests"] += 1
        for f in faults:
            if f[1] > 0 and (not f[2] or f[2] == method):
                f[1] -= 1
                stats["faults"] += 1
                return f[0], f[3]
    return None, 0


def read_request(rfile):
    line = rfile.readline()
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers = []
    while True:
        h = rfile.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        name, value = h.decode("latin-1").split(":", 1)
        headers.append((name.strip(), value.strip()))
    return method, target, headers


def error_body(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>'
            % (code, message)).encode()


class Data(socketserver.StreamRequestHandler):
    # Headers and body go out in separate writes: without this, Nagle's
    # algorithm and the client's delayed ACK stall each answer by 40 ms.
    disable_nagle_algorithm = True

    def send(self, status, reason, headers, body, cut=False):
        out = ["HTTP/1.1 %d %s" % (status, reason)]
        out += ["%s: %s" % (k, v) for k, v in headers]
        out.append("Content-Length: %d" % len(body))
        self.wfile.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
        self.wfile.write(body[: len(body) // 2] if cut else body)
        self.wfile.flush()

    def handle(self):
        while True:
            req = read_request(self.rfile)
            if req is None:
                return
            method, target, headers = req
            names = {k.lower(): v for k, v in headers}
            if names.get("expect", "").lower() == "100-continue":
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                self.wfile.flush()
            length = int(names.get("content-length", "0"))
            body = self.rfile.read(length) if length else b""
            kind, ms = take_fault(method)
            if kind == "delay":
                time.sleep(ms / 1000.0)
            elif kind == "drop":
                return
            elif kind == "hang":
                time.sleep(3600)
                return
            elif kind in ("500", "503", "slowdown"):
                code = {"500": "InternalError", "503": "ServiceUnavailable", "slowdown": "SlowDown"}[kind]
                status = 500 if kind == "500" else 503
                self.send(status, "Injected", [("Content-Type", "application/xml")], error_body(code, "injected"))
                continue
            up = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
            up.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                if k.lower() not in ("expect",):
                    up.putheader(k, v)
            up.endheaders(body if body or length else None)
            resp = up.getresponse()
            data = resp.read() if method != "HEAD" else b""
            out = [(k, v) for k, v in resp.getheaders()
                   if k.lower() not in ("content-length", "transfer-encoding", "connection")]
            up.close()
            if method == "HEAD":
                clen = resp.getheader("Content-Length", "0")
                lines = ["HTTP/1.1 %d %s" % (resp.status, resp.reason)] + ["%s: %s" % kv for kv in out]
                lines.append("Content-Length: %s" % clen)
                self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
                self.wfile.flush()
                continue
            if kind == "cut" and len(data) > 1:
                self.send(resp.status, resp.reason, out, data, cut=True)
                return
            self.send(resp.status, resp.reason, out, data)


class Control(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        with lock:
            if url.path == "/fault":
                faults.append([q["kind"], int(q.get("count", "1")), q.get("method", ""), int(q.get("ms", "0"))])
            elif url.path == "/clear":
                faults.clear()
            body = json.dumps(stats).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    data = Server(("127.0.0.1", 0), Data)
    control = Server(("127.0.0.1", 0), Control)
    for s in (data, control):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write("%d %d\n" % (data.server_address[1], control.server_address[1]))
    import os
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    import signal
    signal.sigwait([signal.SIGTERM, signal.SIGINT])


if __name__ == "__main__":
    import signal
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM, signal.SIGINT])
    main()
