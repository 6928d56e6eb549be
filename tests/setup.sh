#!/bin/bash
# Prepare this machine for nook's tests (run as root; idempotent; safe to run before every `make check`):
#   - Debian packages for building and testing nook;
#   - the unprivileged test user `nooktest` with the sub-id range 200000:65536 in /etc/subuid and /etc/subgid,
#     and its XDG_RUNTIME_DIR;
#   - Alpine 3.20.3 from ../shared/images (checked against SHA256SUMS) extracted once into
#     $WORK/alpine-rootfs (root-owned, for root tests) and $WORK/alpine-rootfs-user (owned by nooktest: with
#     the full sub-id map the container's root is nooktest itself, so these files appear as root inside).
# $WORK is tests/.work, or /var/tmp/nook-tests when nooktest cannot reach the checkout.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEST_USER=nooktest
ALPINE=alpine-minirootfs-3.20.3-x86_64.tar.gz
log () { echo "setup: $*" >&2; }

[ "$(id -u)" = 0 ] || { log "must run as root"; exit 1; }

# --- packages -----------------------------------------------------------------------------------------
PKGS=(build-essential pkg-config libjansson-dev libseccomp-dev libcurl4-openssl-dev libarchive-dev libssl-dev uidmap iproute2 util-linux procps bsdutils
      python3 jq crun bubblewrap hyperfine ca-certificates
      docker-registry skopeo umoci apache2-utils debootstrap openssl curl catatonit
      libmnl-dev passt slirp4netns nftables containerd)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # hyperfine/crun/bubblewrap are only for the benchmark: do not fail the tests when a mirror lacks them.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    apt-get install -y -qq --no-install-recommends \
      $(printf '%s\n' "${missing[@]}" | grep -vxE 'hyperfine|crun|bubblewrap') >/dev/null
fi

# pasta and slirp4netns open /dev/net/tun as the test user: 0666 on normal distributions, 0600 on some VMs.
[ -c /dev/net/tun ] && chmod 0666 /dev/net/tun

# --- the test user --------------------------------------------------------------------------------------
if ! id -u "$TEST_USER" >/dev/null 2>&1; then
  uidopt=()
  getent passwd 2000 >/dev/null || getent group 2000 >/dev/null || uidopt=(--uid 2000)
  log "creating user $TEST_USER"
  useradd --create-home --home-dir "/home/$TEST_USER" --shell /bin/bash --user-group "${uidopt[@]}" "$TEST_USER"
fi
TEST_UID=$(id -u "$TEST_USER")
# Debian's useradd allocates a sub-id range by itself (100000:65536 for the first user); the tests want
# exactly 200000:65536, so any other range of the test user is replaced.
for f in /etc/subuid /etc/subgid; do
  touch "$f"
  if ! grep -qx "$TEST_USER:200000:65536" "$f"; then
    log "setting $TEST_USER:200000:65536 in $f"
    sed -i "/^$TEST_USER:/d" "$f"
    echo "$TEST_USER:200000:65536" >> "$f"
  fi
done
install -d -m 0700 -o "$TEST_USER" -g "$(id -g "$TEST_USER")" "/run/user/$TEST_UID"

# --- the work dir --------------------------------------------------------------------------------------
WORK="$REPO/tests/.work"
mkdir -p "$WORK"; chmod 0755 "$WORK"
if ! runuser -u "$TEST_USER" -- test -x "$WORK"; then
  WORK=/var/tmp/nook-tests
  mkdir -p "$WORK"; chmod 0755 "$WORK"
fi

# --- Alpine ---------------------------------------------------------------------------------------------
IMAGES=${NOOK_IMAGES:-$(dirname "$REPO")/shared/images}
[ -f "$IMAGES/$ALPINE" ] || { log "missing $IMAGES/$ALPINE"; exit 1; }
sum=$(grep " $ALPINE\$" "$IMAGES/SHA256SUMS" | awk '{print $1}')
[ -n "$sum" ] || { log "$ALPINE not listed in $IMAGES/SHA256SUMS"; exit 1; }

extract () { # DIR OWNER
  local dir=$1 owner=$2
  # Reuse the extracted tree unless its top level differs from the tarball's (a test or a runtime bug left
  # something behind in the shared rootfs).
  [ -n "${top:-}" ] || top=$(tar -tzf "$IMAGES/$ALPINE" | awk -F/ '$2 != "" {print $2}' | sort -u)
  if [ -f "$dir.stamp" ] && [ "$(cat "$dir.stamp")" = "$sum $owner" ] && [ -x "$dir/bin/busybox" ] &&
     [ "$(ls -A "$dir" | sort)" = "$top" ]; then
    return 0
  fi
  if [ -z "${checked:-}" ]; then
    (cd "$IMAGES" && grep " $ALPINE\$" SHA256SUMS | sha256sum -c --quiet -) || { log "checksum mismatch"; exit 1; }
    checked=1
  fi
  log "extracting $ALPINE into $dir"
  rm -rf "$dir" "$dir.stamp"
  mkdir -p "$dir"
  tar -xzf "$IMAGES/$ALPINE" -C "$dir" --numeric-owner
  chmod 0755 "$dir"
  [ "$owner" = root ] || chown -R "$owner:$(id -g "$owner")" "$dir"
  echo "$sum $owner" > "$dir.stamp"
}
extract "$WORK/alpine-rootfs" root
extract "$WORK/alpine-rootfs-user" "$TEST_USER"
echo "$WORK"
