#!/usr/bin/env python3
"""Test-image helpers for nook's image tests (python3 standard library only).

  ocitool.py bad-layer KIND OUT.tar.gz      a malicious layer (KIND: see BAD_LAYERS; "bomb" = gzip bomb)
  ocitool.py layered-layer ROOTFS OUT.tar   debian:layered's second layer (whiteouts, opaque dir, uid 100)
  ocitool.py push ADDR REPO:TAG [--layer F.tar.gz]... [--layer-media-type T] [--arch A] [--os O]
             [--bad-diff-id]                 build config + manifest for gzip layers and push everything
                                            over HTTP (no TLS, no auth); prints the manifest digest
  ocitool.py index LAYOUT NEWTAG TAG:OS/ARCH[/VARIANT]...
                                            add an OCI image index over existing tags of an OCI layout
  ocitool.py corrupt-blob STORAGE DIGEST    flip one byte of a blob in the registry's storage (same size)
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import time
import urllib.parse
import urllib.request
import zlib

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
ESCAPE_TARGET = "/tmp/nook-escape-target"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def add_file(tf, name, data=b"", mode=0o644, uid=0, gid=0):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.mtime = 1700000000
    tf.addfile(ti, io.BytesIO(data))


def add_entry(tf, name, kind, linkname="", mode=0o755, uid=0, gid=0):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.linkname = linkname
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.mtime = 1700000000
    tf.addfile(ti)


def tar_bytes(build):
    buf = io.BytesIO()
    # GNU format: names of any length, no pax headers rewriting them.
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        build(tf)
    return buf.getvalue()


def bad_dotdot(tf):
    add_file(tf, "ok.txt", b"fine\n")
    add_file(tf, "../nook-escape-dotdot", b"escaped\n")
    add_file(tf, "a/../../../../../../tmp/nook-escape-dotdot2", b"escaped\n")


def bad_abs(tf):
    add_file(tf, "ok.txt", b"fine\n")
    add_file(tf, "/tmp/nook-escape-abs", b"escaped\n")


def bad_symlink(tf):
    add_file(tf, "ok.txt", b"fine\n")
    add_entry(tf, "x", tarfile.SYMTYPE, ESCAPE_TARGET, mode=0o777)
    add_file(tf, "x/pwned", b"escaped through a symlink\n")


def bad_symlink_rel(tf):
    add_file(tf, "ok.txt", b"fine\n")
    add_entry(tf, "y", tarfile.SYMTYPE, "../../../../../../../../tmp/nook-escape-target", mode=0o777)
    add_file(tf, "y/pwned", b"escaped through a relative symlink\n")


def bad_symlink_dir(tf):
    # A symlink to / and then a file below it: must not write /tmp/nook-escape-target/...
    add_file(tf, "ok.txt", b"fine\n")
    add_entry(tf, "root", tarfile.SYMTYPE, "/", mode=0o777)
    add_file(tf, "root/tmp/nook-escape-target", b"escaped through a symlink to /\n")


def bad_hardlink(tf):
    add_file(tf, "ok.txt", b"fine\n")
    add_entry(tf, "passwd", tarfile.LNKTYPE, "../../etc/passwd", mode=0o644)


def bad_hardlink_abs(tf):
    add_file(tf, "ok.txt", b"fine\n")
    add_entry(tf, "passwd", tarfile.LNKTYPE, "/etc/passwd", mode=0o644)


def bad_whiteout(tf):
    add_file(tf, "ok.txt", b"fine\n")
    add_file(tf, ".wh..", b"")


def bad_whiteout_sub(tf):
    add_entry(tf, "d", tarfile.DIRTYPE, mode=0o755)
    add_file(tf, "d/.wh..", b"")


def ok_layer(tf):
    add_file(tf, "ok.txt", b"fine\n")


def digest_victim(tf):
    # Its own content (blobs are shared across repositories in the registry's storage): this one's blob
    # gets corrupted in the registry's storage.
    add_file(tf, "ok.txt", b"fine\n")
    add_file(tf, "victim.txt", b"".join(b"line %06d of the layer whose blob is corrupted\n" % i for i in range(2000)))


BAD_LAYERS = {
    "ok": ok_layer,
    "digest": digest_victim,
    "dotdot": bad_dotdot,
    "abs": bad_abs,
    "symlink": bad_symlink,
    "symlink-rel": bad_symlink_rel,
    "symlink-dir": bad_symlink_dir,
    "hardlink": bad_hardlink,
    "hardlink-abs": bad_hardlink_abs,
    "whiteout": bad_whiteout,
    "whiteout-sub": bad_whiteout_sub,
}


def write_gz(path, data):
    with open(path + ".tmp", "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
            g.write(data)
    os.replace(path + ".tmp", path)


def gzip_bomb(path, size=3 * 1024**3):
    """A tar holding one file of SIZE zero bytes, gzip -9: about SIZE/1030 bytes compressed."""
    ti = tarfile.TarInfo("zeros")
    ti.size = size
    ti.mode = 0o644
    ti.mtime = 1700000000
    header = ti.tobuf(format=tarfile.GNU_FORMAT)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(8 << 20)
    with open(path + ".tmp", "wb") as f:
        f.write(comp.compress(header))
        left = size
        while left:
            n = min(left, len(chunk))
            f.write(comp.compress(chunk[:n] if n < len(chunk) else chunk))
            left -= n
        pad = (-size) % 512
        f.write(comp.compress(bytes(pad + 1024)))  # file padding + end-of-archive blocks
        f.write(comp.flush())
    os.replace(path + ".tmp", path)


def cmd_bad_layer(kind, out):
    if kind == "bomb":
        gzip_bomb(out)
    elif kind == "nottar":
        write_gz(out, b"this is not a tar archive\n" * 1000)
    else:
        write_gz(out, tar_bytes(BAD_LAYERS[kind]))


def cmd_layered_layer(rootfs, out):
    """Second layer of debian:layered: whiteouts for three /usr/share/doc entries, /etc/apt/apt.conf.d
    replaced by an opaque directory holding one file, and a file owned by 100:100."""
    gone = ["apt", "bash", "dpkg"]
    for g in gone:
        if not os.path.lexists(os.path.join(rootfs, "usr/share/doc", g)):
            sys.exit(f"layered-layer: {rootfs}/usr/share/doc/{g} does not exist")

    def build(tf):
        add_entry(tf, "etc", tarfile.DIRTYPE)
        add_entry(tf, "etc/apt", tarfile.DIRTYPE)
        add_entry(tf, "etc/apt/apt.conf.d", tarfile.DIRTYPE)
        add_file(tf, "etc/apt/apt.conf.d/.wh..wh..opq", b"")
        add_file(tf, "etc/apt/apt.conf.d/99nook", b"// nook layered image\n")
        add_file(tf, "etc/nook-owned-by-100", b"owned by 100:100\n", mode=0o640, uid=100, gid=100)
        add_entry(tf, "srv/nook100", tarfile.DIRTYPE, mode=0o750, uid=100, gid=100)
        add_entry(tf, "usr", tarfile.DIRTYPE)
        add_entry(tf, "usr/share", tarfile.DIRTYPE)
        add_entry(tf, "usr/share/doc", tarfile.DIRTYPE)
        for g in gone:
            add_file(tf, "usr/share/doc/.wh." + g, b"")

    data = tar_bytes(build)
    with open(out + ".tmp", "wb") as f:
        f.write(data)
    os.replace(out + ".tmp", out)


# ---- pushing over HTTP ----------------------------------------------------------------------------------

def http(method, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def push_blob_file(addr, repo, digest, path):
    base = f"http://{addr}/v2/{repo}"
    st, _, _ = http("HEAD", f"{base}/blobs/{digest}")
    if st == 200:
        return
    st, hdr, body = http("POST", f"{base}/blobs/uploads/")
    if st != 202:
        sys.exit(f"push: POST upload for {repo}: HTTP {st} {body[:200]!r}")
    loc = urllib.parse.urljoin(f"http://{addr}/", hdr["Location"])
    sep = "&" if "?" in loc else "?"
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        st, _, body = http("PUT", f"{loc}{sep}digest={digest}", data=f,
                           headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)})
    if st != 201:
        sys.exit(f"push: PUT blob {digest} to {repo}: HTTP {st} {body[:200]!r}")


def push_blob(addr, repo, data, tmpdir="/tmp"):
    digest = sha256(data)
    path = os.path.join(tmpdir, "ocitool-blob-%d" % os.getpid())
    with open(path, "wb") as f:
        f.write(data)
    try:
        push_blob_file(addr, repo, digest, path)
    finally:
        os.unlink(path)
    return digest


def file_digests(path):
    """(compressed digest, size, diff_id) of a gzip layer file."""
    h, u = hashlib.sha256(), hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
            size += len(b)
    with gzip.open(path, "rb") as g:
        while True:
            b = g.read(8 << 20)
            if not b:
                break
            u.update(b)
    return "sha256:" + h.hexdigest(), size, "sha256:" + u.hexdigest()


def cmd_push(argv):
    addr, ref = argv[0], argv[1]
    repo, tag = ref.rsplit(":", 1)
    layers, media, arch, os_, bad_diff = [], OCI_LAYER_GZIP, "amd64", "linux", False
    i = 2
    while i < len(argv):
        a = argv[i]
        if a == "--layer":
            layers.append(argv[i + 1]); i += 2
        elif a == "--layer-media-type":
            media = argv[i + 1]; i += 2
        elif a == "--arch":
            arch = argv[i + 1]; i += 2
        elif a == "--os":
            os_ = argv[i + 1]; i += 2
        elif a == "--bad-diff-id":
            bad_diff = True; i += 1
        else:
            sys.exit(f"push: unknown option {a}")
    descs, diff_ids = [], []
    for path in layers:
        cache = path + ".digests"
        if os.path.exists(cache) and os.path.getmtime(cache) >= os.path.getmtime(path):
            digest, size, diff_id = open(cache).read().split()
            size = int(size)
        else:
            digest, size, diff_id = file_digests(path)
            with open(cache, "w") as f:
                f.write(f"{digest} {size} {diff_id}\n")
        push_blob_file(addr, repo, digest, path)
        descs.append({"mediaType": media, "digest": digest, "size": size})
        diff_ids.append(diff_id)
    if bad_diff:
        diff_ids = [sha256(b"not the layer " + d.encode()) for d in diff_ids]
    config = {
        "created": "2024-01-01T00:00:00Z",
        "architecture": arch,
        "os": os_,
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": f"nook tests: {ref}"}],
    }
    cdata = json.dumps(config, sort_keys=True).encode()
    cdigest = push_blob(addr, repo, cdata)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": cdigest, "size": len(cdata)},
        "layers": descs,
    }
    mdata = json.dumps(manifest, sort_keys=True).encode()
    st, _, body = http("PUT", f"http://{addr}/v2/{repo}/manifests/{tag}", data=mdata,
                       headers={"Content-Type": OCI_MANIFEST})
    if st != 201:
        sys.exit(f"push: PUT manifest {ref}: HTTP {st} {body[:300]!r}")
    print(sha256(mdata))


# ---- OCI layouts ------------------------------------------------------------------------------------------

def cmd_index(layout, newtag, specs):
    with open(os.path.join(layout, "index.json")) as f:
        top = json.load(f)
    by_tag = {m.get("annotations", {}).get("org.opencontainers.image.ref.name"): m for m in top["manifests"]}
    entries = []
    for spec in specs:
        tag, plat = spec.split(":", 1)
        parts = plat.split("/")
        if tag not in by_tag:
            sys.exit(f"index: no tag {tag} in {layout}")
        d = dict(by_tag[tag])
        d.pop("annotations", None)
        d["platform"] = {"os": parts[0], "architecture": parts[1]}
        if len(parts) > 2:
            d["platform"]["variant"] = parts[2]
        entries.append(d)
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    data = json.dumps(index, sort_keys=True).encode()
    digest = sha256(data)
    with open(os.path.join(layout, "blobs", "sha256", digest[7:]), "wb") as f:
        f.write(data)
    top["manifests"] = [m for m in top["manifests"]
                        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != newtag]
    top["manifests"].append({"mediaType": OCI_INDEX, "digest": digest, "size": len(data),
                             "annotations": {"org.opencontainers.image.ref.name": newtag}})
    tmp = os.path.join(layout, "index.json.tmp")
    with open(tmp, "w") as f:
        json.dump(top, f)
    os.replace(tmp, os.path.join(layout, "index.json"))
    print(digest)


# ---- registry storage (distribution's filesystem driver) ------------------------------------------------

def v2(storage):
    return os.path.join(storage, "docker", "registry", "v2")


def blob_path(storage, digest):
    hexd = digest.split(":", 1)[1]
    return os.path.join(v2(storage), "blobs", "sha256", hexd[:2], hexd, "data")


def cmd_corrupt_blob(storage, digest):
    p = blob_path(storage, digest)
    with open(p, "r+b") as f:
        f.seek(0, 2)
        size = f.tell()
        pos = size // 2
        f.seek(pos)
        b = f.read(1)
        f.seek(pos)
        f.write(bytes([b[0] ^ 0xFF]))
    print(p)


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    cmd, rest = a[0], a[1:]
    if cmd == "bad-layer":
        cmd_bad_layer(*rest)
    elif cmd == "layered-layer":
        cmd_layered_layer(*rest)
    elif cmd == "push":
        cmd_push(rest)
    elif cmd == "index":
        cmd_index(rest[0], rest[1], rest[2:])
    elif cmd == "corrupt-blob":
        cmd_corrupt_blob(*rest)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
