#!/bin/bash
# Registry access: TLS verification and basic auth (the TLS registry of tests/images/registry.sh, user
# testuser / testpass), login / logout and the auth file, and failures in the middle of a pull: the puller
# killed with SIGKILL, the registry dying mid-blob (a throttling proxy, tests/images/slowproxy.py, killed;
# and a real docker-registry instance killed).  After each, `nook images` works and the next pull completes.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
. "$REPO/tests/images/imagelib.sh"
image_setup

T=$TLSREG/alpine:3.20
TLS_ERR='certificate|x509|ssl|tls|verify'
AUTH_ERR='unauthori[sz]ed|authentication required|401|credentials|denied'
ADIR=$(user_dir auth)
AF=$ADIR/auth.json
tls_cfg=$(skopeo inspect --tls-verify=false --creds testuser:testpass --raw --config "docker://$T" | sha256sum | cut -d' ' -f1)

# --- TLS and credentials ------------------------------------------------------------------------------------
capture nk pull "$T"
assert_nook_error tls_self_signed_rejected "$TLS_ERR"
capture nk pull --creds testuser:testpass "$T"
assert_nook_error tls_self_signed_rejected_with_creds "$TLS_ERR"
capture nk pull --tls-verify=false "$T"
assert_nook_error tls_no_creds_unauthorized "$AUTH_ERR"
capture nk pull --tls-verify=false --creds testuser:wrong "$T"
assert_nook_error tls_wrong_password "$AUTH_ERR"
images_clean tls_failures_leave_no_image 0
if pull_ok tls_creds "$T" --tls-verify=false --creds testuser:testpass; then
  check_eq tls_creds_id "$tls_cfg" "$ID"
  check_file tls_creds_content "$(layer_dir "$(image_layers "$ID" | head -n 1)")/etc/alpine-release" 3.20.3
  if grep -rqs testpass "$STORE"; then fail creds_not_stored "the password appears in the store"; else pass creds_not_stored; fi
  nk image prune -a -f > /dev/null 2>&1
fi
# --cert-dir (podman's way to trust a CA): optional.
capture nk pull --cert-dir "$TLSCERTDIR" --creds testuser:testpass "$T"
if [ "$RC" = 0 ]; then pass tls_cert_dir; else echo "note: --cert-dir with the CA did not work (exit $RC): $ERR"; fi
nk image prune -a -f > /dev/null 2>&1

# --- login / logout -------------------------------------------------------------------------------------------
capture nk login -u testuser -p wrong --tls-verify=false --authfile "$AF" "$TLSREG"
assert_nook_error login_wrong_password "$AUTH_ERR"
if [ ! -s "$AF" ] || [ "$(jq -r --arg r "$TLSREG" '.auths[$r] // empty' "$AF")" = "" ]; then pass login_wrong_password_not_stored
else fail login_wrong_password_not_stored "$(cat "$AF")"; fi
capture nk login -u testuser -p testpass "$TLSREG"
assert_nook_error login_tls_verified "$TLS_ERR"
capture nk login -u testuser -p testpass --tls-verify=false --authfile "$AF" "$TLSREG"
if [ "$RC" = 0 ] && [ "$OUT" = "Login Succeeded!" ]; then pass login; else fail login "rc=$RC out='$OUT'" "$ERR"; fi
check_eq login_auth_entry "$(printf testuser:testpass | base64)" "$(jq -r --arg r "$TLSREG" '.auths[$r].auth' "$AF" 2>&1)"
check_eq login_auth_file_mode "600 $(host_uid 0)" "$(stat -c '%a %u' "$AF" 2>&1)"
S1=$(new_store store-login)
capture nk_root "$S1" pull --tls-verify=false --authfile "$AF" "$T"
check_eq pull_with_authfile "$tls_cfg" "$(last_line)" "rc=$RC $ERR"
S2=$(new_store store-login-env)
capture as_mode env REGISTRY_AUTH_FILE="$AF" timeout -k 5 "$NK_TIMEOUT" "$NOOK" --root "$S2" pull --tls-verify=false "$T"
check_eq pull_with_registry_auth_file "$tls_cfg" "$(last_line)" "rc=$RC $ERR"

AF2=$ADIR/auth2.json
printf 'testpass\n' | as_mode timeout 60 "$NOOK" login -u testuser --password-stdin --tls-verify=false --authfile "$AF2" \
  "$TLSREG" > "$TMP/stdin.out" 2> "$TMP/stdin.err"
RC=$? OUT=$(cat "$TMP/stdin.out") ERR=$(cat "$TMP/stdin.err")
if [ "$RC" = 0 ] && [ "$(jq -r --arg r "$TLSREG" '.auths[$r].auth' "$AF2" 2> /dev/null)" = "$(printf testuser:testpass | base64)" ]; then
  pass login_password_stdin
else
  fail login_password_stdin "rc=$RC" "$OUT$ERR"
fi
# A second registry in the same file (the plain one accepts anyone), then logout of one, then --all.
capture nk login -u other -p secret --tls-verify=false --authfile "$AF" "$REG"
assert_rc login_second_registry 0
check_eq login_two_entries 2 "$(jq '.auths | length' "$AF" 2>&1)"
capture nk logout --authfile "$AF" "$TLSREG"
assert_rc logout 0
check_eq logout_removes_entry false "$(jq --arg r "$TLSREG" '.auths | has($r)' "$AF" 2>&1)"
check_eq logout_keeps_other true "$(jq --arg r "$REG" '.auths | has($r)' "$AF" 2>&1)"
S3=$(new_store store-logout)
capture nk_root "$S3" pull --tls-verify=false --authfile "$AF" "$T"
assert_nook_error pull_after_logout_unauthorized "$AUTH_ERR"
capture nk logout --authfile "$AF" "$TLSREG"
assert_nook_error logout_not_logged_in "not logged in"
capture nk logout --all --authfile "$AF2"
assert_rc logout_all 0
check_eq logout_all_empty 0 "$(jq '.auths | length' "$AF2" 2>&1)"

# The default auth file of a user ($XDG_RUNTIME_DIR/containers/auth.json), rootless only (root's would be
# in /root).
if [ "$MODE" = rootless ]; then
  UAF=/run/user/$TEST_UID/containers/auth.json
  [ -e "$UAF" ] && cp -p "$UAF" "$TMP/uaf.bak"
  capture nk login -u testuser -p testpass --tls-verify=false "$TLSREG"
  assert_rc login_default_authfile 0
  check_eq login_default_authfile_entry "$(printf testuser:testpass | base64)" \
    "$(jq -r --arg r "$TLSREG" '.auths[$r].auth' "$UAF" 2>&1)"
  S4=$(new_store store-default-auth)
  capture nk_root "$S4" pull --tls-verify=false "$T"
  check_eq pull_with_default_authfile "$tls_cfg" "$(last_line)" "rc=$RC $ERR"
  capture nk logout "$TLSREG"
  assert_rc logout_default_authfile 0
  rm -f "$UAF"
  [ -e "$TMP/uaf.bak" ] && cp -p "$TMP/uaf.bak" "$UAF"
fi

# --- SIGKILL in the middle of a pull ---------------------------------------------------------------------------
# kill_pull NAME DELAY STORE REF: start a pull, SIGKILL the nook process after DELAY seconds; then no nook
# process is left, `nook images` works, and a new pull completes.
kill_pull () {
  local name=$1 delay=$2 st=$3 ref=$4 bg np n
  as_mode timeout -k 5 "$NK_TIMEOUT" "$NOOK" --root "$st" pull --tls-verify=false "$ref" > "$TMP/$name.out" 2> "$TMP/$name.err" &
  bg=$!
  sleep "$delay"
  np=$(descendant_pid "$bg" nook)
  if [ -z "$np" ]; then
    echo "note: $name: the pull was over before the kill (exit: $(wait "$bg"; echo $?))"
  else
    kill -KILL "$np"
  fi
  wait "$bg"
  sleep 0.5
  n=$(store_processes "$st")
  if [ -z "$n" ]; then pass "${name}_no_process_left"; else
    fail "${name}_no_process_left" "processes still working on the store: $n" "$(for p in $n; do tr '\0' ' ' < /proc/$p/cmdline; echo; done)"
    for p in $n; do kill -KILL "$p" 2> /dev/null; done
  fi
  capture nk_root "$st" images
  assert_rc "${name}_images_works" 0
  capture nk_root "$st" image inspect "$ref"
  if [ "$RC" = 0 ]; then
    # Registered: then it must be complete.
    local l
    for l in $(jq -r '.[0].RootFS.Layers[]' <<< "$OUT"); do
      [ -d "$(layer_dir "$st" "$l")/etc" ] || fail "${name}_no_half_image" "image registered without layer $l"
    done
  fi
  capture nk_root "$st" pull --tls-verify=false "$ref"
  if [ "$RC" = 0 ]; then pass "${name}_pull_again"; else fail "${name}_pull_again" "exit $RC" "$ERR"; fi
  local dv
  dv=$(cat "$IMG_WORK/images/debian-rootfs/etc/debian_version")
  check_file "${name}_pull_again_content" "$(layer_dir "$st" "$(reg_diff_ids "$ref" | head -n 1)")/etc/debian_version" "$dv"
  [ -z "$(ls -A "$st/tmp" 2> /dev/null)" ] && pass "${name}_tmp_cleaned" || fail "${name}_tmp_cleaned" "$(ls -A "$st/tmp")"
  capture nk_root "$st" images -q
  check_eq "${name}_one_image" 1 "$(printf '%s' "$OUT" | grep -c .)"
}
kill_pull sigkill_early 0.3 "$(new_store store-kill1)" "$REG/debian:layered"
kill_pull sigkill_extracting 1.5 "$(new_store store-kill2)" "$REG/debian:layered"

# Through a throttled proxy (20 MB/s: the 80 MB layer takes 4 s), killed during the download.
PPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_proxy () {
  python3 "$IMG_HELPERS/slowproxy.py" "$PPORT" "$REG" 20000000 > "$TMP/proxy.out" 2>&1 &
  PROXY=$!
  local i
  for i in $(seq 50); do grep -q ready "$TMP/proxy.out" 2> /dev/null && return 0; sleep 0.1; done
  return 1
}
stop_proxy () { [ -n "${PROXY:-}" ] && kill -KILL "$PROXY" 2> /dev/null; wait "${PROXY:-}" 2> /dev/null; PROXY=; }
X=img-$$-$MODE
trap 'stop_proxy; bash "$IMG_HELPERS/registry.sh" stop-extra "$X" 2> /dev/null; rm -f "$IMG_WORK/registry-extra-$X".*; cleanup_suite' EXIT
if start_proxy; then
  kill_pull sigkill_downloading 1.5 "$(new_store store-kill3)" "127.0.0.1:$PPORT/debian:bookworm"

  # --- the registry dies in the middle of a blob -------------------------------------------------------------------
  SR=$(new_store store-regdeath)
  as_mode timeout -k 5 120 "$NOOK" --root "$SR" pull --tls-verify=false "127.0.0.1:$PPORT/debian:bookworm" \
    > "$TMP/rd.out" 2> "$TMP/rd.err" &
  bg=$!
  sleep 1.5
  stop_proxy
  t0=$(date +%s)
  wait "$bg"
  RC=$? OUT=$(cat "$TMP/rd.out") ERR=$(cat "$TMP/rd.err")
  t1=$(date +%s)
  assert_nook_error registry_dies_mid_blob 'connect|connection|transfer|reset|closed|partial|recv|refused|received|timed? ?out'
  [ $((t1 - t0)) -lt 100 ] && pass registry_dies_gives_up || fail registry_dies_gives_up "took $((t1 - t0)) s after the registry died"
  STORE=$SR images_clean registry_dies_no_image 0
  STORE=$SR check_eq registry_dies_no_layer 0 "$(count_layers "$SR")"
  start_proxy
  capture nk_root "$SR" pull --tls-verify=false "127.0.0.1:$PPORT/debian:bookworm"
  if [ "$RC" = 0 ]; then pass registry_back_pull_completes; else fail registry_back_pull_completes "exit $RC" "$ERR"; fi
  check_file registry_back_content "$(layer_dir "$SR" "$(reg_diff_ids "$REG/debian:bookworm")")/etc/debian_version" \
    "$(cat "$IMG_WORK/images/debian-rootfs/etc/debian_version")"
  [ -z "$(ls -A "$SR/tmp" 2> /dev/null)" ] && pass registry_back_tmp_cleaned || fail registry_back_tmp_cleaned "$(ls -A "$SR/tmp")"
  stop_proxy
else
  fail slowproxy "tests/images/slowproxy.py did not start" "$(cat "$TMP/proxy.out")"
fi

# A real docker-registry instance (over the same storage) killed shortly after the pull starts: the pull
# either finished before or fails cleanly; after a restart on the same port it completes.
XA=$(bash "$IMG_HELPERS/registry.sh" start-extra "$X" 2> /dev/null)
if [ -n "$XA" ]; then
  SX=$(new_store store-regkill)
  as_mode timeout -k 5 120 "$NOOK" --root "$SX" pull --tls-verify=false "$XA/debian:bookworm" > "$TMP/rk.out" 2> "$TMP/rk.err" &
  bg=$!
  # Kill the registry as soon as a layer download is in progress (a *.partial file in the store's tmp/).
  for i in $(seq 1000); do
    compgen -G "$SX/tmp/*.partial" > /dev/null && break
    kill -0 "$bg" 2> /dev/null || break
    sleep 0.005
  done
  bash "$IMG_HELPERS/registry.sh" stop-extra "$X"
  wait "$bg"
  RC=$? OUT=$(cat "$TMP/rk.out") ERR=$(cat "$TMP/rk.err")
  if [ "$RC" = 0 ]; then
    echo "note: the pull finished before the registry was killed"
    pass registry_killed_clean_result
  else
    assert_nook_error registry_killed_clean_result
  fi
  XA2=$(bash "$IMG_HELPERS/registry.sh" start-extra "$X" 2> /dev/null)
  check_eq registry_restarted_same_port "$XA" "$XA2"
  capture nk_root "$SX" pull --tls-verify=false "$XA/debian:bookworm"
  if [ "$RC" = 0 ]; then pass registry_restarted_pull_completes; else fail registry_restarted_pull_completes "exit $RC" "$ERR"; fi
  bash "$IMG_HELPERS/registry.sh" stop-extra "$X"
  rm -f "$IMG_WORK/registry-extra-$X".*
else
  fail registry_extra "registry.sh start-extra failed"
fi

finish
