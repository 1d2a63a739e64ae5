#!/usr/bin/env python3
"""A local stand-in for AWS's credential endpoints, for the tests.

    cred_server.py PORT_FILE ACCESS SECRET

Serves on 127.0.0.1 (ephemeral port, written to PORT_FILE):
  GET  /container/creds    the container credentials endpoint; needs
                           "Authorization: test-token"
  PUT  /latest/api/token   IMDSv2: a session token (needs the TTL header)
  GET  /latest/meta-data/iam/security-credentials/[ROLE]
                           IMDSv2: the role, then its credentials (need the token)
  GET  /config?ttl=S&token=T   credentials expire S seconds from now; T is
                           sent as Token ("" sends none)
  GET  /stats              JSON: requests per endpoint
Stops on SIGTERM.
"""
import datetime
import http.server
import json
import os
import signal
import socketserver
import sys
import threading
import urllib.parse

ACCESS, SECRET = sys.argv[2], sys.argv[3]
IMDS_TOKEN = "imds-session-token-1"
settings = {"ttl": 3600, "token": ""}
stats = {}
lock = threading.Lock()


def creds():
    exp = datetime.datetime.utcnow() + datetime.timedelta(seconds=settings["ttl"])
    out = {"AccessKeyId": ACCESS, "SecretAccessKey": SECRET, "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if settings["token"]:
        out["Token"] = settings["token"]
    return out


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def count(self, name):
        with lock:
            stats[name] = stats.get(name, 0) + 1

    def do_PUT(self):
        length = int(self.headers.get("Content-Length", "0"))
        if length:
            self.rfile.read(length)
        if self.path == "/latest/api/token":
            self.count("imds-token")
            if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.reply(400, "missing TTL", "text/plain")
            return self.reply(200, IMDS_TOKEN, "text/plain")
        self.reply(404, "no", "text/plain")

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        if url.path == "/config":
            settings["ttl"] = int(q.get("ttl", "3600"))
            settings["token"] = q.get("token", "")
            return self.reply(200, "{}")
        if url.path == "/stats":
            with lock:
                return self.reply(200, json.dumps(stats))
        if url.path == "/container/creds":
            self.count("container")
            if self.headers.get("Authorization") != "test-token":
                return self.reply(403, '{"message": "bad token"}')
            return self.reply(200, json.dumps(creds()))
        prefix = "/latest/meta-data/iam/security-credentials/"
        if url.path.startswith(prefix):
            if self.headers.get("X-aws-ec2-metadata-token") != IMDS_TOKEN:
                return self.reply(401, "", "text/plain")
            role = url.path[len(prefix):]
            if not role:
                self.count("imds-role")
                return self.reply(200, "test-role\n", "text/plain")
            self.count("imds-creds")
            if role != "test-role":
                return self.reply(404, "", "text/plain")
            body = creds()
            body["Code"] = "Success"
            return self.reply(200, json.dumps(body))
        self.reply(404, "", "text/plain")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM, signal.SIGINT])
    srv = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    signal.sigwait([signal.SIGTERM, signal.SIGINT])
