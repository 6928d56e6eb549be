#!/bin/bash
# Bad input: each is one clear error line "nook-runtime: ..." naming what is wrong, exit status 125, and
# nothing left behind (list -q empty, nothing under --root).
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
require_runtime

B=$TMP/bundle
mode_bundle "$B" || { fail make_bundle "could not create a bundle" "$(cd "$TMP" && rt_plain spec 2>&1)"; finish; }
CFG=$B/config.json
cp "$CFG" "$TMP/config.orig"

# bad_config NAME JQ_FILTER WORD: config.json edited by JQ_FILTER makes `create` fail naming WORD.
bad_config () {
  local name=$1 filter=$2 word=$3
  cp "$TMP/config.orig" "$CFG"
  jq_edit "$CFG" "$filter"
  capture rt create -b "$B" "$(new_id)"
  assert_error "$name"
  [ "$RC" != 0 ] && assert_contains "${name}_names_field" "$word" "$ERR"
  no_state_left "${name}_leaves_nothing"
  cp "$TMP/config.orig" "$CFG"
}

# --- config.json ----------------------------------------------------------------------------------------
printf '{ "ociVersion": "1.0.2", "process": ' > "$CFG"
capture rt create -b "$B" "$(new_id)"
assert_error malformed_config
assert_contains malformed_config_names_file config.json "$ERR"
no_state_left malformed_config_leaves_nothing
cp "$TMP/config.orig" "$CFG"

E=$TMP/empty-bundle
mkdir -p "$E"
chmod 0755 "$E"
capture rt create -b "$E" "$(new_id)"
assert_error missing_config
assert_contains missing_config_names_file config.json "$ERR"
no_state_left missing_config_leaves_nothing

capture rt create -b "$TMP/no-such-bundle" "$(new_id)"
assert_error missing_bundle_dir
no_state_left missing_bundle_dir_leaves_nothing

bad_config args_not_array '.process.args = "sh -c true"' args
bad_config args_wrong_element_type '.process.args = ["sh", 1]' args
bad_config args_empty '.process.args = []' args
bad_config mount_relative_destination \
  '.mounts += [{destination: "relative/dir", type: "tmpfs", source: "tmpfs", options: ["nosuid"]}]' destination
bad_config mount_dotdot_destination \
  '.mounts += [{destination: "/../../etc", type: "tmpfs", source: "tmpfs", options: ["nosuid"]}]' destination
bad_config uid_out_of_range '.process.user.uid = 2147483648' uid
bad_config uid_negative '.process.user.uid = -1' uid
bad_config unknown_namespace '.linux.namespaces += [{type: "nosuchns"}]' nosuchns
bad_config unknown_capability '.process.capabilities.bounding += ["CAP_NO_SUCH_CAP"]' CAP_NO_SUCH_CAP
bad_config unknown_rlimit '.process.rlimits = [{type: "RLIMIT_NOSUCH", soft: 1, hard: 1}]' RLIMIT_NOSUCH
bad_config seccomp_unknown_action \
  '.linux.seccomp = {defaultAction: "SCMP_ACT_NOSUCH", syscalls: []}' SCMP_ACT_NOSUCH
bad_config cwd_relative '.process.cwd = "etc"' cwd
bad_config root_path_missing '.root.path = "/nonexistent/nook-rootfs"' /nonexistent/nook-rootfs
bad_config mount_unknown_type '.mounts += [{destination: "/mnt", type: "nosuchfs", source: "none"}]' /mnt
bad_config bind_source_missing \
  '.mounts += [{destination: "/mnt", type: "bind", source: "/nonexistent/nook-src", options: ["rbind"]}]' /nonexistent/nook-src
bad_config hooks_refused '.hooks = {prestart: [{path: "/bin/true"}]}' hooks
# The host's /etc was not touched by the ".." destination.
[ -s /etc/passwd ] && ! grep -q ' /etc tmpfs ' /proc/mounts && pass dotdot_host_etc_untouched ||
  fail dotdot_host_etc_untouched "host /etc looks mounted over"

# --- container ids --------------------------------------------------------------------------------------
long=$(printf 'a%.0s' $(seq 1025))
for bad in "../x" "" "a/b" "." ".." "$long"; do
  label=${bad:0:12}
  capture rt create -b "$B" "$bad"
  assert_error "invalid_id[$label]"
  no_state_left "invalid_id_leaves_nothing[$label]"
done
[ ! -e "$TMP/x" ] && [ ! -e "$(dirname "$RTROOT")/x" ] && pass invalid_id_no_escape ||
  fail invalid_id_no_escape "something was created beside --root"

# --- verbs on unknown containers, unknown verbs and flags ------------------------------------------------
for verb in start state delete kill ps; do
  capture rt "$verb" nosuch-container
  assert_error "${verb}_unknown_container"
done
capture rt exec nosuch-container true
assert_error exec_unknown_container
capture rt no-such-verb
[ "$RC" != 0 ] && pass unknown_verb || fail unknown_verb "exit 0"
capture rt create --no-such-flag -b "$B" "$(new_id)"
[ "$RC" != 0 ] && pass unknown_flag || fail unknown_flag "exit 0"
no_state_left unknown_flag_leaves_nothing

# --- --log / --log-format json carries the error ---------------------------------------------------------
L=$TMP/logs
mkdir -p "$L"
[ "$MODE" = rootless ] && chown "$TEST_UID:$TEST_GID" "$L"
capture rt --log "$L/log.json" --log-format json state nosuch-container
assert_error log_json_error_exit
if [ -s "$L/log.json" ] && jq -e -s 'all(.[]; .msg and .level) and any(.[]; .level == "error")' "$L/log.json" > /dev/null 2>&1; then
  pass log_json_lines
else
  fail log_json_lines "log file: '$(head -c 300 "$L/log.json" 2> /dev/null)'"
fi

# --- rootless: a sub-id range the user does not own ------------------------------------------------------
if [ "$MODE" = rootless ]; then
  jq_edit "$CFG" '.linux.uidMappings = [{containerID: 0, hostID: $uid, size: 1}, {containerID: 1, hostID: 300000, size: 65536}]' \
    --argjson uid "$TEST_UID"
  capture rt run -b "$B" "$(new_id)"
  assert_error unowned_subuid_range
  assert_contains unowned_subuid_newuidmap_message newuidmap "$ERR"
  no_state_left unowned_subuid_leaves_nothing
  cp "$TMP/config.orig" "$CFG"
  jq_edit "$CFG" '.linux.gidMappings = [{containerID: 0, hostID: $gid, size: 1}, {containerID: 1, hostID: 300000, size: 65536}]' \
    --argjson gid "$TEST_GID"
  capture rt run -b "$B" "$(new_id)"
  assert_error unowned_subgid_range
  assert_contains unowned_subgid_newgidmap_message newgidmap "$ERR"
  no_state_left unowned_subgid_leaves_nothing
  cp "$TMP/config.orig" "$CFG"
  # No leftover processes of the test user from the failed runs.
  sleep 0.3
  left=$(ps -u "$TEST_UID" -o pid=,stat=,args= | awk '$2 !~ /^Z/' || true)
  [ -z "$left" ] && pass unowned_range_no_processes_left || fail unowned_range_no_processes_left "processes left" "$left"
fi

finish
