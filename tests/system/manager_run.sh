#!/bin/bash
# nook run: what the container sees — id maps and ownership, keep-id, capabilities, --privileged, masked
# and read-only paths, seccomp, /dev/shm, the generated /etc files and /run/.containerenv, environment,
# -w, -u, --entrypoint, --hostname, --read-only, volumes, bind and tmpfs mounts, labels, ulimits,
# resource limits, pid and network namespaces, and the exit codes.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
. "$REPO/tests/images/imagelib.sh"
. "$REPO/tests/system/manager_lib.bash"
mgr_setup

# --- user namespace -------------------------------------------------------------------------------------
nrun --rm "$IMG" cat /proc/self/uid_map
map=$(printf '%s\n' "$OUT" | awk '{ print $1, $2, $3 }')
if [ "$MODE" = rootless ]; then
  assert_eq uid_map "0 $TEST_UID 1
1 $SUBID_START 65536" "$map"
else
  assert_eq uid_map "0 0 4294967295" "$map"
fi
nrun --rm "$IMG" cat /proc/self/gid_map
map=$(printf '%s\n' "$OUT" | awk '{ print $1, $2, $3 }')
if [ "$MODE" = rootless ]; then
  assert_eq gid_map "0 $TEST_GID 1
1 $SUBGID_START 65536" "$map"
else
  assert_eq gid_map "0 0 4294967295" "$map"
fi

# Root in the container is the user: files it creates in a bind mount belong to the user on the host.
BD=$(mgr_dir bind)
nrun --rm -v "$BD:/data" "$IMG" sh -c 'touch /data/byroot && mkdir /data/dir && chown 1:1 /data/dir && id -u'
assert_ok bind_write_as_root 0
check_eq bind_file_owner_host "$(host_uid 0):$(host_gid 0)" "$(stat -c %u:%g "$BD/byroot" 2>&1)"
check_eq bind_chown_owner_host "$(host_uid 1):$(host_gid 1)" "$(stat -c %u:%g "$BD/dir" 2>&1)"

if [ "$MODE" = rootless ]; then
  nrun --rm --userns keep-id "$IMG" sh -c 'id -u; id -g'
  assert_ok userns_keep_id "$TEST_UID
$TEST_GID"
  # podman adds the user to the container's /etc/passwd (name, home, shell).
  nrun --rm --userns keep-id "$IMG" sh -c 'id -un; grep "^$(id -un 2> /dev/null):" /etc/passwd | cut -d: -f3,6'
  assert_ok userns_keep_id_passwd "$TEST_USER
$TEST_UID:/home/$TEST_USER"
  nrun --rm --userns keep-id -v "$BD:/data" "$IMG" sh -c 'touch /data/bykeepid'
  check_eq keep_id_file_owner_host "$TEST_UID" "$(stat -c %u "$BD/bykeepid" 2>&1)"
fi

# --- capabilities, --privileged, masks, seccomp ----------------------------------------------------------
nrun --rm "$IMG" awk '/^CapEff/ { print $2 }' /proc/self/status
assert_ok caps_default 00000000800405fb
nrun --rm --cap-add NET_ADMIN "$IMG" awk '/^CapEff/ { print $2 }' /proc/self/status
assert_ok caps_add_net_admin "$(printf '%016x' $((0x800405fb | (1 << 12))))"
nrun --rm --cap-drop CHOWN "$IMG" awk '/^CapEff/ { print $2 }' /proc/self/status
assert_ok caps_drop_chown 00000000800405fa
nrun --rm --cap-drop CHOWN "$IMG" sh -c 'touch /f; chown 1 /f && echo chowned || echo refused'
assert_eq caps_drop_chown_effect refused "$(printf '%s\n' "$OUT" | tail -n 1)"
# --privileged / --cap-add ALL: every capability the caller has (podman: the caller's bounding set as root;
# in a user namespace, all of them).
ALLCAPS=$(all_caps)
nrun --rm --cap-add ALL "$IMG" awk '/^CapEff/ { print $2 }' /proc/self/status
assert_ok caps_add_all "$ALLCAPS"

nrun --rm --privileged "$IMG" sh -c 'awk "/^CapEff/ { print \$2 }" /proc/self/status; grep -c " /proc/kcore " /proc/mounts; ls /sys/firmware | wc -l'
exp_fw=$(ls /sys/firmware | wc -l)
assert_ok privileged_caps_unmasked "$ALLCAPS
0
$exp_fw"

# Only the paths this kernel has (it has no /proc/kcore, no /proc/sysrq-trigger).
want=
for p in /proc/kcore /proc/keys /proc/timer_list /proc/acpi /proc/latency_stats /proc/sched_debug /proc/scsi /sys/firmware; do
  [ -e "$p" ] && want="$want$p masked
"
done
nrun --rm "$IMG" sh -c 'for p in /proc/kcore /proc/keys /proc/timer_list /proc/acpi /proc/latency_stats /proc/sched_debug /proc/scsi /sys/firmware; do grep -q " $p " /proc/mounts && echo "$p masked"; done; wc -c < /proc/keys; ls -A /sys/firmware | wc -l; wc -c < /proc/timer_list'
assert_ok masked_paths "${want}0
0
0"
nrun --rm "$IMG" sh -c 'grep " /proc/sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1; echo 1 > /proc/sys/kernel/domainname && echo wrote || echo refused'
assert_eq proc_sys_readonly "ro
refused" "$OUT"
want=
for p in /proc/asound /proc/bus /proc/fs /proc/irq /proc/sysrq-trigger; do [ -e "$p" ] && want="$want$p ro
"; done
nrun --rm "$IMG" sh -c 'grep -E " /proc/(asound|sysrq-trigger|irq|bus|fs) " /proc/mounts | cut -d" " -f2,4 | cut -d, -f1 | sort'
assert_eq proc_readonly_dirs "${want%
}" "$OUT"

# seccomp: the default profile refuses unshare(CLONE_NEWUSER) (EPERM); unconfined allows it.
nrun --rm "$IMG" unshare -U true
if [ "$RC" != 0 ] && [[ $ERR == *"Operation not permitted"* ]]; then pass seccomp_default_unshare_eperm
else fail seccomp_default_unshare_eperm "unshare -U true: rc=$RC, expected a failure with EPERM" "$ERR"; fi
nrun --rm --security-opt seccomp=unconfined "$IMG" sh -c 'unshare -U true && echo unshared'
assert_ok seccomp_unconfined_unshare unshared
nrun --rm "$IMG" sh -c 'mkdir -p /mnt/x; mount -t tmpfs none /mnt/x && echo mounted || echo refused'
assert_eq default_mount_refused refused "$(printf '%s\n' "$OUT" | tail -n 1)"
nrun --rm "$IMG" awk '/^Seccomp:/ { print $2 }' /proc/self/status
assert_ok seccomp_filter_mode 2
nrun --rm --security-opt seccomp=unconfined "$IMG" awk '/^Seccomp:/ { print $2 }' /proc/self/status
assert_ok seccomp_unconfined_mode 0
nrun --rm "$IMG" awk '/^NoNewPrivs:/ { print $2 }' /proc/self/status
assert_ok no_new_privs_default_off 0
nrun --rm --security-opt no-new-privileges "$IMG" awk '/^NoNewPrivs:/ { print $2 }' /proc/self/status
assert_ok no_new_privs_opt 1

# --- /dev/shm, /dev -----------------------------------------------------------------------------------
nrun --rm "$IMG" sh -c 'grep " /dev/shm " /proc/mounts | grep -o "size=[0-9]*k"'
assert_ok shm_default_64m size=65536k
nrun --rm --shm-size 128m "$IMG" sh -c 'grep " /dev/shm " /proc/mounts | grep -o "size=[0-9]*k"'
assert_ok shm_size_128m size=131072k
nrun --rm "$IMG" sh -c 'for d in null zero full random urandom tty ptmx; do test -c /dev/$d || echo "no /dev/$d"; done; echo x > /dev/null && head -c 3 /dev/zero | wc -c; readlink /dev/fd'
assert_ok dev_nodes "3
/proc/self/fd"

# --- /etc files, .containerenv, environment -----------------------------------------------------------------
nrun --name envtest "$IMG" sh -c 'cat /run/.containerenv; echo "--"; printenv container; test -s /etc/resolv.conf && echo resolv; grep -c nameserver /etc/resolv.conf; test -s /etc/hosts && echo hosts; cat /etc/hostname; hostname; grep -w "$(hostname)" /etc/hosts | wc -l; grep -c localhost /etc/hosts'
cid=$(ins envtest '{{.Id}}')
ce=$(printf '%s\n' "$OUT" | sed '/^--$/q')
assert_contains containerenv_name 'name="envtest"' "$ce"
check_re containerenv_id "id=\"${cid:-none}\"" "$ce"
if [ "$MODE" = rootless ]; then assert_contains containerenv_rootless 'rootless=1' "$ce"
else assert_contains containerenv_rootless 'rootless=0' "$ce"; fi
assert_contains containerenv_image "image=\"$IMG\"" "$ce"
rest=$(printf '%s\n' "$OUT" | sed '1,/^--$/d')
mapfile -t L <<< "$rest"
check_eq env_container_nook nook "${L[0]:-}"
check_eq etc_resolv_conf "resolv" "${L[1]:-}"
if [ "${L[2]:-0}" -ge 1 ] 2> /dev/null; then pass etc_resolv_nameserver; else fail etc_resolv_nameserver "no nameserver line" "$OUT"; fi
check_eq etc_hosts_present hosts "${L[3]:-}"
check_eq etc_hostname_is_short_id "${cid:0:12}" "${L[4]:-}"
check_eq hostname_is_short_id "${cid:0:12}" "${L[5]:-}"
check_eq etc_hosts_has_hostname 1 "${L[6]:-}"
if [ "${L[7]:-0}" -ge 1 ] 2> /dev/null; then pass etc_hosts_localhost; else fail etc_hosts_localhost "no localhost in /etc/hosts" "$OUT"; fi
n rm envtest > /dev/null 2>&1

nrun --rm --hostname myhost.example "$IMG" sh -c 'hostname; cat /etc/hostname; grep -c myhost.example /etc/hosts; printenv HOSTNAME'
assert_ok hostname_flag "myhost.example
myhost.example
1
myhost.example"

ED=$(mgr_dir envfile)
printf '# comment\nFROMFILE=file value\nOTHER=2\n\n' > "$ED/env"
chmod 0644 "$ED/env"
nrun --rm -e FOO=bar -e 'SPACED=a b' --env BAZ=1 --env-file "$ED/env" "$IMG" sh -c 'echo "$FOO|$SPACED|$BAZ|$FROMFILE|$OTHER|$container"'
assert_ok env_flags "bar|a b|1|file value|2|nook"
nrun --rm -e PATH=/custom:/bin "$IMG" printenv PATH
assert_ok env_override_path /custom:/bin

nrun --rm -w /tmp "$IMG" pwd
assert_ok workdir_tmp /tmp
# podman 4.3: 'workdir "/new/dir" does not exist on container ...', exit 126.
nrun --rm -w /new/dir "$IMG" pwd
if [ "$RC" != 0 ] && [[ $ERR == *"/new/dir"* ]]; then pass workdir_missing_error; else fail workdir_missing_error "rc=$RC, expected an error naming /new/dir" "$ERR"; fi

nrun --rm -u nobody "$IMG" id
assert_ok user_name "uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)"
nrun --rm -u 1000:1000 "$IMG" sh -c 'id -u; id -g'
assert_ok user_uid_gid "1000
1000"
# A uid without a passwd entry (alpine has 123 = ntp): gid 0 (podman, runc's GetExecUser default).
nrun --rm -u 4321 "$IMG" sh -c 'id -u; id -g'
assert_ok user_uid_only "4321
0"
nrun --rm -u nosuchuser "$IMG" true
# podman: "unable to find user nosuchuser" (125 or 126 depending on the version).
[ "$RC" = 126 ] && RC_WANT=126
assert_nook_error user_unknown_name 'nosuchuser'
unset RC_WANT
chmod 0777 "$BD"
nrun --rm -u 1000 -v "$BD:/data" "$IMG" sh -c 'touch /data/by1000 && echo ok'
check_eq user_1000_file_owner_host "$(host_uid 1000)" "$(stat -c %u "$BD/by1000" 2>&1)"

nrun --rm --entrypoint echo "$IMG" hello world
assert_ok entrypoint_string "hello world"
nrun --rm --entrypoint '["/bin/echo", "from array"]' "$IMG" arg
assert_ok entrypoint_json "from array arg"
nrun --rm --entrypoint '' "$IMG" echo cleared
assert_ok entrypoint_empty cleared

nrun --rm --read-only "$IMG" sh -c 'touch /f 2> /dev/null && echo root-writable || echo root-ro; touch /tmp/f && echo tmp-ok; touch /var/tmp/f && echo vartmp-ok; touch /run/f && echo run-ok'
assert_ok read_only "root-ro
tmp-ok
vartmp-ok
run-ok"

# --- volumes and mounts -------------------------------------------------------------------------------------
echo hostdata > "$BD/hostfile"
chmod 0644 "$BD/hostfile"
nrun --rm -v "$BD:/data:ro" "$IMG" sh -c 'cat /data/hostfile; touch /data/x 2> /dev/null && echo writable || echo ro'
assert_ok bind_ro "hostdata
ro"
nrun --rm -v "$BD:/data:rw" "$IMG" sh -c 'echo fromctr > /data/ctrfile && cat /data/hostfile'
assert_ok bind_rw hostdata
check_file bind_rw_host_sees "$BD/ctrfile" fromctr
nrun --rm -v "$BD/hostfile:/etc/motd-file:ro" "$IMG" cat /etc/motd-file
assert_ok bind_single_file hostdata

VOL=mgrvol$$
nrun --rm -v "$VOL:/vol" "$IMG" sh -c 'echo persisted > /vol/f; ls -ld /vol | cut -c1-10'
assert_ok volume_first drwxr-xr-x
nrun --rm -v "$VOL:/vol" "$IMG" cat /vol/f
assert_ok volume_persists persisted
# A new named volume mounted over a non-empty image directory gets its content (podman's copy-up).
nrun --rm -v "${VOL}b:/etc/apk" "$IMG" cat /etc/apk/arch
assert_ok volume_copy_up x86_64

nrun --rm --tmpfs /scratch "$IMG" sh -c 'grep " /scratch " /proc/mounts | cut -d" " -f1,3; touch /scratch/f && echo ok'
assert_ok tmpfs_flag "tmpfs tmpfs
ok"
nrun --rm --tmpfs /scratch:size=1m,mode=1777 "$IMG" sh -c 'grep " /scratch " /proc/mounts | grep -o "size=[0-9]*k"; stat -c %a /scratch'
assert_ok tmpfs_options "size=1024k
1777"
nrun --rm --mount "type=bind,source=$BD,target=/m,readonly" "$IMG" sh -c 'cat /m/hostfile; touch /m/y 2> /dev/null && echo writable || echo ro'
assert_ok mount_bind_ro "hostdata
ro"
nrun --rm --mount "type=bind,src=$BD,dst=/m" "$IMG" sh -c 'echo m > /m/mountfile && echo ok'
assert_ok mount_bind_rw ok
check_file mount_bind_rw_host "$BD/mountfile" m
nrun --rm --mount type=tmpfs,destination=/t,tmpfs-size=2m "$IMG" sh -c 'grep " /t " /proc/mounts | cut -d" " -f3; grep " /t " /proc/mounts | grep -o "size=[0-9]*k"'
assert_ok mount_tmpfs "tmpfs
size=2048k"
nrun --rm -v /nonexistent/nook/src:/x "$IMG" true
assert_nook_error bind_missing_source 'nonexistent'

# --- labels ---------------------------------------------------------------------------------------------
n run -d --name lab1 --label manager=yes --label other=1 "$IMG" sleep 60 > /dev/null 2>&1
n run -d --name lab2 --label manager=no "$IMG" sleep 60 > /dev/null 2>&1
capture n ps --filter label=manager=yes --format '{{.Names}}'
assert_ok ps_filter_label_value lab1
capture n ps --filter label=other --format '{{.Names}}'
assert_ok ps_filter_label_key lab1
capture n ps --filter label=manager --format '{{.Names}}'
check_eq ps_filter_label_both "lab1 lab2" "$(printf '%s\n' "$OUT" | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq inspect_label yes "$(ins lab1 '{{index .Config.Labels "manager"}}')"
n rm -f -t 0 lab1 lab2 > /dev/null 2>&1

# --- ulimits, resources -----------------------------------------------------------------------------------
nrun --rm --ulimit nofile=1024:2048 "$IMG" sh -c 'ulimit -n; ulimit -Hn'
assert_ok ulimit_nofile "1024
2048"
nrun --rm --ulimit nproc=500:600 "$IMG" sh -c 'grep "^Max processes" /proc/self/limits | awk "{ print \$3, \$4 }"'
assert_ok ulimit_nproc "500 600"

if [ "$MODE" = root ]; then
  capture n run -d --name res --memory 64m --pids-limit 100 "$IMG" sleep 60
  pid=$(ins res '{{.State.Pid}}')
  cg_mem=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' "/proc/$pid/cgroup" 2> /dev/null)
  cg_pids=$(awk -F: '$2 ~ /(^|,)pids(,|$)/ { print $3 }' "/proc/$pid/cgroup" 2> /dev/null)
  check_eq memory_limit_host 67108864 "$(cat "/sys/fs/cgroup/memory$cg_mem/memory.limit_in_bytes" 2>&1)" "cgroup $cg_mem"
  check_eq pids_limit_host 100 "$(cat "/sys/fs/cgroup/pids$cg_pids/pids.max" 2>&1)" "cgroup $cg_pids"
  if [ -n "$cg_mem" ] && [ "$cg_mem" != / ]; then pass memory_own_cgroup; else fail memory_own_cgroup "container in cgroup '$cg_mem'"; fi
  capture n exec res sh -c 'cat /proc/self/cgroup | grep -c memory; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2> /dev/null || echo none'
  ins_mem=$(printf '%s\n' "$OUT" | tail -n 1)
  [ "$ins_mem" = none ] || check_eq memory_limit_inside 67108864 "$ins_mem"
  n rm -f -t 0 res > /dev/null 2>&1
  if [ -n "$cg_mem" ] && [ "$cg_mem" != / ] && [ -d "/sys/fs/cgroup/memory$cg_mem" ]; then
    sleep 0.5
    [ -d "/sys/fs/cgroup/memory$cg_mem" ] && fail cgroup_removed_after_rm "/sys/fs/cgroup/memory$cg_mem is still there" || pass cgroup_removed_after_rm
  fi
else
  nrun --rm --memory 64m --pids-limit 100 "$IMG" echo ran
  if [ "$RC" = 0 ] && [ "$OUT" = ran ] && printf '%s\n' "$ERR" | grep -qi warn; then pass rootless_limits_warn_and_run
  else fail rootless_limits_warn_and_run "rc=$RC out='$OUT', expected 'ran' and a warning on stderr" "$ERR"; fi
fi

# --- namespaces -----------------------------------------------------------------------------------------
nrun --rm --pid host "$IMG" sh -c "test -d /proc/$$ && echo sees-test-shell; cat /proc/1/comm"
assert_ok pid_host "sees-test-shell
$(cat /proc/1/comm)"
# Only the container's own processes: sh, the command substitution's subshell, ls and (maybe) wc.
nrun --rm "$IMG" sh -c "test -d /proc/$$ && echo sees-test-shell; cat /proc/1/comm; n=\$(ls -d /proc/[0-9]* | wc -l); [ \$n -ge 2 ] && [ \$n -le 4 ] && echo own-pids-only"
assert_ok pid_private "sh
own-pids-only"
nrun --rm --network none "$IMG" sh -c 'awk "NR > 2 { sub(\":\", \"\", \$1); print \$1 }" /proc/net/dev'
assert_ok network_none lo
host_ifs=$(awk 'NR > 2 { sub(":", "", $1); print $1 }' /proc/net/dev | sort | tr '\n' ' ')
nrun --rm --network host "$IMG" sh -c 'awk "NR > 2 { sub(\":\", \"\", \$1); print \$1 }" /proc/net/dev'
check_eq network_host_interfaces "$host_ifs" "$(printf '%s\n' "$OUT" | sort | tr '\n' ' ')"
nrun --rm --ipc host "$IMG" readlink /proc/self/ns/ipc
check_eq ipc_host "$(readlink /proc/self/ns/ipc)" "$OUT"
nrun --rm --uts host "$IMG" hostname
check_eq uts_host "$(hostname)" "$OUT"

# --- exit codes -----------------------------------------------------------------------------------------
nrun --rm "$IMG" true
assert_rc exit_0 0
nrun --rm "$IMG" sh -c 'exit 1'
assert_rc exit_1 1
nrun --rm "$IMG" sh -c 'exit 42'
assert_rc exit_42 42
nrun --rm "$IMG" sh -c 'sleep 60 & sleep 0.2; kill -TERM $!; wait $!'
assert_rc exit_status_of_child_143 143
nrun --rm --no-such-flag "$IMG" true
assert_nook_error exit_125_bad_flag 'no-such-flag'
RC_WANT=126
nrun --rm "$IMG" /etc
assert_nook_error exit_126_not_executable
nrun --rm "$IMG" /etc/hostname
assert_nook_error exit_126_no_exec_bit
RC_WANT=127
nrun --rm "$IMG" nosuch
assert_nook_error exit_127_not_found 'nosuch'
unset RC_WANT
nrun --rm localhost/nosuch/image:1 true
if [ "$RC" = 125 ]; then pass exit_125_no_image; else fail exit_125_no_image "rc=$RC, expected 125" "$ERR"; fi
capture n ps -aq
check_eq rm_flag_leaves_nothing "" "$OUT"

finish
