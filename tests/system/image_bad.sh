#!/bin/bash
# Hostile images (tests/images/seed.sh, tests/images/fakereg.py): each pull fails with exit status 125
# and an "Error: " message naming the problem, nothing outside the store is touched, and the store shows
# no half image (`nook images` still works and lists nothing).  Symlink tricks may also succeed when the
# entries land inside the layer; either way nothing escapes.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
. "$REPO/tests/images/imagelib.sh"
image_setup

ESC=/tmp/nook-escape-target
ESCAPES=("$ESC" /tmp/nook-escape-abs /tmp/nook-escape-dotdot /tmp/nook-escape-dotdot2 "$TMP/nook-escape-dotdot")
clear_escapes () { rm -rf "${ESCAPES[@]}" "$ESC.precreated"; }
trap 'clear_escapes; cleanup_suite' EXIT
# nothing_escaped NAME: no escape path exists (or, for a pre-created target directory, it stays empty).
nothing_escaped () {
  local p bad=
  for p in "${ESCAPES[@]}"; do
    if [ -d "$p" ] && [ ! -L "$p" ] && [ -f "$p.precreated" ]; then
      [ -z "$(ls -A "$p")" ] || bad="$bad $p/$(ls -A "$p" | head -n 1)"
    elif [ -e "$p" ] || [ -L "$p" ]; then
      bad="$bad $p"
    fi
  done
  # The store's parent must hold only the store.
  local extra
  extra=$(ls -A "$(dirname "$STORE")" | grep -vx "$(basename "$STORE")")
  [ -n "$extra" ] && bad="$bad $(dirname "$STORE")/$extra"
  if [ -z "$bad" ]; then pass "$1"; else fail "$1" "written outside the store:$bad"; fi
}
# The password file is never modified through a hard link.
PASSWD_SUM=$(sha256sum < /etc/passwd)
passwd_intact () {
  if [ "$(sha256sum < /etc/passwd)" = "$PASSWD_SUM" ]; then pass "$1"; else fail "$1" "/etc/passwd changed"; fi
}
# store_tmp_clean NAME BEFORE: after a failed pull, STORE/tmp holds nothing new (the failing pull cleaned up;
# BEFORE is what it held before the pull, so one leftover is reported once).
store_tmp_clean () {
  local left
  left=$(ls -A "$STORE/tmp" 2> /dev/null | grep -vxF -f <(printf '%s\n' "$2"))
  if [ -z "$left" ]; then pass "$1"; else fail "$1" "left in $STORE/tmp: $(echo $left)"; fi
}

# bad_pull NAME REF REGEX [either]: pull REF fails (125, message matching REGEX), or with "either" may
# also succeed; then nothing escaped, `nook images` is clean, tmp/ empty.
bad_pull () {
  local name=$1 ref=$2 re=$3 either=${4:-} before
  before=$(ls -A "$STORE/tmp" 2> /dev/null)
  capture nk pull --tls-verify=false "$ref"
  if [ -n "$either" ] && [ "$RC" = 0 ]; then
    pass "$name"
    nothing_escaped "${name}_nothing_escaped"
    nk rmi -f "$ref" > /dev/null 2>&1
    nk image prune -a -f > /dev/null 2>&1
  else
    assert_nook_error "$name" "$re"
    nothing_escaped "${name}_nothing_escaped"
    images_clean "${name}_no_half_image" 0
    store_tmp_clean "${name}_tmp_clean" "$before"
    check_eq "${name}_no_layer_left" 0 "$(count_layers)"
  fi
}

clear_escapes
# --- paths ----------------------------------------------------------------------------------------------------
bad_pull dotdot "$REG/bad/dotdot" '\.\.'
bad_pull absolute "$REG/bad/abs" 'absolute|/tmp/nook-escape-abs'
bad_pull hardlink "$REG/bad/hardlink" 'link|passwd|\.\.'
passwd_intact hardlink_passwd_intact
bad_pull hardlink_absolute "$REG/bad/hardlink-abs" 'link|passwd|absolute'
passwd_intact hardlink_absolute_passwd_intact
bad_pull whiteout_dotdot "$REG/bad/whiteout" 'whiteout|\.wh\.'
bad_pull whiteout_dotdot_in_dir "$REG/bad/whiteout-sub" 'whiteout|\.wh\.'
bad_pull not_a_tar "$REG/bad/nottar" 'tar|archive|format|unrecognized'

# --- symlinks: first with the target absent, then with it existing as an empty, writable directory ------------
for pre in absent present; do
  clear_escapes
  if [ "$pre" = present ]; then
    mkdir -m 0777 "$ESC"
    touch "$ESC.precreated"
  fi
  bad_pull "symlink_then_write_$pre" "$REG/bad/symlink" 'symlink|link|escape|outside|x/pwned|no such' either
  bad_pull "relative_symlink_then_write_$pre" "$REG/bad/symlink-rel" 'symlink|link|escape|outside|y/pwned|no such' either
  bad_pull "symlink_to_root_then_write_$pre" "$REG/bad/symlink-dir" 'symlink|link|escape|outside|root/tmp|no such' either
  rm -f "$ESC.precreated"
done
clear_escapes

# --- decompression bomb: 3 GiB of zeros in ~3 MB of gzip (the bound is max(1 GiB, 200 x compressed)) --------------
t0=$(date +%s)
bad_pull gzip_bomb "$REG/bad/bomb" 'bound|limit|exceed|too large|big|size'
t1=$(date +%s)
[ $((t1 - t0)) -lt 120 ] && pass gzip_bomb_bounded_time || fail gzip_bomb_bounded_time "took $((t1 - t0)) s"

# --- verification -----------------------------------------------------------------------------------------------
bad_pull wrong_layer_digest "$REG/bad/digest" 'digest|sha256|mismatch|verif'
bad_pull wrong_diff_id "$REG/bad/diffid" 'diff_id|diffid|digest|mismatch|uncompressed'
bad_pull unknown_media_type "$REG/bad/mediatype" 'media ?type|vnd\.nook\.test|unsupported|unknown'
bad_pull no_matching_platform "$REG/bad/noplatform" 'platform|amd64|arch|no image|match'
bad_pull huge_manifest "$FAKEREG/bad/huge" 'too (large|big)|size|limit|exceed|MiB|bytes'
bad_pull huge_manifest_chunked "$FAKEREG/bad/huge-chunked" 'too (large|big)|size|limit|exceed|MiB|bytes'
t0=$(date +%s)
bad_pull endless_manifest "$FAKEREG/bad/endless" 'too (large|big)|size|limit|exceed|MiB|bytes'
t1=$(date +%s)
[ $((t1 - t0)) -lt 60 ] && pass endless_manifest_bounded_time || fail endless_manifest_bounded_time "took $((t1 - t0)) s"
bad_pull blob_longer_than_descriptor "$FAKEREG/bad/lying-length" 'size|length|too|digest|mismatch|exceed'

# --- a bad image does not disturb a good one in the same store -------------------------------------------------
if pull_ok good_after_bad "$REG/alpine:3.20" --tls-verify=false; then
  check_file good_after_bad_content "$(layer_dir "$(reg_diff_ids "$REG/alpine:3.20")")/etc/alpine-release" 3.20.3
  # A failing pull of another image leaves the good one alone.
  capture nk pull --tls-verify=false "$REG/bad/dotdot"
  assert_nook_error bad_beside_good
  images_clean bad_beside_good_images 1
fi
nothing_escaped final_nothing_escaped
clear_escapes

finish
