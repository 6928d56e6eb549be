#!/bin/bash
# nook's main job end to end, on a fresh Debian 12, as root:
#   installs the build and runtime dependencies, builds nook, creates the unprivileged user `nooktest` with
#   the sub-id range 200000:65536, extracts Alpine 3.20.3 from ../shared/images (checksum-verified), makes a
#   rootless bundle with the full sub-id map (0 -> nooktest, 1..65536 -> 200000..265535), and runs
#   `nook-runtime run` as nooktest, printing id, the uid map and os-release from inside the container.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it installs packages and creates a user)" >&2; exit 1; }

echo "== setup (packages, user nooktest, sub-ids, Alpine rootfs)"
WORK=$(bash tests/setup.sh)
echo "== build"
make -j"$(nproc)" > /dev/null
U=nooktest
UID_=$(id -u "$U"); GID_=$(id -g "$U")
SUBUID=$(awk -F: -v u="$U" '$1 == u { print $2; exit }' /etc/subuid)
SUBGID=$(awk -F: -v u="$U" '$1 == u { print $2; exit }' /etc/subgid)

D=$(mktemp -d /var/tmp/nook-demo.XXXXXX)
trap 'rm -rf "$D"' EXIT
chmod 0755 "$D"
cp build/nook "$D/nook"            # reachable by the user wherever the checkout is
ln -s nook "$D/nook-runtime"
mkdir "$D/bundle"
chown "$U:$GID_" "$D/bundle"
as_user () { runuser -u "$U" -- env -i PATH=/usr/bin:/bin HOME="/home/$U" XDG_RUNTIME_DIR="/run/user/$UID_" "$@"; }

echo "== bundle: nook-runtime spec --rootless, full sub-id map, Alpine at $WORK/alpine-rootfs-user"
(cd "$D/bundle" && as_user "$D/nook-runtime" spec --rootless)
jq --arg r "$WORK/alpine-rootfs-user" --argjson uid "$UID_" --argjson gid "$GID_" \
   --argjson su "$SUBUID" --argjson sg "$SUBGID" '
  .process.terminal = false
  | .process.args = ["sh", "-c", "echo \"id: $(id)\"; echo uid_map:; cat /proc/self/uid_map; echo os-release:; cat /etc/os-release"]
  | .root = {path: $r, readonly: true}
  | .linux.uidMappings = [{containerID: 0, hostID: $uid, size: 1}, {containerID: 1, hostID: $su, size: 65536}]
  | .linux.gidMappings = [{containerID: 0, hostID: $gid, size: 1}, {containerID: 1, hostID: $sg, size: 65536}]' \
  "$D/bundle/config.json" > "$D/config.json"
install -m 0644 "$D/config.json" "$D/bundle/config.json"

echo "== nook-runtime run, as $U (uid $UID_)"
as_user "$D/nook-runtime" run -b "$D/bundle" "demo-$$" < /dev/null

echo "== local registry (Debian's docker-registry on 127.0.0.1) seeded with images built from ../shared/images"
bash tests/images/seed.sh > /dev/null
REG=$(cat tests/.work/registry.addr)
echo "== nook pull $REG/alpine:3.20, as $U"
as_user "$D/nook" pull --tls-verify=false "$REG/alpine:3.20"
echo "== nook run --rm $REG/alpine:3.20, as $U"
as_user "$D/nook" run --rm "$REG/alpine:3.20" \
  sh -c 'echo "id: $(id)"; echo uid_map:; cat /proc/self/uid_map; su nobody -s /bin/sh -c "echo as nobody: \$(id)"; grep PRETTY /etc/os-release' < /dev/null
as_user "$D/nook" rmi "$REG/alpine:3.20" > /dev/null
