#!/usr/bin/env python3
"""A misbehaving fake registry (127.0.0.1 only) for tests/system/image_redirect.sh.

    registry_fake.py OCI_LAYOUT PORT [USER:PASS]

Serves the image of OCI_LAYOUT's first index entry under any repository name, with Bearer token auth
(realm http://127.0.0.1:PORT/token; with USER:PASS the token endpoint wants Basic credentials).  Blob GETs
are redirected (307) to a "storage" origin on PORT+1 that rejects any request carrying Authorization.
The repository name selects a misbehaviour:
    alpine       normal
    flaky        per blob: 503, then 429, then half the body and a cut connection, then ranges honoured
    norange      like flaky's cut connection, but Range is ignored afterwards (200 with the whole blob)
    badrange     a 206 with a Content-Range for another offset after the cut
    baddigest    manifest with a wrong Docker-Content-Digest header
    huge         a 5 MiB manifest
    toolong      layers (> 1000 bytes) with extra bytes after the real data
    anydigest    the manifest is served for any digest
    missing      every layer 404
    foreign      layers only through foreign URLs in the manifest (a 404 one, then a good one)
    expire       the first GET of each layer answers 401 (an expired token)
    comma        challenge scope "repository:comma:pull,push" must come back verbatim
Each request is logged on stderr as: PORT METHOD PATH auth=<none|basic|bearer> range=<...>.
"""
import base64
import hashlib
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LAYOUT, PORT = sys.argv[1], int(sys.argv[2])
CREDS = sys.argv[3] if len(sys.argv) > 3 else None
TOKEN = "tok-1234"
COUNTS = {}
LOCK = threading.Lock()


def blob(digest):
    with open(os.path.join(LAYOUT, "blobs", "sha256", digest.split(":", 1)[1]), "rb") as f:
        return f.read()


def index_manifest():
    with open(os.path.join(LAYOUT, "index.json")) as f:
        return json.load(f)["manifests"][0]["digest"]


def config_digest():
    return json.loads(blob(index_manifest()))["config"]["digest"]


def bump(key):
    with LOCK:
        COUNTS[key] = COUNTS.get(key, 0) + 1
        return COUNTS[key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def note(self):
        a = self.headers.get("Authorization", "")
        kind = a.split(" ", 1)[0].lower() if a else "none"
        sys.stderr.write("%d %s %s auth=%s range=%s\n" % (self.server.server_port, self.command, self.path, kind,
                                                          self.headers.get("Range", "-")))
        sys.stderr.flush()

    def send(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def err(self, status, code, msg, headers=None):
        body = json.dumps({"errors": [{"code": code, "message": msg}]}).encode()
        self.send(status, body, dict({"Content-Type": "application/json"}, **(headers or {})))


class Storage(Handler):
    def do_GET(self):
        self.note()
        if "Authorization" in self.headers:
            return self.err(400, "LEAK", "credentials leaked to the storage host")
        q = parse_qs(urlparse(self.path).query)
        repo, digest = q["repo"][0], q["digest"][0]
        if repo == "foreign404":
            return self.err(404, "NOPE", "not here")
        data = blob(digest)
        n = bump((repo, digest))
        rng = self.headers.get("Range")
        start = int(rng[6:].rstrip("-")) if rng else 0
        if repo == "flaky" and n == 1:
            return self.err(503, "UNAVAILABLE", "try later")
        if repo == "flaky" and n == 2:
            return self.err(429, "TOOMANYREQUESTS", "slow down")
        if repo in ("flaky", "norange", "badrange") and len(data) > 1000 and n == (3 if repo == "flaky" else 1):
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if repo == "toolong" and len(data) > 1000:
            return self.send(200, data + b"garbage")
        if repo == "badrange" and start > 0 and n == 2:
            return self.send(206, data[1:], {"Content-Range": "bytes 1-%d/%d" % (len(data) - 1, len(data))})
        if start > 0 and repo != "norange":
            part = data[start:]
            return self.send(206, part, {"Content-Range": "bytes %d-%d/%d" % (start, len(data) - 1, len(data))})
        self.send(200, data)


class Registry(Handler):
    def challenge(self, repo):
        scope = "repository:%s:pull" % repo if repo else None
        if repo == "comma":
            scope = "repository:comma:pull,push"
        v = 'Bearer realm="http://127.0.0.1:%d/token",service="fake registry"' % PORT
        if scope:
            v += ',scope="%s"' % scope
        return self.err(401, "UNAUTHORIZED", "authentication required", {"WWW-Authenticate": v})

    def token(self):
        q = parse_qs(urlparse(self.path).query)
        scope = q.get("scope", [""])[0]
        if scope.startswith("repository:comma") and scope != "repository:comma:pull,push":
            return self.err(400, "BADSCOPE", "scope mangled: " + scope)
        if CREDS:
            want = "Basic " + base64.b64encode(CREDS.encode()).decode()
            if self.headers.get("Authorization") != want:
                return self.err(401, "UNAUTHORIZED", "incorrect username or password")
        key = "access_token" if scope.startswith("repository:flaky") else "token"
        self.send(200, json.dumps({key: TOKEN, "expires_in": 300}).encode(), {"Content-Type": "application/json"})

    def do_GET(self):
        self.note()
        path = urlparse(self.path).path
        if path == "/token":
            return self.token()
        parts = path.split("/")
        repo = parts[2] if len(parts) > 4 else None
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            return self.challenge(repo)
        if path == "/v2/":
            return self.send(200, b"{}", {"Content-Type": "application/json"})
        kind, ref = parts[3], parts[4]
        if kind == "manifests":
            return self.manifest(repo, ref)
        if repo == "expire" and ref != config_digest() and bump(("expire", ref)) == 1:
            return self.challenge(repo)
        if repo in ("missing", "foreign") and ref != config_digest():
            return self.err(404, "BLOB_UNKNOWN", "blob unknown to registry")
        loc = "http://127.0.0.1:%d/data?repo=%s&digest=%s" % (PORT + 1, repo, ref)
        self.send(307, b"", {"Location": loc})

    def manifest(self, repo, ref):
        digest = index_manifest()
        if ref != digest and ref != "3.20" and repo != "anydigest":
            return self.err(404, "MANIFEST_UNKNOWN", "manifest unknown")
        data = blob(digest)
        hdr = {"Content-Type": "application/vnd.oci.image.manifest.v1+json", "Docker-Content-Digest": digest}
        if repo == "baddigest":
            hdr["Docker-Content-Digest"] = "sha256:" + "0" * 64
        if repo == "huge":
            data = b" " * (5 << 20) + data
        if repo == "foreign":
            m = json.loads(data)
            for l in m["layers"]:
                l["urls"] = ["http://127.0.0.1:%d/data?repo=foreign404&digest=%s" % (PORT + 1, l["digest"]),
                             "http://127.0.0.1:%d/data?repo=foreign&digest=%s" % (PORT + 1, l["digest"])]
            data = json.dumps(m).encode()
            hdr["Docker-Content-Digest"] = "sha256:" + hashlib.sha256(data).hexdigest()
        self.send(200, data, hdr)


def serve(port, handler):
    ThreadingHTTPServer(("127.0.0.1", port), handler).serve_forever()


threading.Thread(target=serve, args=(PORT + 1, Storage), daemon=True).start()
serve(PORT, Registry)
