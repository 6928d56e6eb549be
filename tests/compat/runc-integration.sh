#!/bin/bash
# Run runc v1.1.5's own integration tests (tests/integration/*.bats) against nook-runtime, crun and runc.
#
#   unshare -m --propagation private tests/compat/runc-integration.sh SRC OUTDIR NAME=RUNTIME[' ARGS']...
#
# e.g. nook=build/nook-runtime crun=/usr/bin/crun 'crun-nocg=/usr/bin/crun --cgroup-manager=disabled'
#      runc=/usr/sbin/runc  (ARGS: global options put before every command, through a wrapper script)
# SRC: a runc v1.1.5 source tree, e.g.
#   git -C <runc mirror> archive v1.1.5 | tar -x -C /tmp/runc-src
# Everything is offline: the test helpers (recvtty, sd-helper, seccompagent) are built from SRC with its vendor
# directory; the busybox image the tests download is replaced by a tarball built from Debian's busybox-static,
# the Debian image (hooks.bats) by one made of the host's dash, grep and ldconfig. Runs as root, and only inside
# a private mount namespace (a runtime bug must not change the caller's mounts).
# Writes OUTDIR/NAME/FILE.tap and prints per-file "pass fail skip" counts for every runtime, then totals.
set -euo pipefail

if [ $# -lt 3 ]; then
  sed -n '2,12p' "$0" >&2
  exit 2
fi
SRC=$(readlink -f "$1")
OUT=$(readlink -m "$2")
shift 2
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
if [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ]; then
  echo "run inside unshare -m --propagation private" >&2
  exit 2
fi
IT="$SRC/tests/integration"
[ -f "$IT/helpers.bash" ] || { echo "$SRC: not a runc source tree" >&2; exit 2; }
mkdir -p "$OUT"

build_helpers ()
{
  local t tags
  for t in recvtty sd-helper seccompagent; do
    [ -x "$SRC/contrib/cmd/$t/$t" ] && continue
    tags=
    [ "$t" = seccompagent ] && tags="-tags seccomp"
    # shellcheck disable=SC2086
    (cd "$SRC" && GOFLAGS=-mod=vendor GOPROXY=off go build $tags -o "contrib/cmd/$t/$t" "./contrib/cmd/$t")
  done
}

# The image docker-library/busybox:glibc carries: busybox and its applets, a passwd/group, the usual dirs.
make_busybox ()
{
  local dest="$IT/testdata/busybox-amd64.tar.xz" d a
  [ -e "$dest" ] && return
  d=$(mktemp -d)
  chmod 0755 "$d"  # the image root is world-readable; mktemp made it 0700
  mkdir -p "$d"/{bin,dev,etc,home,proc,root,sys,tmp,usr/sbin,var/spool/mail,var/www}
  chmod 1777 "$d/tmp"
  cp /bin/busybox "$d/bin/busybox"
  for a in $("$d/bin/busybox" --list); do
    [ -e "$d/bin/$a" ] || ln "$d/bin/busybox" "$d/bin/$a"
  done
  cat > "$d/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
P
  cat > "$d/etc/group" <<'G'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
floppy:x:11:
news:x:13:
uucp:x:14:
www-data:x:33:
users:x:100:
nogroup:x:65534:
G
  tar -C "$d" --numeric-owner -cJf "$dest" .
  rm -rf "$d"
}

# hooks.bats needs /bin/sh, grep and ldconfig with a dynamic loader: copy them and their libraries from the host.
make_debian ()
{
  local dest="$IT/testdata/debian-amd64.tar.xz" d f l
  [ -e "$dest" ] && return
  d=$(mktemp -d)
  chmod 0755 "$d"  # the image root is world-readable; mktemp made it 0700
  mkdir -p "$d"/{bin,sbin,lib,lib64,etc,dev,proc,sys,tmp,root,usr/lib/x86_64-linux-gnu}
  chmod 1777 "$d/tmp"
  for f in /bin/sh /bin/dash /bin/grep /sbin/ldconfig /bin/cat /bin/ls; do
    cp -L "$f" "$d$f"
    for l in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*'); do
      mkdir -p "$d$(dirname "$l")"
      cp -L "$l" "$d$l"
    done
  done
  echo "/lib/x86_64-linux-gnu" > "$d/etc/ld.so.conf"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$d/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$d/etc/group"
  tar -C "$d" --numeric-owner -cJf "$dest" .
  rm -rf "$d"
}

build_helpers
make_busybox
make_debian

# A tap file's counts: "pass fail skip".
tap_counts ()
{
  awk '/^ok .* # skip/ {s++; next} /^ok / {p++} /^not ok / {f++}
       END {printf "%d %d %d\n", p, f, s}' "$1"
}

# One runtime: every file in order.  The runtimes run side by side (each with its own TMPDIR: the tests put
# the seccomp agent's socket there).
run_runtime ()
{
  local spec=$1 name src args rt f b
  name=${spec%%=*}
  # A private copy (a rebuild during the run must not swap the binary), keeping its name (nook-runtime is a
  # link to nook whose name selects the runtime's command line) and for crun any arguments after a space.
  read -r src args <<< "${spec#*=}"
  mkdir -p "$OUT/$name" "$OUT/bin/$name"
  cp -L "$src" "$OUT/bin/$name/$(basename "$src")"
  rt="$OUT/bin/$name/$(basename "$src")"
  if [ -n "$args" ]; then
    printf '#!/bin/sh\nexec %q %s "$@"\n' "$rt" "$args" > "$rt-wrapper"
    chmod +x "$rt-wrapper"
    rt="$rt-wrapper"
  fi
  for f in "$IT"/*.bats; do
    b=$(basename "$f" .bats)
    # Each file in a fresh private mount namespace, on a terminal of its own (script(1): runc's tests run
    # `runc run` with terminal: true attached, which needs a controlling terminal); bats 1.8 has no timeout
    # of its own, so timeout(1) bounds it.
    RUNC="$rt" TMPDIR="$OUT/$name/tmp" timeout -k 10 900 script -qefc \
      "$(printf '%q ' unshare -m --propagation private bats --tap "$f") > $(printf '%q' "$OUT/$name/$b.tap") 2>&1" \
      /dev/null < /dev/null > /dev/null 2>&1 || true
  done
}

for spec in "$@"; do
  mkdir -p "$OUT/${spec%%=*}/tmp"
  run_runtime "$spec" &
done
wait

declare -A TOT

printf '%-24s' file
for spec in "$@"; do printf '%-16s' "${spec%%=*}"; done
echo
for f in "$IT"/*.bats; do
  b=$(basename "$f" .bats)
  printf '%-24s' "$b"
  for spec in "$@"; do
    name=${spec%%=*}
    read -r p fl s < <(tap_counts "$OUT/$name/$b.tap")
    printf '%-16s' "$p/$fl/$s"
    TOT[$name.p]=$(( ${TOT[$name.p]:-0} + p ))
    TOT[$name.f]=$(( ${TOT[$name.f]:-0} + fl ))
    TOT[$name.s]=$(( ${TOT[$name.s]:-0} + s ))
  done
  echo
done
printf '%-24s' TOTAL
for spec in "$@"; do
  name=${spec%%=*}
  printf '%-16s' "${TOT[$name.p]}/${TOT[$name.f]}/${TOT[$name.s]}"
done
echo
echo "(pass/fail/skip)"
