#!/bin/bash
# The container lifecycle without a daemon: run -d, logs (-f, -t, --tail), exec (-u, -w, -e, exit codes),
# stop, kill, wait, start -a, restart, rm -f, ps (--format, -q, --no-trunc, -a), inspect templates as
# distrobox uses them, rename, container exists / prune, name collisions, and state that stays accurate
# when the CLI has exited, the container's process was SIGKILLed or its monitor was SIGKILLed.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
. "$REPO/tests/images/imagelib.sh"
. "$REPO/tests/system/manager_lib.bash"
mgr_setup

# --- run -d ------------------------------------------------------------------------------------------------
capture n run -d --name d1 "$IMG" sh -c 'echo main > /tmp/mainfile; exec sleep 300'
ID1=$OUT
check_re run_d_prints_id '^[0-9a-f]{64}$' "$ID1"
check_eq run_d_running_at_once running "$(ins d1 '{{.State.Status}}')"
check_eq inspect_running_bool true "$(ins d1 '{{.State.Running}}')"
pid1=$(ins d1 '{{.State.Pid}}')
if [ -n "$pid1" ] && alive "$pid1"; then pass inspect_pid_alive; else fail inspect_pid_alive "State.Pid '$pid1' is not a live process"; fi
check_eq ps_after_cli_exit "d1 running" "$(n ps --format '{{.Names}} {{.State}}' 2>&1)"
check_eq container_exists_name 0 "$(n container exists d1; echo $?)"
check_eq container_exists_id 0 "$(n container exists "${ID1:0:12}"; echo $?)"
check_eq container_exists_missing 1 "$(n container exists nosuch-ctr; echo $?)"

# --- exec ---------------------------------------------------------------------------------------------------
sleep 0.3
capture n exec d1 ps -o pid,comm
assert_contains exec_same_pidns "1 sleep" "$OUT"
capture n exec d1 cat /tmp/mainfile
assert_ok exec_same_fs main
capture n exec -u nobody d1 id -u
assert_ok exec_user 65534
capture n exec -u 1000:1000 d1 sh -c 'id -u; id -g'
assert_ok exec_user_uid_gid "1000
1000"
capture n exec -w /etc d1 pwd
assert_ok exec_workdir /etc
capture n exec -e XVAR=xval d1 sh -c 'echo $XVAR; printenv container'
assert_ok exec_env "xval
nook"
capture n exec d1 sh -c 'awk "/^CapEff/ { print \$2 }" /proc/self/status'
assert_ok exec_caps 00000000800405fb
capture n exec --privileged d1 sh -c 'awk "/^CapEff/ { print \$2 }" /proc/self/status'
assert_ok exec_privileged_caps "$(all_caps)"
capture n exec d1 sh -c 'exit 3'
assert_rc exec_exit_3 3
RC_WANT=127
capture n exec d1 nosuch
assert_nook_error exec_exit_127
RC_WANT=126
capture n exec d1 /etc
assert_nook_error exec_exit_126
unset RC_WANT
capture n exec nosuch-ctr true
assert_nook_error exec_missing_container 'nosuch-ctr'
out=$(printf 'via stdin\n' | n exec -i d1 cat 2>&1)
check_eq exec_stdin "via stdin" "$out"
# Without -i the process reads /dev/null (podman), not our stdin.
out=$(printf 'not for you\n' | n exec d1 sh -c 'cat; readlink /proc/self/fd/0' 2>&1)
check_eq exec_no_i_stdin_devnull "/dev/null" "$out"
# exec -d detaches completely: $(…) returns at once with the session id, the process keeps running with
# /dev/null for its stdio.
start=$(date +%s)
out=$(n exec -d d1 sh -c 'sleep 5; touch /tmp/detached-done' 2>&1)
took=$(( $(date +%s) - start ))
check_re exec_detach_prints_session_id '^[0-9a-f]{64}$' "$out"
if [ "$took" -lt 5 ]; then pass exec_detach_returns_at_once; else fail exec_detach_returns_at_once "took ${took}s"; fi
capture n exec d1 sh -c 'for p in /proc/[0-9]*; do [ "$(cat $p/cmdline 2>/dev/null | tr "\0" " ")" = "sleep 5 " ] && readlink $p/fd/1; done | head -n 1'
check_eq exec_detach_stdout_devnull /dev/null "$OUT"

# --- logs ---------------------------------------------------------------------------------------------------
n run -d --name lg "$IMG" sh -c 'for i in 1 2 3 4 5; do echo line$i; sleep 0.4; done; echo err >&2' > /dev/null 2>&1
start=$(date +%s.%N)
capture n logs -f lg
end=$(date +%s.%N)
check_eq logs_follow_order "line1 line2 line3 line4 line5 err" "$(printf '%s\n' "$OUT" "$ERR" | grep . | tr '\n' ' ' | sed 's/ $//')"
check_eq logs_follow_stderr err "$ERR"
if [ "$RC" = 0 ] && awk -v s="$start" -v e="$end" 'BEGIN { exit !(e - s >= 1.0 && e - s < 10) }'; then
  pass logs_follow_ends_with_container
else
  fail logs_follow_ends_with_container "rc=$RC, took $(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }') s (expected 1.5-10 s: it must follow, then end)"
fi
wait_state lg exited 10
capture n logs lg
check_eq logs_after_exit "line1 line2 line3 line4 line5" "$(printf '%s\n' "$OUT" | tr '\n' ' ' | sed 's/ $//')"
capture n logs --tail 2 lg
check_eq logs_tail_2 "line5" "$OUT"
capture n logs --tail 3 lg
check_eq logs_tail_3_both_streams "line4 line5 err" "$(printf '%s\n' "$OUT" "$ERR" | grep . | tr '\n' ' ' | sed 's/ $//')"
capture n logs -t lg
first=$(printf '%s\n' "$OUT" | head -n 1)
check_re logs_timestamps '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}) line1$' "$first"
# logs -f of a container that already exited returns at once.
capture n logs -f lg
check_eq logs_follow_exited "line1 line2 line3 line4 line5" "$(printf '%s\n' "$OUT" | tr '\n' ' ' | sed 's/ $//')"
# Following starts before the container prints.
n run -d --name lg2 "$IMG" sh -c 'sleep 1; echo late1; sleep 0.5; echo late2' > /dev/null 2>&1
capture n logs -f lg2
check_eq logs_follow_late_output "late1 late2" "$(printf '%s\n' "$OUT" | tr '\n' ' ' | sed 's/ $//')"

# --- wait, kill ---------------------------------------------------------------------------------------------
capture n run -d --name k1 "$IMG" sleep 300
capture n kill k1
assert_rc kill_rc 0
capture n wait k1
assert_ok wait_after_kill_137 137
check_eq inspect_exitcode_137 137 "$(ins k1 '{{.State.ExitCode}}')"
check_eq ps_exited_after_kill "k1 exited" "$(n ps -a --filter name=k1 --format '{{.Names}} {{.State}}' 2>&1)"
capture n run -d --name k2 "$IMG" sh -c 'trap "exit 9" USR1; while :; do sleep 0.1; done'
sleep 0.3
n kill -s USR1 k2 > /dev/null 2>&1
capture n wait k2
assert_ok kill_signal_usr1 9
capture n run -d --name w3 "$IMG" sh -c 'sleep 0.5; exit 5'
capture n wait w3
assert_ok wait_exit_5 5

# --- stop ---------------------------------------------------------------------------------------------------
capture n run -d --name st1 "$IMG" sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done'
sleep 0.3
start=$(date +%s.%N)
capture n stop st1
end=$(date +%s.%N)
assert_ok stop_prints_name st1
if awk -v s="$start" -v e="$end" 'BEGIN { exit !(e - s < 3) }'; then pass stop_trapping_shell_quick
else fail stop_trapping_shell_quick "stop took $(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }') s"; fi
check_eq stop_trap_exit_code 7 "$(ins st1 '{{.State.ExitCode}}')"
check_eq stop_status_exited exited "$(ins st1 '{{.State.Status}}')"
capture n run -d --name st2 "$IMG" sleep 300
start=$(date +%s.%N)
capture n stop -t 1 st2
end=$(date +%s.%N)
if [ "$RC" = 0 ] && awk -v s="$start" -v e="$end" 'BEGIN { exit !(e - s >= 0.9 && e - s < 5) }'; then pass stop_t1_sleep_timing
else fail stop_t1_sleep_timing "rc=$RC, stop -t 1 took $(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }') s (expected ~1 s)" "$ERR"; fi
check_eq stop_sleep_137 137 "$(ins st2 '{{.State.ExitCode}}')"
capture n stop st2
assert_rc stop_already_stopped 0

# --- create / start -a / restart ----------------------------------------------------------------------------
capture n create --name cr1 "$IMG" echo hello-start
check_re create_prints_id '^[0-9a-f]{64}$' "$OUT"
check_eq created_status created "$(ins cr1 '{{.State.Status}}')"
capture n start -a cr1
assert_ok start_attach hello-start
check_eq start_attach_exited exited "$(ins cr1 '{{.State.Status}}')"
capture n start -a cr1
assert_ok start_attach_again hello-start
capture n run -d --name rs1 "$IMG" sleep 300
p_old=$(ins rs1 '{{.State.Pid}}')
capture n restart -t 0 rs1
assert_rc restart_rc 0
p_new=$(ins rs1 '{{.State.Pid}}')
check_eq restart_running running "$(ins rs1 '{{.State.Status}}')"
if [ -n "$p_new" ] && [ "$p_new" != "$p_old" ] && [ "$p_new" != 0 ] && alive "$p_new"; then pass restart_new_process
else fail restart_new_process "pid before $p_old, after $p_new"; fi
if ! alive "$p_old"; then pass restart_old_process_gone; else fail restart_old_process_gone "old pid $p_old still alive"; fi
capture n exec rs1 sh -c 'tr "\0" " " < /proc/1/cmdline'
check_eq restart_exec_works "sleep 300 " "$OUT"

# --- rm -f -----------------------------------------------------------------------------------------------------
capture n run -d --name rmf "$IMG" sleep 300
prmf=$(ins rmf '{{.State.Pid}}')
capture n rm rmf
assert_nook_error rm_running_refused 'running|stop'
capture n rm -f rmf
assert_ok rm_force_running rmf
check_eq rm_force_gone 1 "$(n container exists rmf; echo $?)"
if wait_pid_gone "$prmf" 5; then pass rm_force_kills_process; else fail rm_force_kills_process "pid $prmf still alive"; fi

# --- ps --------------------------------------------------------------------------------------------------------
capture n ps -a --format '{{.Names}} {{.State}}'
ps_all=$(printf '%s\n' "$OUT" | sort | tr '\n' ',')
check_eq ps_a_format "cr1 exited,d1 running,k1 exited,k2 exited,lg exited,lg2 exited,rs1 running,st1 exited,st2 exited,w3 exited," "$ps_all"
capture n ps --format '{{.Names}}'
check_eq ps_running_only "d1 rs1" "$(printf '%s\n' "$OUT" | sort | tr '\n' ' ' | sed 's/ $//')"
capture n ps -q
check_eq ps_q_short_ids "$(printf '%s\n' "$(ins d1 '{{.Id}}' | cut -c1-12)" "$(ins rs1 '{{.Id}}' | cut -c1-12)" | sort | tr '\n' ' ')" "$(printf '%s\n' "$OUT" | sort | tr '\n' ' ')"
capture n ps -q --no-trunc --filter name=d1
check_eq ps_q_no_trunc "$ID1" "$OUT"
capture n ps --no-trunc --filter name=d1
assert_contains ps_no_trunc_table "$ID1" "$OUT"
# A template sees podman's 12-digit .ID, --no-trunc the whole one.
capture n ps --filter name=d1 --format '{{.ID}}'
check_eq ps_format_id_12 "${ID1:0:12}" "$OUT"
capture n ps --filter name=d1 --no-trunc --format '{{.ID}}'
check_eq ps_format_id_no_trunc "$ID1" "$OUT"
capture n ps -a
if printf '%s\n' "$OUT" | head -n 1 | grep -Eq '^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$'; then pass ps_table_header
else fail ps_table_header "unexpected header" "$OUT"; fi
if printf '%s\n' "$OUT" | grep -E "^${ID1:0:12} " | grep -q 'Up '; then pass ps_table_up; else fail ps_table_up "no 'Up' status for d1" "$OUT"; fi
if printf '%s\n' "$OUT" | grep -E ' k1$' | grep -q 'Exited (137)'; then pass ps_table_exited; else fail ps_table_exited "no 'Exited (137)' for k1" "$OUT"; fi
capture n ps -a --filter status=exited --format '{{.Names}}'
check_eq ps_filter_status "cr1 k1 k2 lg lg2 st1 st2 w3" "$(printf '%s\n' "$OUT" | sort | tr '\n' ' ' | sed 's/ $//')"
capture n ps -a --format json
# podman: "Names" and "Command" are arrays of strings.
check_eq ps_format_json "d1 array sh" "$(printf '%s' "$OUT" | jq -r '.[] | select((.Names | if type == "array" then .[0] else . end) == "d1") | "\(.Names | if type == "array" then .[0] else . end) \(.Names | type) \(.Command | if type == "array" then .[0] else . end)"' 2>&1)"

# --- inspect templates (distrobox) -----------------------------------------------------------------------------
capture n run -d --name dbx --label manager=distrobox -e DBX=1 -v "$(mgr_dir insp):/insp" --tmpfs /tt "$IMG" sleep 300
check_eq inspect_status running "$(ins dbx '{{.State.Status}}')"
check_eq inspect_image "$IMG" "$(ins dbx '{{.Config.Image}}')"
check_eq inspect_label distrobox "$(ins dbx '{{index .Config.Labels "manager"}}')"
check_eq inspect_label_missing "" "$(ins dbx '{{index .Config.Labels "nosuch"}}')"
assert_contains inspect_mounts "/insp " "$(ins dbx '{{range .Mounts}}{{.Destination}} {{end}}')"
envj=$(ins dbx '{{json .Config.Env}}')
check_eq inspect_env_json "1 nook" "$(printf '%s' "$envj" | jq -r '[.[] | select(startswith("DBX=") or startswith("container=")) | sub("^[^=]*="; "")] | sort | join(" ")' 2>&1)"
check_eq inspect_name dbx "$(ins dbx '{{.Name}}')"
check_eq inspect_hostconfig_tmpfs "1" "$(n inspect dbx 2> /dev/null | jq -r '.[0].HostConfig.Tmpfs | length' 2>&1)"
check_eq inspect_json_array_name dbx "$(n inspect dbx 2> /dev/null | jq -r '.[0].Name' 2>&1)"
check_eq inspect_two "dbx d1" "$(n inspect --format '{{.Name}}' dbx d1 2> /dev/null | tr '\n' ' ' | sed 's/ $//')"
capture n inspect nosuch-ctr
assert_nook_error inspect_missing 'nosuch-ctr'

# --- rename, collision, prune ----------------------------------------------------------------------------------
capture n rename dbx dbx2
assert_rc rename_rc 0
check_eq rename_new_exists 0 "$(n container exists dbx2; echo $?)"
check_eq rename_old_gone 1 "$(n container exists dbx; echo $?)"
check_eq rename_inspect_name dbx2 "$(ins dbx2 '{{.Name}}')"
capture n exec dbx2 cat /run/.containerenv
assert_contains rename_running_still_execs 'id=' "$OUT"
capture n run -d --name d1 "$IMG" true
assert_nook_error name_collision 'already in use|exists'
capture n create --name dbx2 "$IMG" true
assert_nook_error name_collision_create 'already in use|exists'
capture n rename d1 dbx2
assert_nook_error rename_collision 'already in use|exists'

capture n container prune -f
pruned=$(printf '%s\n' "$OUT" | grep -c .)
check_eq prune_removed_exited 8 "$pruned"
check_eq prune_kept_running "d1 dbx2 rs1" "$(n ps -a --format '{{.Names}}' 2>&1 | sort | tr '\n' ' ' | sed 's/ $//')"

# --- state after the container's process or its monitor is SIGKILLed --------------------------------------------
capture n run -d --name kc "$IMG" sleep 300
pkc=$(ins kc '{{.State.Pid}}')
kill -9 "$pkc" 2> /dev/null
if wait_state kc exited 10; then pass ps_exited_after_kill9_process; else fail ps_exited_after_kill9_process "status '$(ins kc '{{.State.Status}}')'"; fi
check_eq ps_format_after_kill9 "kc exited" "$(n ps -a --filter name=kc --format '{{.Names}} {{.State}}' 2>&1)"
check_eq exitcode_after_kill9 137 "$(ins kc '{{.State.ExitCode}}')"

capture n run -d --name km "$IMG" sleep 300
pkm=$(ins km '{{.State.Pid}}')
mon=$(ins km '{{.State.ConmonPid}}')
if [ -n "$mon" ] && [ "$mon" != 0 ] && alive "$mon"; then pass conmon_pid_alive; else fail conmon_pid_alive "ConmonPid '$mon'"; fi
kill -9 "$mon" 2> /dev/null
wait_pid_gone "$mon" 5
sleep 0.3
check_eq monitor_killed_still_running running "$(ins km '{{.State.Status}}')"
check_eq monitor_killed_ps "km running" "$(n ps --filter name=km --format '{{.Names}} {{.State}}' 2>&1)"
capture n exec km echo still
assert_ok monitor_killed_exec still
kill -9 "$pkm" 2> /dev/null
if wait_state km exited 10; then pass monitor_killed_then_process_exited; else fail monitor_killed_then_process_exited "status '$(ins km '{{.State.Status}}')'"; fi
capture n rm km
assert_rc monitor_killed_rm 0

capture n run -d --name km2 "$IMG" sleep 300
mon=$(ins km2 '{{.State.ConmonPid}}')
kill -9 "$mon" 2> /dev/null
wait_pid_gone "$mon" 5
capture n stop -t 1 km2
assert_rc monitor_killed_stop 0
check_eq monitor_killed_stop_exited exited "$(ins km2 '{{.State.Status}}')"
capture n rm -f km2 kc
assert_rc rm_two 0

finish
