#!/bin/bash
# Credentials stay with the registry: a fake registry (tests/images/registry_fake.py) with token auth that
# redirects every blob to a second "storage" origin, which refuses any request carrying Authorization,
# and serves foreign layers from URLs; plus its transient failures (retries, resume) and lies (a wrong
# Docker-Content-Digest, a missing blob).
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
. "$REPO/tests/images/imagelib.sh"
image_setup

LAYOUT=$IMG_WORK/images/oci
FAKELOG=$TMP/fake.log
FAKEPID=
stop_fake () { [ -n "$FAKEPID" ] && kill "$FAKEPID" 2> /dev/null; wait "$FAKEPID" 2> /dev/null; FAKEPID=; }
trap 'stop_fake; cleanup_suite' EXIT

# Two free ports in a row on 127.0.0.1 (the registry and its storage origin).
PORT=
for _ in $(seq 1 50); do
  p=$((20000 + RANDOM % 20000))
  if ! (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null && ! (exec 3<> "/dev/tcp/127.0.0.1/$((p + 1))") 2> /dev/null; then
    PORT=$p
    break
  fi
done
python3 "$REPO/tests/images/registry_fake.py" "$LAYOUT" "$PORT" testuser:testpass 2>> "$FAKELOG" &
FAKEPID=$!
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/v2/" && break
  sleep 0.1
done
F=127.0.0.1:$PORT
STORAGE=$((PORT + 1))

# auth_lines PORT: the log lines of requests to PORT.
auth_lines () { grep -a "^$1 " "$FAKELOG"; }

pull_ok redirect_pull_with_creds "$F/alpine:3.20" --tls-verify=false --creds testuser:testpass
check_eq redirect_pull_id "$(reg_config_digest "$REG/alpine:3.20")" "$ID"
n_storage=$(auth_lines "$STORAGE" | grep -c ' GET ')
n_leaked=$(auth_lines "$STORAGE" | grep -vc 'auth=none')
if [ "$n_storage" -gt 0 ] && [ "$n_leaked" = 0 ]; then pass redirect_storage_got_no_credentials
else fail redirect_storage_got_no_credentials "storage requests: $n_storage, with Authorization: $n_leaked" "$(auth_lines "$STORAGE")"; fi
if auth_lines "$PORT" | grep -q 'auth=bearer'; then pass redirect_registry_got_token
else fail redirect_registry_got_token "no bearer request to the registry" "$(cat "$FAKELOG")"; fi

: > "$FAKELOG"
S2=$(new_store foreign)
capture nk_root "$S2" pull --tls-verify=false --creds testuser:testpass "$F/foreign:3.20"
if [ "$RC" = 0 ]; then pass foreign_layers_pull; else fail foreign_layers_pull "exit $RC" "$ERR"; fi
n_foreign=$(auth_lines "$STORAGE" | grep -c ' GET ')
n_leaked=$(auth_lines "$STORAGE" | grep -vc 'auth=none')
if [ "$n_foreign" -gt 0 ] && [ "$n_leaked" = 0 ]; then pass foreign_urls_got_no_credentials
else fail foreign_urls_got_no_credentials "foreign requests: $n_foreign, with Authorization: $n_leaked" "$(cat "$FAKELOG")"; fi

S3=$(new_store nocreds)
capture nk_root "$S3" pull --tls-verify=false "$F/alpine:3.20"
assert_nook_error redirect_no_creds_unauthorized 'unauthorized|authentication'

S4=$(new_store flaky)
capture nk_root "$S4" pull --tls-verify=false --creds testuser:testpass "$F/flaky:3.20"
if [ "$RC" = 0 ]; then pass flaky_registry_retried; else fail flaky_registry_retried "exit $RC" "$ERR"; fi
capture nk_root "$S4" pull --tls-verify=false --creds testuser:testpass "$F/baddigest:3.20"
assert_nook_error wrong_docker_content_digest "digest.*(mismatch|differ|does not match)"
S5=$(new_store missing)
capture nk_root "$S5" pull --tls-verify=false --creds testuser:testpass "$F/missing:3.20"
assert_nook_error missing_blob "blob sha256:[0-9a-f]+ not found"
capture nk_root "$S4" images --format '{{.Repository}}:{{.Tag}}'
check_eq failed_pulls_leave_no_image "127.0.0.1:$PORT/flaky:3.20" "$OUT"

stop_fake
finish
