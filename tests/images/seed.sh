#!/bin/bash
# Build the test images (once, cached under tests/.work/images) and push them to the local registries
# (tests/images/registry.sh start is run first).  Idempotent: a stamp in each registry's storage says what
# was pushed; run as root.  Prints nothing on stdout except, at the end, the plain registry's address.
#
# Plain registry (HTTP, 127.0.0.1:PORT from tests/.work/registry.addr):
#   alpine:3.20 alpine:latest  one layer, the x86_64 3.20.3 minirootfs
#   alpine:3.19                one layer, 3.19.4
#   alpine:multi               OCI index: linux/amd64 (3.20 x86_64) + linux/arm64/v8 (3.20 aarch64)
#   alpine:docker              alpine:3.20 in Docker schema2 format
#   alpine:shared              alpine:3.20's layer + a small layer (etc/nook-shared.txt)
#   debian:bookworm            one layer, debootstrap --variant=minbase bookworm
#   debian:layered             debian:bookworm + a layer with whiteouts (usr/share/doc/{apt,bash,dpkg}),
#                              an opaque etc/apt/apt.conf.d holding only 99nook, etc/nook-owned-by-100 and
#                              srv/nook100/ owned by 100:100
#   bad/dotdot bad/abs bad/symlink bad/symlink-rel bad/symlink-dir bad/hardlink bad/hardlink-abs
#   bad/whiteout bad/whiteout-sub bad/nottar bad/bomb (3 GiB of zeros, ~3 MB gzip)
#   bad/digest (a layer blob corrupted in the registry's storage), bad/diffid (config diff_id wrong),
#   bad/mediatype (unknown layer media type), bad/noplatform (arm64-only index)
#   every bad/* is tagged :latest.
# Fake registry (tests/.work/registry-fake.addr, tests/images/fakereg.py; distribution refuses manifests
#   over 4 MiB): bad/huge (5 MiB manifest), bad/huge-chunked, bad/endless, bad/lying-length.
# TLS registry (tests/.work/registry-tls.addr, user testuser / testpass): alpine:3.20.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$REPO/tests/images
W=$REPO/tests/.work
IW=$W/images
L=$IW/oci
IMAGES=${NOOK_IMAGES:-$(cd "$REPO" && git rev-parse --show-toplevel 2> /dev/null || echo "$REPO")/../shared/images}
OCITOOL="python3 $HERE/ocitool.py"
MIRROR=http://deb.debian.org/debian
log () { echo "seed.sh: $*" >&2; }

[ "$(id -u)" = 0 ] || { log "must run as root"; exit 1; }
for t in skopeo umoci debootstrap docker-registry htpasswd openssl curl python3 jq; do
  command -v "$t" > /dev/null || {
    log "$t is missing (apt-get install skopeo umoci debootstrap docker-registry apache2-utils openssl curl jq)"
    exit 1
  }
done
mkdir -p "$IW/bad"
# One seeder at a time (two `make check` runs may start together).
exec 9> "$IW/seed.lock"
flock 9

# --- inputs -----------------------------------------------------------------------------------------------
[ -f "$IMAGES/SHA256SUMS" ] || { log "no $IMAGES/SHA256SUMS"; exit 1; }
sums_stamp="$IW/sums.ok"
if [ ! -f "$sums_stamp" ] || [ "$(cat "$sums_stamp")" != "$(sha256sum < "$IMAGES/SHA256SUMS")" ]; then
  (cd "$IMAGES" && sha256sum -c --quiet SHA256SUMS) || { log "checksum mismatch in $IMAGES"; exit 1; }
  sha256sum < "$IMAGES/SHA256SUMS" > "$sums_stamp"
fi
A320=$IMAGES/alpine-minirootfs-3.20.3-x86_64.tar.gz
A319=$IMAGES/alpine-minirootfs-3.19.4-x86_64.tar.gz
A320ARM=$IMAGES/alpine-minirootfs-3.20.3-aarch64.tar.gz

# The version of everything that goes into the images: change a script or an input, rebuild.
VERSION=$( (sha256sum < "$IMAGES/SHA256SUMS"; sha256sum < "$HERE/seed.sh"; sha256sum < "$HERE/ocitool.py") | sha256sum | cut -c1-16)

# --- Debian minbase (slow: cached on its own) -------------------------------------------------------------
if [ ! -f "$IW/debian-rootfs.stamp" ] || [ ! -x "$IW/debian-rootfs/bin/sh" ]; then
  log "debootstrap --variant=minbase bookworm (about a minute)"
  rm -rf "$IW/debian-rootfs" "$IW/debian-rootfs.tmp"
  debootstrap --variant=minbase bookworm "$IW/debian-rootfs.tmp" "$MIRROR" > "$IW/debootstrap.log" 2>&1 ||
    { log "debootstrap failed: see $IW/debootstrap.log"; exit 1; }
  mv "$IW/debian-rootfs.tmp" "$IW/debian-rootfs"
  date -u +%FT%TZ > "$IW/debian-rootfs.stamp"
fi

# --- the OCI layout ---------------------------------------------------------------------------------------
umoci_image () { # TAG ARCH TARBALL...: a new image from uncompressed layer tars
  local tag=$1 arch=$2 t
  shift 2
  umoci new --image "$L.tmp:$tag"
  for t in "$@"; do
    umoci raw add-layer --image "$L.tmp:$tag" --history.created_by "nook seed: $(basename "$t")" "$t"
  done
  umoci config --image "$L.tmp:$tag" --no-history --architecture "$arch" --os linux \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.cmd /bin/sh
}

build_layout () {
  local tmp=$IW/tmp
  rm -rf "$L.tmp" "$tmp"
  mkdir -p "$tmp"
  log "building the OCI layout $L"
  gunzip -c "$A320" > "$tmp/alpine-3.20-x86_64.tar"
  gunzip -c "$A319" > "$tmp/alpine-3.19-x86_64.tar"
  gunzip -c "$A320ARM" > "$tmp/alpine-3.20-aarch64.tar"
  # Debian: /dev's nodes are not part of an image (docker's debian has an empty /dev), nor apt's caches.
  tar -C "$IW/debian-rootfs" --numeric-owner --sort=name --xattrs --exclude='./dev/*' \
    --exclude='./var/cache/apt/*.bin' --exclude='./var/lib/apt/lists/*' -cf "$tmp/debian.tar" .
  $OCITOOL layered-layer "$IW/debian-rootfs" "$tmp/layered.tar"
  python3 - "$tmp/shared.tar" << 'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as tf:
    data = b"alpine:shared adds this file on top of alpine:3.20\n"
    ti = tarfile.TarInfo("etc/nook-shared.txt"); ti.size = len(data); ti.mode = 0o644; ti.mtime = 1700000000
    tf.addfile(ti, io.BytesIO(data))
EOF
  umoci init --layout "$L.tmp"
  umoci_image alpine-3.20 amd64 "$tmp/alpine-3.20-x86_64.tar"
  umoci_image alpine-3.19 amd64 "$tmp/alpine-3.19-x86_64.tar"
  umoci_image alpine-3.20-arm64 arm64 "$tmp/alpine-3.20-aarch64.tar"
  umoci_image debian-bookworm amd64 "$tmp/debian.tar"
  umoci raw add-layer --image "$L.tmp:alpine-3.20" --tag alpine-shared --history.created_by "nook seed: shared" \
    "$tmp/shared.tar"
  umoci raw add-layer --image "$L.tmp:debian-bookworm" --tag debian-layered \
    --history.created_by "nook seed: whiteouts, opaque dir, uid 100" "$tmp/layered.tar"
  $OCITOOL index "$L.tmp" alpine-multi alpine-3.20:linux/amd64 alpine-3.20-arm64:linux/arm64/v8 > /dev/null
  $OCITOOL index "$L.tmp" noplatform alpine-3.20-arm64:linux/arm64/v8 > /dev/null
  rm -rf "$L" "$tmp"
  mv "$L.tmp" "$L"
}

build_bad () {
  local k
  for k in ok digest dotdot abs symlink symlink-rel symlink-dir hardlink hardlink-abs whiteout whiteout-sub \
    nottar bomb; do
    [ -s "$IW/bad/$k.tar.gz" ] && continue
    log "building the bad layer $k"
    $OCITOOL bad-layer "$k" "$IW/bad/$k.tar.gz"
  done
}

if [ ! -f "$L.stamp" ] || [ "$(cat "$L.stamp")" != "$VERSION" ] || [ ! -f "$L/index.json" ]; then
  rm -f "$L.stamp" "$IW"/bad/*.tar.gz "$IW"/bad/*.digests
  build_layout
  echo "$VERSION" > "$L.stamp"
fi
build_bad

# --- push -------------------------------------------------------------------------------------------------
bash "$HERE/registry.sh" start
P=$(cat "$W/registry.addr")
T=$(cat "$W/registry-tls.addr")
STORAGE=$W/registry-data

cp_plain () { skopeo copy -q --dest-tls-verify=false "$@" > /dev/null; }

if [ "$(cat "$STORAGE/nook-seed.stamp" 2> /dev/null)" != "$VERSION" ]; then
  log "pushing to $P"
  rm -f "$STORAGE/nook-seed.stamp"
  cp_plain "oci:$L:alpine-3.20" "docker://$P/alpine:3.20"
  cp_plain "oci:$L:alpine-3.20" "docker://$P/alpine:latest"
  cp_plain "oci:$L:alpine-3.19" "docker://$P/alpine:3.19"
  cp_plain --all "oci:$L:alpine-multi" "docker://$P/alpine:multi"
  cp_plain --format v2s2 "oci:$L:alpine-3.20" "docker://$P/alpine:docker"
  cp_plain "oci:$L:alpine-shared" "docker://$P/alpine:shared"
  cp_plain "oci:$L:debian-bookworm" "docker://$P/debian:bookworm"
  cp_plain "oci:$L:debian-layered" "docker://$P/debian:layered"
  cp_plain --all "oci:$L:noplatform" "docker://$P/bad/noplatform:latest"

  for k in dotdot abs symlink symlink-rel symlink-dir hardlink hardlink-abs whiteout whiteout-sub nottar bomb \
    digest; do
    $OCITOOL push "$P" "bad/$k:latest" --layer "$IW/bad/$k.tar.gz" > /dev/null
  done
  $OCITOOL push "$P" bad/diffid:latest --layer "$IW/bad/ok.tar.gz" --bad-diff-id > /dev/null
  $OCITOOL push "$P" bad/mediatype:latest --layer "$IW/bad/ok.tar.gz" \
    --layer-media-type application/vnd.nook.test.unknown.layer.v1+weird > /dev/null

  # bad/digest: flip a byte of its layer blob in the registry's storage (only when still intact).
  read -r dgst _ < "$IW/bad/digest.tar.gz.digests"
  blob=$STORAGE/docker/registry/v2/blobs/sha256/${dgst:7:2}/${dgst:7}/data
  if [ "sha256:$(sha256sum < "$blob" | cut -d' ' -f1)" = "$dgst" ]; then
    $OCITOOL corrupt-blob "$STORAGE" "$dgst" > /dev/null
  fi
  echo "$VERSION" > "$STORAGE/nook-seed.stamp"
fi

TSTORAGE=$W/registry-tls-data
if [ "$(cat "$TSTORAGE/nook-seed.stamp" 2> /dev/null)" != "$VERSION" ]; then
  log "pushing to $T (TLS, basic auth)"
  skopeo copy -q --dest-creds testuser:testpass --dest-cert-dir "$W/registry-tls/certs.d" \
    "oci:$L:alpine-3.20" "docker://$T/alpine:3.20" > /dev/null
  echo "$VERSION" > "$TSTORAGE/nook-seed.stamp"
fi
echo "$P"
