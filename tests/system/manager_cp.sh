#!/bin/bash
# nook cp (host <-> container, running and stopped, files and trees, symlinks resolved inside the
# container, -a, "-" tar streams), run --init, rm -v (anonymous volumes), the rmi / image prune guard
# for images that containers use.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
. "$REPO/tests/images/imagelib.sh"
image_setup

A=$REG/alpine:3.20
RUNROOT=$(user_dir runroot)
H=$(user_dir host)
MARK=nook-cp-$$-$RANDOM   # a name that must never appear in the host's /tmp

nc () { as_mode timeout -k 5 "$NK_TIMEOUT" "$NOOK" --root "$STORE" --runroot "$RUNROOT" "$@"; }
nc_sh () { as_mode bash -c "$1"; }   # a host shell as the mode's user
rm_all () { local c; for c in $(nc ps -aq 2> /dev/null); do nc rm -f "$c" > /dev/null 2>&1; done; }
trap 'rm_all; cleanup_suite' EXIT

# Owner (uid:gid) on the host of container id N.
host_ids () { if [ "$MODE" = rootless ]; then echo "$((SUBID_START + $1 - 1)):$((SUBGID_START + $1 - 1))"; else echo "$1:$1"; fi; }
me () { if [ "$MODE" = rootless ]; then echo "$TEST_UID:$TEST_GID"; else echo 0:0; fi; }

if ! pull_ok pull "$A" --tls-verify=false; then finish; fi

SETUP='echo inside > /etc/nookmark; ln -s /etc /link; ln -s /../../../../tmp /esc
  mkdir -p /srv/tree/sub; echo a > /srv/tree/sub/a; chmod 700 /srv/tree/sub; ln -s /etc/nookmark /srv/tree/l
  echo owned > /srv/owned; chown 1000:1001 /srv/owned; chmod 600 /srv/owned'

# --- a running container -----------------------------------------------------------------------------
capture nc run -d --name run1 "$A" sh -c "$SETUP; sleep 600"
assert_rc run_detached 0
for i in $(seq 50); do nc exec run1 test -f /srv/owned 2> /dev/null && break; sleep 0.1; done

capture nc cp run1:/link/nookmark "$H/mark1"
assert_rc cp_running_out_rc 0
check_eq cp_running_symlink_in_container inside "$(cat "$H/mark1" 2>&1)"
capture nc cp run1:/link/passwd "$H/passwd1"
check_eq cp_running_link_passwd "$(nc exec run1 cat /etc/passwd)" "$(cat "$H/passwd1" 2>&1)"
check_eq cp_out_owner_caller "$(me)" "$(stat -c %u:%g "$H/passwd1" 2>&1)"

nc_sh "echo hostdata > '$H/f1'; chmod 640 '$H/f1'"
capture nc cp "$H/f1" "run1:/esc/$MARK"
assert_rc cp_running_in_rc 0
check_eq cp_in_escape_stays_inside hostdata "$(nc exec run1 cat "/tmp/$MARK" 2>&1)"
[ -e "/tmp/$MARK" ] && fail cp_in_escape_not_on_host "/tmp/$MARK exists on the host" || pass cp_in_escape_not_on_host
check_eq cp_in_mode_owner "640 0:0" "$(nc exec run1 stat -c '%a %u:%g' "/tmp/$MARK" 2>&1)"

# a tree into the container: modes, symlinks, root ownership
nc_sh "mkdir -p '$H/tree/sub'; echo b > '$H/tree/sub/b'; chmod 700 '$H/tree/sub'; chmod 751 '$H/tree'; ln -s /etc/nookmark '$H/tree/l'"
capture nc cp "$H/tree" run1:/srv/
assert_rc cp_tree_in_rc 0
check_eq cp_tree_in_content b "$(nc exec run1 cat /srv/tree/sub/b 2>&1)"
check_eq cp_tree_in_modes "751 700 0:0" "$(nc exec run1 stat -c '%a' /srv/tree 2>&1) $(nc exec run1 stat -c '%a %u:%g' /srv/tree/sub 2>&1)"
check_eq cp_tree_in_symlink /etc/nookmark "$(nc exec run1 readlink /srv/tree/l 2>&1)"

# a tree out of the container (the source's /srv/tree now merged with ours)
capture nc cp run1:/srv/tree "$H/out1"
assert_rc cp_tree_out_rc 0
check_eq cp_tree_out_content "a b" "$(cat "$H/out1/sub/a" "$H/out1/sub/b" 2>&1 | xargs)"
check_eq cp_tree_out_mode 700 "$(stat -c %a "$H/out1/sub" 2>&1)"
check_eq cp_tree_out_symlink_kept /etc/nookmark "$(readlink "$H/out1/l" 2>&1)"
# SRC/. copies the contents
nc_sh "mkdir -p '$H/out2'"
capture nc cp run1:/srv/tree/. "$H/out2"
check_eq cp_dot_contents "a" "$(cat "$H/out2/sub/a" 2>&1)"

# -a keeps the container's ids; without it the caller owns the copy
capture nc cp run1:/srv/owned "$H/owned0"
check_eq cp_out_no_archive_owner "$(me)" "$(stat -c %u:%g "$H/owned0" 2>&1)"
capture nc cp -a run1:/srv/owned "$H/owned1"
assert_rc cp_archive_out_rc 0
check_eq cp_archive_out_owner "$(host_ids 1000 | cut -d: -f1):$(host_ids 1001 | cut -d: -f2)" "$(stat -c %u:%g "$H/owned1" 2>&1)"
if [ "$MODE" = root ]; then
  echo x > "$H/f2"
  chown 1234:2345 "$H/f2"
  capture nc cp -a "$H/f2" run1:/srv/f2
  check_eq cp_archive_in_owner "1234:2345" "$(nc exec run1 stat -c '%u:%g' /srv/f2 2>&1)"
  capture nc cp "$H/f2" run1:/srv/f3
  check_eq cp_no_archive_in_owner "0:0" "$(nc exec run1 stat -c '%u:%g' /srv/f3 2>&1)"
fi

# tar streams
capture as_mode bash -c "'$NOOK' --root '$STORE' --runroot '$RUNROOT' cp run1:/link/nookmark - | tar -tvf -"
assert_contains cp_stream_out nookmark "$OUT"
nc_sh "cd '$H' && tar -cf stream.tar tree"
capture as_mode bash -c "'$NOOK' --root '$STORE' --runroot '$RUNROOT' cp - run1:/opt < '$H/stream.tar'"
assert_rc cp_stream_in_rc 0
check_eq cp_stream_in_content b "$(nc exec run1 cat /opt/tree/sub/b 2>&1)"

capture nc cp run1:/no/such/file "$H/x"
assert_nook_error cp_missing_source "could not be found on container"
capture nc cp "$H/f1" "$H/f9"
assert_nook_error cp_needs_a_container "must use just one container"

# --- a stopped container ------------------------------------------------------------------------------
capture nc stop -t 0 run1
capture nc cp run1:/link/nookmark "$H/mark2"
assert_rc cp_stopped_out_rc 0
check_eq cp_stopped_symlink_in_container inside "$(cat "$H/mark2" 2>&1)"
nc_sh "echo stopped > '$H/f4'"
capture nc cp "$H/f4" "run1:/esc/$MARK.2"
assert_rc cp_stopped_in_rc 0
[ -e "/tmp/$MARK.2" ] && fail cp_stopped_escape_not_on_host "/tmp/$MARK.2 exists on the host" || pass cp_stopped_escape_not_on_host
capture nc cp run1:/srv/tree "$H/out3"
check_eq cp_stopped_tree_out "a b" "$(cat "$H/out3/sub/a" "$H/out3/sub/b" 2>&1 | xargs)"
capture nc start run1
check_eq cp_stopped_in_visible stopped "$(nc exec run1 cat "/tmp/$MARK.2" 2>&1)"
check_eq cp_stopped_in_owner "0:0" "$(nc exec run1 stat -c '%u:%g' "/tmp/$MARK.2" 2>&1)"
grep -q "$STORE" /proc/mounts && fail cp_no_mount_left "a mount of the store is left on the host" "$(grep "$STORE" /proc/mounts)" || pass cp_no_mount_left

# --- --init ----------------------------------------------------------------------------------------------
capture nc run --rm --init "$A" ps -o pid,comm
assert_rc init_rc 0
if printf '%s\n' "$OUT" | grep -Eq '^ *1 +(nook-init|catatonit|tini)'; then pass init_is_pid1; else fail init_is_pid1 "pid 1 is not the init" "$OUT"; fi
capture nc run --rm --init "$A" sh -c 'exit 7'
assert_rc init_exit_code 7

# --- rm -v: anonymous volumes -------------------------------------------------------------------------------
capture nc run --name vol1 -v /data -v "named$$:/named" "$A" sh -c 'mkdir /data/d; echo x > /data/d/f; chown -R 1000:1000 /data/d; chmod 700 /data/d; echo y > /named/f'
anon=$(nc inspect vol1 --format '{{range .Mounts}}{{if eq .Destination "/data"}}{{.Name}}{{end}}{{end}}' 2> /dev/null)
if [[ $anon =~ ^[0-9a-f]{64}$ ]] && [ -d "$STORE/volumes/$anon" ]; then pass anon_volume_created; else fail anon_volume_created "'$anon'"; fi
capture nc rm -v vol1
assert_rc rm_v_rc 0
[ -n "$anon" ] && [ ! -e "$STORE/volumes/$anon" ] && pass rm_v_removes_anonymous || fail rm_v_removes_anonymous "$STORE/volumes/$anon is left" "$ERR"
[ -d "$STORE/volumes/named$$" ] && pass rm_v_keeps_named || fail rm_v_keeps_named "named volume gone"
capture nc run --name vol2 -v /data "$A" true
anon2=$(nc inspect vol2 --format '{{range .Mounts}}{{.Name}}{{end}}' 2> /dev/null)
capture nc rm vol2
[ -n "$anon2" ] && [ -d "$STORE/volumes/$anon2" ] && pass rm_keeps_anonymous_without_v || fail rm_keeps_anonymous_without_v "'$anon2'"

# --rm: the monitor removes the container, and its anonymous volumes with it (named ones stay)
before=$(ls "$STORE/volumes" 2> /dev/null | sort | xargs)
capture nc run --rm -v /data -v "named$$:/named" "$A" sh -c 'echo x > /data/f'
assert_rc run_rm_rc 0
for i in $(seq 50); do [ -z "$(nc ps -aq 2> /dev/null)" ] && break; sleep 0.1; done
check_eq run_rm_removes_anonymous "$before" "$(ls "$STORE/volumes" 2> /dev/null | sort | xargs)"

# --- rmi / prune guard ------------------------------------------------------------------------------------
layers_before=$(ls "$STORE/layers" 2> /dev/null | sort | xargs)
capture nc rmi "$A"
RC_WANT=2 assert_nook_error rmi_in_use "image used by [0-9a-f]{64}: image is in use by a container"
capture nc image exists "$A"
assert_rc rmi_in_use_kept 0
capture nc image prune -a -f
capture nc image exists "$A"
assert_rc prune_skips_in_use 0
check_eq prune_keeps_layers "$layers_before" "$(ls "$STORE/layers" 2> /dev/null | sort | xargs)"
capture nc rmi -f "$A"
assert_rc rmi_force_rc 0
capture nc ps -aq
check_eq rmi_force_removed_containers "" "$OUT"
capture nc image exists "$A"
assert_rc rmi_force_removed_image 1

finish
