#!/bin/bash
# save / load round trips (oci-archive and docker-archive) into another store, archives written by skopeo
# loaded by nook and nook's archives read by skopeo, and import of the Alpine minirootfs tarball.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
. "$REPO/tests/images/imagelib.sh"
image_setup

D=$(user_dir archives)
pull_ok pull_source "$REG/alpine:shared" --tls-verify=false || finish
SRC_ID=$ID
mapfile -t SRC_LAYERS < <(reg_diff_ids "$REG/alpine:shared")

# check_loaded NAME STORE ID: the image ID exists in STORE with both layers' content.
check_loaded () {
  local name=$1 st=$2 id=$3
  capture nk_root "$st" image inspect "$id"
  if [ "$RC" != 0 ]; then
    fail "$name" "image $id not in the store" "$ERR"
    return
  fi
  check_eq "${name}_layers" "$(printf '%s\n' "${SRC_LAYERS[@]}" | paste -sd,)" "$(jq -r '.[0].RootFS.Layers | join(",")' <<< "$OUT")"
  check_file "${name}_base_content" "$(layer_dir "$st" "${SRC_LAYERS[0]}")/etc/alpine-release" 3.20.3
  check_file "${name}_top_content" "$(layer_dir "$st" "${SRC_LAYERS[1]}")/etc/nook-shared.txt" \
    "alpine:shared adds this file on top of alpine:3.20"
  check_eq "${name}_owner" "$(host_uid 0):$(host_gid 42)" "$(stat -c '%u:%g' "$(layer_dir "$st" "${SRC_LAYERS[0]}")/etc/shadow" 2>&1)"
}

for fmt in oci-archive docker-archive; do
  f=$D/shared.$fmt.tar
  capture nk save -o "$f" --format "$fmt" "$REG/alpine:shared"
  assert_rc "save_$fmt" 0
  if [ ! -s "$f" ]; then
    fail "save_${fmt}_file" "no archive written"
    continue
  fi
  case $fmt in
    oci-archive) want='^(\./)?(oci-layout|index\.json)$' ;;
    docker-archive) want='^(\./)?manifest\.json$' ;;
  esac
  if tar -tf "$f" | grep -Eq "$want"; then pass "save_${fmt}_layout"; else fail "save_${fmt}_layout" "$(tar -tf "$f" | head)"; fi
  # skopeo reads it, and finds the same config.
  got=$(skopeo inspect --raw --config "$fmt:$f" 2> "$TMP/sk.err" | sha256sum | cut -d' ' -f1)
  check_eq "save_${fmt}_skopeo_reads" "$SRC_ID" "$got" "$(cat "$TMP/sk.err")"
  st=$(new_store "load-$fmt")
  capture nk_root "$st" load -i "$f"
  if [ "$RC" = 0 ] && printf '%s\n' "$OUT" | grep -q '^Loaded image'; then pass "load_$fmt"; else fail "load_$fmt" "rc=$RC" "$OUT$ERR"; fi
  assert_contains "load_${fmt}_names_image" "$REG/alpine:shared" "$OUT"
  check_loaded "load_$fmt" "$st" "$SRC_ID"
  capture nk_root "$st" image exists "$REG/alpine:shared"
  assert_rc "load_${fmt}_name_kept" 0
  # Loading again is fine and changes nothing.
  capture nk_root "$st" load -i "$f"
  assert_rc "load_${fmt}_again" 0
  check_eq "load_${fmt}_again_layers" 2 "$(count_layers "$st")"
done

# save by ID, and of something missing.
capture nk save -o "$D/byid.tar" --format oci-archive "$SRC_ID"
assert_rc save_by_id 0
capture nk save -o "$D/missing.tar" "$REG/alpine:not-here"
assert_nook_error save_missing "image not known"

# save without -o streams to stdout (a pipeline `save | load` keeps the image), and -o /dev/stdout writes
# through the path: nothing is renamed over it.
st=$(new_store pipe)
nk save "$REG/alpine:shared" 2> "$TMP/save.err" | nk_root "$st" load > "$TMP/load.out" 2>&1
check_eq save_stdout_pipe_load "$SRC_ID" \
  "$(nk_root "$st" image inspect "$REG/alpine:shared" 2> /dev/null | jq -r '.[0].Id')" "$(cat "$TMP/save.err" "$TMP/load.out")"
# (into a file the mode's user owns: reopening a pipe of root's through /dev/stdout is not allowed to it)
touch "$D/devstdout.tar" && chown --reference="$D" "$D/devstdout.tar"
nk save -o /dev/stdout --format oci-archive "$REG/alpine:shared" 2> "$TMP/save.err" > "$D/devstdout.tar"
check_eq save_dev_stdout_streams 1 "$(tar -tf "$D/devstdout.tar" 2> /dev/null | grep -c 'index.json')" "$(cat "$TMP/save.err")"
check_eq save_dev_stdout_still_a_link "/proc/self/fd/1" "$(readlink /dev/stdout)"

# Archives made by skopeo, loaded by nook.
for fmt in oci-archive docker-archive; do
  f=$D/skopeo.$fmt.tar
  rm -f "$f"
  if [ "$fmt" = oci-archive ]; then dest="$fmt:$f:localhost/from-skopeo:$fmt"; else dest="$fmt:$f:localhost/from-skopeo:$fmt"; fi
  skopeo copy -q --src-tls-verify=false "docker://$REG/alpine:3.19" "$dest" > /dev/null 2>&1
  chmod 0644 "$f"
  st=$(new_store "skopeo-$fmt")
  capture nk_root "$st" load -i "$f"
  if [ "$RC" = 0 ]; then
    pass "load_skopeo_$fmt"
    check_eq "load_skopeo_${fmt}_id" "$(reg_config_digest "$REG/alpine:3.19")" \
      "$(nk_root "$st" image inspect "localhost/from-skopeo:$fmt" 2> /dev/null | jq -r '.[0].Id')"
    check_file "load_skopeo_${fmt}_content" "$(layer_dir "$st" "$(reg_diff_ids "$REG/alpine:3.19")")/etc/alpine-release" 3.19.4
  else
    fail "load_skopeo_$fmt" "exit $RC" "$ERR"
  fi
done

# Bad archives.
head -c 100000 /dev/urandom > "$D/garbage.tar"
chmod 0644 "$D/garbage.tar"
capture nk load -i "$D/garbage.tar"
assert_nook_error load_garbage
capture nk load -i "$D/no-such-file.tar"
assert_nook_error load_missing_file "no such file"
# An oci-archive whose layer was altered (the digest no longer matches).
if [ -s "$D/shared.oci-archive.tar" ]; then
  mkdir -p "$TMP/alter"
  tar -xf "$D/shared.oci-archive.tar" -C "$TMP/alter"
  big=$(find "$TMP/alter/blobs" -type f -size +1M | head -n 1)
  if [ -n "$big" ]; then
    printf 'X' | dd of="$big" bs=1 seek=1000 conv=notrunc status=none
    (cd "$TMP/alter" && tar -cf "$D/altered.tar" .)
    chmod 0644 "$D/altered.tar"
    st=$(new_store load-altered)
    capture nk_root "$st" load -i "$D/altered.tar"
    assert_nook_error load_altered_blob 'digest|sha256|mismatch|verif'
    capture nk_root "$st" images -q
    check_eq load_altered_no_image "" "$OUT"
  fi
fi

# --- import ------------------------------------------------------------------------------------------------------
tb=$D/alpine-minirootfs.tar.gz
cp "$IMG_SHARED/alpine-minirootfs-3.20.3-x86_64.tar.gz" "$tb"
chmod 0644 "$tb"
st=$(new_store import)
capture nk_root "$st" import "$tb" localhost/imported:1
IID=$(last_line)
if [ "$RC" = 0 ] && [[ $IID =~ ^[0-9a-f]{64}$ ]]; then pass import; else fail import "rc=$RC out='$OUT'" "$ERR"; IID=; fi
if [ -n "$IID" ]; then
  capture nk_root "$st" image inspect localhost/imported:1
  check_eq import_inspect_id "$IID" "$(jq -r '.[0].Id' <<< "$OUT" 2>&1)"
  nl=$(jq -r '.[0].RootFS.Layers | length' <<< "$OUT" 2>&1)
  check_eq import_one_layer 1 "$nl"
  l=$(jq -r '.[0].RootFS.Layers[0]' <<< "$OUT" 2>&1)
  # The diff_id is the sha256 of the uncompressed tarball.
  check_eq import_diff_id "sha256:$(gzip -dc "$tb" | sha256sum | cut -d' ' -f1)" "$l"
  check_file import_content "$(layer_dir "$st" "$l")/etc/alpine-release" 3.20.3
  check_eq import_owner "640 $(host_uid 0):$(host_gid 42)" "$(stat -c '%a %u:%g' "$(layer_dir "$st" "$l")/etc/shadow" 2>&1)"
  check_eq import_arch "amd64 linux" "$(jq -r '.[0] | "\(.Architecture) \(.Os)"' <<< "$OUT" 2>&1)"
  # Importing the same tarball again shares the layer.
  capture nk_root "$st" import "$tb" localhost/imported:2
  assert_rc import_again 0
  check_eq import_again_layer_once 1 "$(count_layers "$st")"
  # The imported image survives a save/load round trip.
  capture nk_root "$st" save -o "$D/imported.tar" --format oci-archive localhost/imported:1
  st2=$(new_store import-load)
  capture nk_root "$st2" load -i "$D/imported.tar"
  check_eq import_save_load_id "$IID" "$(nk_root "$st2" image inspect localhost/imported:1 2> /dev/null | jq -r '.[0].Id')"
fi
capture nk_root "$st" import "$D/no-such.tar.gz"
assert_nook_error import_missing_file "no such file"
capture nk_root "$st" import "$D/garbage.tar" localhost/garbage:1
assert_nook_error import_garbage

finish
