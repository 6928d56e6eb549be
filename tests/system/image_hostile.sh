#!/bin/bash
# The store against hostile images and a hostile world (issue 15): a layer tree deeper than the open-file
# limit is pulled and removed and never blocks later pulls; a temp entry that cannot be removed does not
# fail a pull; an image of hundreds of layers pulls under a low open-file limit; a registry sending a blob
# too slowly is given up with a clear message in bounded time; a damaged images.json names the file; a full
# disk (root: a small tmpfs store) gives a clear ENOSPC, leaves no partial download and the next pull works.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
. "$REPO/tests/images/imagelib.sh"
image_setup
PY=python3
check_re () { if [[ $3 =~ $2 ]]; then pass "$1"; else fail "$1" "expected to match /$2/, got '$3'" "${ERR:-}"; fi; }
PROXY=
stop_proxy () { [ -n "$PROXY" ] && kill -KILL "$PROXY" 2> /dev/null; [ -n "$PROXY" ] && wait "$PROXY" 2> /dev/null; PROXY=; }
trap 'stop_proxy; cleanup_suite' EXIT
# nk_lim N ARGS: nook with the open-file limit N
nk_lim () { local n=$1; shift; capture as_mode bash -c 'ulimit -n "$1"; shift; exec timeout -k 5 300 "$@"' _ "$n" "$NOOK" --root "$STORE" "$@"; }
GEN=$TMP/gen
mkdir -p "$GEN"
chmod 0755 "$GEN"

# --- a layer deeper than the open-file limit ------------------------------------------------------------------
$PY - "$GEN/deep.tar.gz" << 'PYEOF'
import io, sys, tarfile, gzip
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
    path = "deep"
    for i in range(600):
        ti = tarfile.TarInfo(path); ti.type = tarfile.DIRTYPE; ti.mode = 0o755
        tf.addfile(ti)
        if i % 50 == 0:
            f = tarfile.TarInfo(path + "/f"); f.size = 1; tf.addfile(f, io.BytesIO(b"x"))
        path += "/d"
    ti = tarfile.TarInfo(path + "/bottom"); ti.size = 2; tf.addfile(ti, io.BytesIO(b"ok"))
with gzip.open(sys.argv[1], "wb") as g:
    g.write(buf.getvalue())
PYEOF
DEEP=$REG/hostile-deep:$MODE
$PY "$IMG_HELPERS/ocitool.py" push "$REG" "hostile-deep:$MODE" --layer "$GEN/deep.tar.gz" > /dev/null
nk_lim 128 pull -q --tls-verify=false "$DEEP"
assert_rc deep_tree_pulled_low_nofile 0
nk_lim 128 rmi "$DEEP"
assert_rc deep_tree_rmi_low_nofile 0
check_eq deep_tree_no_layer_left 0 "$(count_layers)"
check_eq deep_tree_tmp_empty "" "$(ls -A "$STORE/tmp" 2> /dev/null)"
nk_lim 128 pull -q --tls-verify=false "$REG/alpine:3.20"
assert_rc deep_tree_later_pull_works 0

# --- a temp entry that cannot be removed never blocks a pull -----------------------------------------------------
mkdir -p "$STORE/tmp/stuck-1-1/sub"
echo x > "$STORE/tmp/stuck-1-1/sub/file"
chown -R root:root "$STORE/tmp/stuck-1-1"
if [ "$MODE" = root ]; then chattr +i "$STORE/tmp/stuck-1-1/sub/file" 2> /dev/null; fi
touch -h -d '3 hours ago' "$STORE/tmp/stuck-1-1"
nk image prune -a -f > /dev/null 2>&1
capture nk pull -q --tls-verify=false "$REG/alpine:3.20"
assert_rc stuck_tmp_pull_works 0
assert_contains stuck_tmp_warned 'temp area' "$ERR"
capture nk rmi "$REG/alpine:3.20"
assert_rc stuck_tmp_rmi_works 0
[ "$MODE" = root ] && chattr -i "$STORE/tmp/stuck-1-1/sub/file" 2> /dev/null
rm -rf "$STORE/tmp/stuck-1-1"

# --- hundreds of layers under a low open-file limit --------------------------------------------------------------
$PY - "$GEN" 300 << 'PYEOF'
import io, sys, tarfile, gzip
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo("layer%03d" % i); data = b"%d\n" % i; ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    with gzip.GzipFile("%s/l%03d.tar.gz" % (d, i), "wb", mtime=0) as g:
        g.write(buf.getvalue())
PYEOF
args=()
for f in "$GEN"/l*.tar.gz; do args+=(--layer "$f"); done
$PY "$IMG_HELPERS/ocitool.py" push "$REG" "hostile-many:$MODE" "${args[@]}" > /dev/null
nk_lim 96 pull -q --tls-verify=false "$REG/hostile-many:$MODE"
assert_rc many_layers_pull_low_nofile 0
check_eq many_layers_all_stored 300 "$(count_layers)"
nk_lim 96 rmi "$REG/hostile-many:$MODE"
assert_rc many_layers_rmi_low_nofile 0

# --- a damaged images.json names itself ----------------------------------------------------------------------------
capture nk pull -q --tls-verify=false "$REG/alpine:3.20"
cp "$STORE/images.json" "$TMP/images.json.good"
printf '{"images": [' > "$STORE/images.json"
capture nk images
assert_nook_error corrupt_index_names_file "$STORE/images.json.*damaged.*move it away"
cp "$TMP/images.json.good" "$STORE/images.json"
[ "$MODE" = rootless ] && chown "$TEST_UID:$TEST_GID" "$STORE/images.json"

# --- a registry sending a blob too slowly ----------------------------------------------------------------------------
PPORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$PY "$IMG_HELPERS/slowproxy.py" "$PPORT" "$REG" 4000 > "$TMP/proxy.out" 2>&1 &
PROXY=$!
for i in $(seq 50); do grep -q ready "$TMP/proxy.out" 2> /dev/null && break; sleep 0.1; done
SLOW=$(new_store store-slow)
t0=$(date +%s)
capture as_mode env NOOK_PULL_MIN_RATE=64000 NOOK_PULL_STALL_SECONDS=2 timeout -k 5 200 "$NOOK" --root "$SLOW" \
  pull --tls-verify=false "127.0.0.1:$PPORT/debian:bookworm"
t1=$(date +%s)
assert_nook_error slow_registry_given_up 'too slow'
[ $((t1 - t0)) -lt 150 ] && pass slow_registry_bounded_time || fail slow_registry_bounded_time "took $((t1 - t0)) s"
stop_proxy
STORE=$SLOW images_clean slow_registry_no_image 0

# --- a full disk (root: a 24 MB tmpfs store in a private mount namespace) --------------------------------------------
if [ "$MODE" = root ]; then
  out=$(unshare -m --propagation private bash -c '
    set -u
    mkdir -p "$1/small" && mount -t tmpfs -o size=24m tmpfs "$1/small" || exit 99
    r=0
    timeout -k 5 200 "$2" --root "$1/small/s" pull -q --tls-verify=false "$3/debian:bookworm" > /dev/null 2> "$1/enospc.err"
    echo "rc=$?"
    echo "partials=$(find "$1/small/s/tmp" -name "*.partial" 2> /dev/null | wc -l)"
    echo "used=$(df -k --output=used "$1/small" | tail -n 1 | tr -d " ")"
    timeout -k 5 200 "$2" --root "$1/small/s" pull -q --tls-verify=false "$3/alpine:3.20" > /dev/null 2> "$1/enospc2.err"
    echo "rc2=$?"
  ' _ "$TMP" "$NOOK" "$REG")
  ERR=$(cat "$TMP/enospc.err" 2> /dev/null)
  check_re enospc_pull_fails 'rc=125' "$out"
  assert_contains enospc_clear_error 'No space left on device' "$ERR"
  check_re enospc_no_partial_left 'partials=0' "$out"
  check_re enospc_space_released 'used=[0-9]{1,4}$|used=[0-9]{1,4}[^0-9]' "$(printf '%s' "$out" | grep used=)"
  check_re enospc_small_pull_after 'rc2=0' "$out"
fi

finish
