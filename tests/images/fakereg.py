#!/usr/bin/env python3
"""A tiny hostile "registry" on 127.0.0.1 for what distribution's docker-registry refuses to serve.

  fakereg.py PORT

  GET /v2/                                   200 {}
  GET /v2/bad/huge/manifests/latest          a valid OCI manifest of 5 MiB (huge annotations map),
                                             with Content-Length
  GET /v2/bad/huge-chunked/manifests/latest  the same, chunked (no Content-Length)
  GET /v2/bad/endless/manifests/latest       a chunked body that never ends (until the client hangs up)
  GET /v2/bad/lying-length/manifests/latest  a manifest whose layer blob is served with a Content-Length
                                             larger than the descriptor's size and too many bytes
  HEAD of the same                           headers only
Anything else: 404 MANIFEST_UNKNOWN / BLOB_UNKNOWN.
"""
import hashlib
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def huge_manifest(size=5 << 20):
    ann = {}
    n = 0
    m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
         "config": {"mediaType": OCI_CONFIG, "digest": sha(b"{}"), "size": 2}, "layers": [], "annotations": ann}
    while n * 130 < size:
        ann["org.nook.test.pad.%07d" % n] = "x" * 100
        n += 1
    return json.dumps(m).encode()


HUGE = huge_manifest()
LYING_LAYER = b"\x1f\x8b" + b"A" * 1000
LYING_CONFIG = json.dumps({"architecture": "amd64", "os": "linux",
                           "rootfs": {"type": "layers", "diff_ids": [sha(b"x")]}}).encode()
LYING = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": {"mediaType": OCI_CONFIG, "digest": sha(LYING_CONFIG), "size": len(LYING_CONFIG)},
                    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                "digest": sha(LYING_LAYER[:100]), "size": 100}]}).encode()


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body, ctype="application/json", length=None, digest=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        if digest:
            self.send_header("Docker-Content-Digest", digest)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def chunked(self, ctype, chunks):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            for c in chunks:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def do_GET(self):
        p = self.path.split("?", 1)[0]
        if p in ("/v2/", "/v2"):
            return self.send(200, b"{}")
        if p == "/v2/bad/huge/manifests/latest":
            return self.send(200, HUGE, OCI_MANIFEST, digest=sha(HUGE))
        if p == "/v2/bad/huge-chunked/manifests/latest":
            return self.chunked(OCI_MANIFEST, (HUGE[i:i + 65536] for i in range(0, len(HUGE), 65536)))
        if p == "/v2/bad/endless/manifests/latest":
            def endless():
                yield b'{"schemaVersion": 2, "annotations": {'
                i = 0
                while True:
                    yield b"".join(b'"k%09d": "%s",' % (i + j, b"y" * 100) for j in range(500))
                    i += 500
            return self.chunked(OCI_MANIFEST, endless())
        if p == "/v2/bad/lying-length/manifests/latest":
            return self.send(200, LYING, OCI_MANIFEST, digest=sha(LYING))
        if p == "/v2/bad/lying-length/blobs/" + sha(LYING_CONFIG):
            return self.send(200, LYING_CONFIG, "application/octet-stream")
        if p == "/v2/bad/lying-length/blobs/" + sha(LYING_LAYER[:100]):
            return self.send(200, LYING_LAYER, "application/octet-stream")
        if "/manifests/" in p:
            return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
        return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}')

    do_HEAD = do_GET


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
