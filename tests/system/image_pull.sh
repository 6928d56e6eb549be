#!/bin/bash
# nook pull from the local registry (tests/images/seed.sh) and the image commands on the result: the
# layers' real content, ownership, whiteouts and opaque markers in the store, the image ID = the config
# digest, no re-download, multi-arch selection, Docker schema2, shared layers stored once, concurrent
# pulls, images / image inspect / exists / tag / rmi / prune.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
. "$REPO/tests/images/imagelib.sh"
image_setup

A=$REG/alpine:3.20

# --- alpine:3.20 ----------------------------------------------------------------------------------------
if pull_ok pull_alpine "$A" --tls-verify=false; then
  ID320=$ID
  cfg=$(reg_config_digest "$A")
  check_eq image_id_is_config_digest "$cfg" "$ID320"
  mapfile -t diffs < <(reg_diff_ids "$A")
  L=$(layer_dir "${diffs[0]}")
  check_file layer_alpine_release "$L/etc/alpine-release" 3.20.3
  check_file layer_apk_arch "$L/etc/apk/arch" x86_64
  check_eq layer_busybox_mode "755 $(host_uid 0):$(host_gid 0)" "$(stat -c '%a %u:%g' "$L/bin/busybox" 2>&1)"
  check_eq layer_shadow_owner "640 $(host_uid 0):$(host_gid 42)" "$(stat -c '%a %u:%g' "$L/etc/shadow" 2>&1)"
  check_eq layer_symlink_kept "/bin/busybox" "$(readlink "$L/bin/sh" 2>&1)"
  check_eq layer_count_one 1 "$(count_layers)"
  # layer.json and the compressed blob, verified.
  blob=$(skopeo inspect --tls-verify=false --raw "docker://$A" | jq -r '.layers[0].digest')
  bf=$STORE/blobs/sha256/${blob#sha256:}
  if [ -f "$bf" ] && [ "sha256:$(sha256sum < "$bf" | cut -d' ' -f1)" = "$blob" ]; then pass blob_stored_verified
  else fail blob_stored_verified "no blob $bf with the right content"; fi
  lj=$STORE/layers/${diffs[0]#sha256:}/layer.json
  check_eq layer_json_diff_id "${diffs[0]}" "$(jq -r .diff_id "$lj" 2>&1)"
  [ -z "$(ls -A "$STORE/tmp" 2> /dev/null)" ] && pass tmp_empty_after_pull || fail tmp_empty_after_pull "$(ls -A "$STORE/tmp")"
  if [ "$MODE" = rootless ]; then
    check_eq store_owned_by_user "$TEST_UID" "$(stat -c %u "$STORE/images.json" 2>&1)"
  fi

  # -q prints only the ID.
  capture nk pull -q --tls-verify=false "$A"
  check_eq pull_quiet_only_id "$ID320" "$OUT"

  # images / inspect / exists
  capture nk images
  if [ "$RC" = 0 ] && printf '%s\n' "$OUT" | head -n 1 | grep -q 'REPOSITORY *TAG *IMAGE ID *CREATED *SIZE' &&
    printf '%s\n' "$OUT" | grep -Eq "^$REG/alpine +3\.20 +${ID320:0:12} "; then
    pass images_table
  else
    fail images_table "rc=$RC, no row '$REG/alpine 3.20 ${ID320:0:12}'" "$OUT"
  fi
  capture nk images -q
  check_eq images_quiet "${ID320:0:12}" "$OUT"
  capture nk images --no-trunc
  assert_contains images_no_trunc "sha256:$ID320" "$OUT"
  mdig=sha256:$(reg_manifest_digest "$A")
  capture nk images --digests
  assert_contains images_digests "$mdig" "$OUT"
  capture nk images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  check_eq images_format "$REG/alpine:3.20 ${ID320:0:12}" "$OUT"
  capture nk image inspect "$A"
  if [ "$RC" = 0 ] && jq -e . > /dev/null 2>&1 <<< "$OUT"; then
    j=$OUT
    check_eq inspect_id "$ID320" "$(jq -r '.[0].Id' <<< "$j")"
    check_eq inspect_digest "$mdig" "$(jq -r '.[0].Digest' <<< "$j")"
    check_eq inspect_repotags "$A" "$(jq -r '.[0].RepoTags | join(",")' <<< "$j")"
    check_eq inspect_repodigests "$REG/alpine@$mdig" "$(jq -r '.[0].RepoDigests | join(",")' <<< "$j")"
    check_eq inspect_arch_os "amd64 linux" "$(jq -r '.[0] | "\(.Architecture) \(.Os)"' <<< "$j")"
    check_eq inspect_rootfs "layers ${diffs[0]}" "$(jq -r '.[0].RootFS | "\(.Type) \(.Layers | join(","))"' <<< "$j")"
    check_eq inspect_cmd '["/bin/sh"]' "$(jq -c '.[0].Config.Cmd' <<< "$j")"
    assert_contains inspect_env "PATH=/usr/local/sbin" "$(jq -r '.[0].Config.Env | join(" ")' <<< "$j")"
    size=$(jq -r '.[0].Size' <<< "$j")
    lsize=$(jq -r .size "$lj" 2> /dev/null)
    if [ "$size" -gt 5000000 ] 2> /dev/null && [ "$size" = "$lsize" ]; then pass inspect_size
    else fail inspect_size "Size '$size', layer.json size '$lsize' (the tar is ~8 MB)"; fi
    [[ $(jq -r '.[0].Created' <<< "$j") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]] && pass inspect_created ||
      fail inspect_created "$(jq -r '.[0].Created' <<< "$j")"
  else
    fail image_inspect "rc=$RC, not JSON" "$OUT$ERR"
  fi
  for ref in "$A" "$ID320" "${ID320:0:12}" "sha256:$ID320" "$REG/alpine@$mdig"; do
    capture nk image exists "$ref"
    assert_rc "image_exists_by_${ref//[^a-z0-9]/_}" 0
  done
  capture nk image exists "$REG/alpine:nope"
  assert_rc image_exists_missing 1
  capture nk image inspect "$REG/alpine:nope"
  assert_nook_error inspect_missing "image not known"

  # --- pulling again downloads nothing ------------------------------------------------------------------
  before=$(stat -c '%i %Y.%y' "$bf" "$STORE/layers/${diffs[0]#sha256:}" 2>&1)
  sleep 1.1
  pull_ok pull_again "$A" --tls-verify=false
  check_eq pull_again_same_id "$ID320" "$ID"
  check_eq pull_again_no_rewrite "$before" "$(stat -c '%i %Y.%y' "$bf" "$STORE/layers/${diffs[0]#sha256:}" 2>&1)"
fi

# --- alpine:3.19, a second image beside the first --------------------------------------------------------
if pull_ok pull_alpine_319 "$REG/alpine:3.19" --tls-verify=false; then
  check_eq alpine_319_id "$(reg_config_digest "$REG/alpine:3.19")" "$ID"
  check_file alpine_319_release "$(layer_dir "$(reg_diff_ids "$REG/alpine:3.19")")/etc/alpine-release" 3.19.4
  check_eq two_images_two_layers 2 "$(count_layers)"
  # `images REPO` (no tag) lists every tag of the repository, also by its short name.
  capture nk images --format '{{.Tag}}' "$REG/alpine"
  check_eq images_repo_all_tags "3.19 3.20" "$(printf '%s\n' "$OUT" | sort | paste -sd' ')"
  capture nk images --format '{{.Tag}}' alpine
  check_eq images_short_repo_all_tags "3.19 3.20" "$(printf '%s\n' "$OUT" | sort | paste -sd' ')"
  capture nk images --format '{{.Tag}}' alpine:3.19
  check_eq images_short_repo_tag 3.19 "$OUT"
  # repo:TAG@DIGEST is pulled by digest and named by it (podman): one image, no "TAG@sha256" name.
  d319=sha256:$(reg_manifest_digest "$REG/alpine:3.19")
  pull_ok pull_tag_and_digest "$REG/alpine:3.19@$d319" --tls-verify=false
  capture nk images --format '{{.Repository}} {{.Tag}}' "$REG/alpine"
  assert_not_contains pull_tag_and_digest_no_literal_name "@sha256" "$OUT"
  check_eq pull_tag_and_digest_listed_once 2 "$(printf '%s\n' "$OUT" | grep -c .)"
  capture nk tag "$REG/alpine@$d319" "$REG/alpine:by-digest"
  assert_rc pull_tag_and_digest_then_tag 0
fi

# --- multi-arch index --------------------------------------------------------------------------------------
M=$REG/alpine:multi
if pull_ok pull_multi_default "$M" --tls-verify=false; then
  check_eq multi_default_amd64 "$(reg_config_digest "$M" --override-arch amd64)" "$ID"
  check_file multi_default_layer_x86_64 "$(layer_dir "$(image_layers "$ID" | head -n 1)")/etc/apk/arch" x86_64
  # The same content as alpine:3.20: one layer more at most (none: same diff_id).
  [ -n "${ID320:-}" ] && check_eq multi_amd64_is_alpine_320 "$ID320" "$ID"
fi
arm_id=$(reg_config_digest "$M" --override-arch arm64 --override-variant v8)
if pull_ok pull_multi_platform_arm64 "$M" --tls-verify=false --platform linux/arm64; then
  check_eq multi_platform_arm64_id "$arm_id" "$ID"
  check_file multi_arm64_layer_aarch64 "$(layer_dir "$(image_layers "$ID" | head -n 1)")/etc/apk/arch" aarch64
  check_eq multi_arm64_inspect_arch arm64 "$(nk image inspect "$ID" 2> /dev/null | jq -r '.[0].Architecture')"
fi
S2=$(new_store store-arch)
capture nk_root "$S2" pull --tls-verify=false --arch arm64 "$M"
check_eq multi_arch_flag_arm64 "$arm_id" "$(last_line)" "rc=$RC $ERR"
capture nk_root "$S2" pull --tls-verify=false --platform linux/arm64/v8 "$M"
check_eq multi_platform_variant_v8 "$arm_id" "$(last_line)" "rc=$RC $ERR"
capture nk_root "$S2" pull --tls-verify=false --platform linux/s390x "$M"
assert_nook_error multi_platform_missing "s390x|platform|no image|not found|match"

# --- Docker schema2 ----------------------------------------------------------------------------------------
# (its own store: its config is alpine:3.20's, so the image ID is the same, only the manifest differs)
D=$REG/alpine:docker
SD=$(new_store store-docker)
capture nk_root "$SD" pull --tls-verify=false "$D"
if [ "$RC" = 0 ]; then
  pass pull_docker_schema2
  check_eq docker_schema2_id "$(reg_config_digest "$D")" "$(last_line)"
  check_file docker_schema2_layer "$(layer_dir "$SD" "$(reg_diff_ids "$D")")/etc/alpine-release" 3.20.3
  check_eq docker_schema2_digest "sha256:$(reg_manifest_digest "$D")" \
    "$(nk_root "$SD" image inspect "$D" 2> /dev/null | jq -r '.[0].Digest')"
else
  fail pull_docker_schema2 "exit $RC" "$ERR"
fi

# --- two images sharing a base layer: stored once ------------------------------------------------------------
S3=$(new_store store-shared)
capture nk_root "$S3" pull -q --tls-verify=false "$A"
r1=$RC
capture nk_root "$S3" pull -q --tls-verify=false "$REG/alpine:shared"
if [ "$r1" = 0 ] && [ "$RC" = 0 ]; then
  uniq=$( (reg_diff_ids "$A"; reg_diff_ids "$REG/alpine:shared") | sort -u | wc -l)
  check_eq shared_base_stored_once "$uniq" "$(count_layers "$S3")" "layer dirs vs unique diff_ids"
  mapfile -t sd < <(reg_diff_ids "$REG/alpine:shared")
  check_file shared_top_layer "$(layer_dir "$S3" "${sd[1]}")/etc/nook-shared.txt" \
    "alpine:shared adds this file on top of alpine:3.20"
  [ ! -e "$(layer_dir "$S3" "${sd[1]}")/etc/alpine-release" ] && pass shared_top_layer_only_its_files ||
    fail shared_top_layer_only_its_files "the top layer dir holds the base's files too"
  nblobs=$(find "$S3/blobs/sha256" -type f | wc -l)
  # 2 manifests + 2 configs + 2 layer blobs (the base blob once).
  check_eq shared_blobs_once 6 "$nblobs"
  # Removing one image keeps the shared layer for the other.
  capture nk_root "$S3" rmi "$A"
  assert_rc rmi_one_of_two 0
  nk_root "$S3" image prune -f > /dev/null 2>&1
  [ -d "$(layer_dir "$S3" "${sd[0]}")/etc" ] && pass shared_layer_survives_rmi ||
    fail shared_layer_survives_rmi "the base layer of alpine:shared was removed with alpine:3.20"
else
  fail shared_pulls "pulls failed ($r1, $RC)" "$ERR"
fi

# --- debian:layered: whiteouts, opaque directory, ownership ---------------------------------------------------
DL=$REG/debian:layered
if pull_ok pull_debian_layered "$DL" --tls-verify=false; then
  mapfile -t dd < <(reg_diff_ids "$DL")
  base=$(layer_dir "${dd[0]}")
  up=$(layer_dir "${dd[1]}")
  check_file debian_base_version "$base/etc/debian_version" "$(cat "$IMG_WORK/images/debian-rootfs/etc/debian_version")"
  [ -d "$base/usr/share/doc/apt" ] && pass debian_base_keeps_doc || fail debian_base_keeps_doc "no usr/share/doc/apt in the base"
  for g in apt bash dpkg; do
    check_eq "whiteout_$g" "character special file 0:0" "$(stat -c '%F %t:%T' "$up/usr/share/doc/$g" 2>&1)"
  done
  wh=$(find "$up" "$base" -name '.wh.*' 2> /dev/null | head -n 3)
  [ -z "$wh" ] && pass no_wh_files_left || fail no_wh_files_left "found $wh"
  x=$(xattr_value "$up/etc/apt/apt.conf.d" "$(opaque_xattr)")
  check_eq opaque_xattr "y" "$x" "$(opaque_xattr)"
  check_eq opaque_dir_content "99nook" "$(ls -A "$up/etc/apt/apt.conf.d" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
  check_file opaque_dir_file "$up/etc/apt/apt.conf.d/99nook" "// nook layered image"
  check_eq owned_by_100 "640 $(host_uid 100):$(host_gid 100)" "$(stat -c '%a %u:%g' "$up/etc/nook-owned-by-100" 2>&1)"
  check_eq dir_owned_by_100 "750 $(host_uid 100):$(host_gid 100)" "$(stat -c '%a %u:%g' "$up/srv/nook100" 2>&1)"
  # The upper layer holds only what it changed.
  [ ! -e "$up/etc/debian_version" ] && pass upper_layer_only_changes || fail upper_layer_only_changes "etc/debian_version in the upper layer"
  capture nk image inspect "$DL"
  check_eq debian_layered_layers "$(printf '%s\n' "${dd[@]}" | paste -sd,)" "$(jq -r '.[0].RootFS.Layers | join(",")' <<< "$OUT" 2>&1)"
fi

# --- tag, rmi, prune ---------------------------------------------------------------------------------------
if [ -n "${ID320:-}" ]; then
  capture nk tag "$A" localhost/mine:v1
  assert_rc tag 0
  check_eq tag_same_image "$ID320" "$(nk image inspect localhost/mine:v1 2> /dev/null | jq -r '.[0].Id')"
  capture nk image exists mine:v1
  assert_rc tag_short_name 0
  capture nk rmi localhost/mine:v1
  if [ "$RC" = 0 ] && printf '%s\n' "$OUT" | grep -qx 'Untagged: localhost/mine:v1' &&
    ! printf '%s\n' "$OUT" | grep -q '^Deleted:'; then
    pass rmi_untag_only
  else
    fail rmi_untag_only "rc=$RC" "$OUT$ERR"
  fi
  capture nk image exists "$A"
  assert_rc rmi_keeps_other_name 0
  # podman: exit 1 when an image did not exist (and nothing else failed).
  capture nk rmi localhost/nothing:here
  RC_WANT=1 assert_nook_error rmi_missing "image not known"
  capture nk rmi "$A"
  if [ "$RC" = 0 ] && printf '%s\n' "$OUT" | grep -qx "Untagged: $A" && printf '%s\n' "$OUT" | grep -q "^Deleted: $ID320"; then
    pass rmi_last_name_deletes
  else
    fail rmi_last_name_deletes "rc=$RC" "$OUT$ERR"
  fi
  capture nk image exists "$ID320"
  assert_rc rmi_gone 1
  # alpine:multi (amd64) was the same image: it went too (a name points at one image) or still exists.
  capture nk image prune -a -f
  assert_rc prune_all 0
  images_clean prune_all_no_images 0
  check_eq prune_all_no_layers 0 "$(count_layers)"
  n=$(find "$STORE/blobs/sha256" -type f 2> /dev/null | wc -l)
  check_eq prune_all_no_blobs 0 "$n"
fi

# --- two concurrent pulls of the same image ------------------------------------------------------------------
S4=$(new_store store-concurrent)
nk_root "$S4" pull -q --tls-verify=false "$REG/debian:layered" > "$TMP/c1.out" 2> "$TMP/c1.err" &
p1=$!
nk_root "$S4" pull -q --tls-verify=false "$REG/debian:layered" > "$TMP/c2.out" 2> "$TMP/c2.err" &
p2=$!
wait "$p1"; r1=$?
wait "$p2"; r2=$?
if [ "$r1" = 0 ] && [ "$r2" = 0 ]; then pass concurrent_both_succeed
else fail concurrent_both_succeed "exit $r1 and $r2" "$(cat "$TMP/c1.err" "$TMP/c2.err")"; fi
check_eq concurrent_same_id "$(tail -n 1 "$TMP/c1.out")" "$(tail -n 1 "$TMP/c2.out")"
check_eq concurrent_layers_once 2 "$(count_layers "$S4")"
capture nk_root "$S4" images -q
check_eq concurrent_one_image 1 "$(printf '%s' "$OUT" | grep -c .)"
[ -z "$(ls -A "$S4/tmp" 2> /dev/null)" ] && pass concurrent_tmp_empty || fail concurrent_tmp_empty "$(ls -A "$S4/tmp")"
mapfile -t dd < <(reg_diff_ids "$REG/debian:layered")
check_eq concurrent_whiteout_ok "character special file 0:0" "$(stat -c '%F %t:%T' "$(layer_dir "$S4" "${dd[1]}")/usr/share/doc/apt" 2>&1)"

# --- a short name and a missing image ------------------------------------------------------------------------
capture nk pull --tls-verify=false "$REG/alpine:no-such-tag"
assert_nook_error pull_missing_tag "manifest unknown|not found|no such|unknown"
images_clean pull_missing_tag_no_image 0
capture nk pull --tls-verify=false "127.0.0.1:1/alpine:3.20"
assert_nook_error pull_connection_refused "connect|refused"

# --- the runtime path loads no registry/archive/crypto library; a missing one is named with its package ------
deps=$(ldd "$NOOK" 2>&1)
for lib in libcurl libarchive libcrypto libmnl libssl; do
  case $deps in
    *"$lib"*) fail "runtime_path_no_$lib" "ldd $NOOK lists $lib" "$deps" ;;
    *) pass "runtime_path_no_$lib" ;;
  esac
done
if [ "$MODE" = root ]; then
  curlso=$(readlink -f "$(ldconfig -p | awk '/libcurl.so.4 .*x86-64/ { print $NF; exit }')")
  if [ -f "$curlso" ]; then
    # libcurl made unloadable in a private mount namespace: pull fails and names the file and the package.
    capture unshare -m --propagation private sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$curlso" \
      "$NOOK" --root "$(new_store nocurl)" pull -q --tls-verify=false "$A"
    if [ "$RC" = 125 ] && printf '%s' "$ERR" | grep -q 'libcurl.so.4 (Debian package libcurl4)'; then
      pass missing_libcurl_named
    else
      fail missing_libcurl_named "rc=$RC" "$ERR"
    fi
  fi
fi

finish
