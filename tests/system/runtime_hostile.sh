#!/bin/bash
# The runtime against odd requests (issue 15): linux.timeOffsets applied to a new time namespace (read back
# from inside), refused without one; delete --force of a missing container succeeds as with runc and crun.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
require_runtime

B=$TMP/bundle
mode_bundle "$B" || { fail make_bundle "could not create a bundle"; finish; }
CFG=$B/config.json

# --- linux.timeOffsets ---------------------------------------------------------------------------------------
jq_edit "$CFG" '.linux.namespaces += [{type: "time"}]
  | .linux.timeOffsets = {monotonic: {secs: 86400, nanosecs: 5}, boottime: {secs: 172800}}'
ct_sh "$B" 'awk "{ print \$1, \$2, \$3 }" /proc/self/timens_offsets'
assert_ok time_offsets_applied "$(printf 'monotonic 86400 5\nboottime 172800 0')"
ct_sh "$B" 'cut -d. -f1 /proc/uptime'
host_up=$(cut -d. -f1 /proc/uptime)
if [ "$RC" = 0 ] && [ "$OUT" -ge $((host_up + 172800 - 5)) ] 2> /dev/null; then pass time_offsets_boottime_seen
else fail time_offsets_boottime_seen "container uptime '$OUT', host $host_up" "$ERR"; fi
jq_edit "$CFG" '.linux.namespaces |= map(select(.type != "time"))'
ct "$B" true
assert_error time_offsets_without_time_ns
assert_contains time_offsets_without_time_ns_message timeOffsets "$ERR"
jq_edit "$CFG" 'del(.linux.timeOffsets) | .linux.namespaces += [{type: "time"}]'
ct_sh "$B" 'awk "{ print \$1, \$2, \$3 }" /proc/self/timens_offsets'
assert_ok time_ns_without_offsets "$(printf 'monotonic 0 0\nboottime 0 0')"

# --- delete --force of a missing container ------------------------------------------------------------------------
capture rt delete --force "nosuch-$$"
assert_rc delete_force_missing_exit_0 0
check_err_empty () { if [ -z "$ERR" ]; then pass "$1"; else fail "$1" "stderr: $ERR"; fi; }
check_err_empty delete_force_missing_silent
capture rt delete "nosuch-$$"
assert_rc delete_missing_without_force_fails 125

finish
