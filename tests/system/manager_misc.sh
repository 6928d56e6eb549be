#!/bin/bash
# The manager under load and with real programs: 50 parallel run -d + rm -f leave no stale record, apt-get
# update in debian:bookworm (apt drops to _apt: needs the full sub-id map), a terminal with -ti, rmi of an
# image that a container uses, --rm after a failure, and -a/--attach with stdin.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
. "$REPO/tests/images/imagelib.sh"
. "$REPO/tests/system/manager_lib.bash"
mgr_setup

# --- 50 parallel run -d + rm -f ---------------------------------------------------------------------------
PAR=$(user_dir par)
cat > "$PAR/one.sh" << EOF
#!/bin/sh
id=\$("$NOOK" --root "$STORE" --runroot "$RUNROOT" run -d "$IMG" sleep 300) || { echo "run \$1 failed" >&2; exit 1; }
case \$id in *[!0-9a-f]*|'') echo "run \$1 printed '\$id'" >&2; exit 1 ;; esac
"$NOOK" --root "$STORE" --runroot "$RUNROOT" rm -f "\$id" > /dev/null || { echo "rm \$1 failed" >&2; exit 1; }
echo ok
EOF
chmod 0755 "$PAR/one.sh"
capture as_mode timeout 300 sh -c "seq 50 | xargs -P 10 -I{} '$PAR/one.sh' {}"
check_eq parallel_all_ok 50 "$(printf '%s\n' "$OUT" | grep -c '^ok$')" "rc=$RC; $(printf '%s' "$ERR" | head -n 5 | tr '\n' ' ')"
capture n ps -a -q
check_eq parallel_ps_empty "" "$OUT"
check_eq parallel_store_containers_empty "" "$(ls -A "$STORE/containers" 2>&1)"
check_eq parallel_containers_json_empty 0 "$(jq -r 'if type == "array" then length elif type == "object" then ((.containers // .) | length) else "?" end' "$STORE/containers.json" 2>&1)"
# (.seccomp in the runroot is the runtime's cache of compiled seccomp filters, shared by all containers.)
check_eq parallel_runroot_empty "" "$(ls -A "$RUNROOT" 2> /dev/null | grep -v -E '^(lock|.*\.lock|\.seccomp)$')"
sleep 0.5
left=$(store_processes "$STORE")
check_eq parallel_no_processes_left "" "$left" "$(for p in $left; do tr '\0' ' ' < "/proc/$p/cmdline"; echo; done)"

# --- terminal --------------------------------------------------------------------------------------------------
# timeout --foreground: a -ti client puts the terminal in raw mode, which it can only do in the foreground.
TO="timeout --foreground -k 5 60"
capture as_mode script -qec "$TO $NOOK --root $STORE --runroot $RUNROOT run --rm -ti $IMG tty" /dev/null
check_eq tty_dev_pts_0 "/dev/pts/0" "$(printf '%s' "$OUT" | tr -d '\r' | sed 's/\^@//g' | grep -v '^$')"
# The bytes: the client's terminal is raw (no "\r\r\n" from a second onlcr) and nothing is typed into the
# container's terminal (a NUL would be echoed as "^@").
# (script(1) itself types its EOF character into our terminal when its stdin ends; with the container's
# terminal echoing, that shows as one "^@" before or after the output, depending on when script sends it:
# that byte is script's, so one at either end is dropped here.)
raw=$(as_mode script -qec "$TO $NOOK --root $STORE --runroot $RUNROOT run --rm -ti $IMG tty" /dev/null < /dev/null 2>&1 | od -An -c | tr -s ' ' | sed 's/^ //; s/ ^ @$//; s/^^ @ //; s/ *$//')
check_eq tty_raw_bytes '/ d e v / p t s / 0 \r \n' "$raw"
capture as_mode script -qec "$TO $NOOK --root $STORE --runroot $RUNROOT run --rm -ti $IMG sh -c 'stty size; test -t 0 && echo in-tty'" /dev/null
assert_contains tty_stdin_is_tty in-tty "$(printf '%s' "$OUT" | tr -d '\r')"
out=$(printf 'echo from-stdin\nexit 3\n' | as_mode script -qec "$TO $NOOK --root $STORE --runroot $RUNROOT run --rm -ti $IMG sh" /dev/null 2>&1)
rc=$?
assert_contains tty_interactive_shell from-stdin "$(printf '%s' "$out" | tr -d '\r')"
check_eq tty_interactive_exit 3 "$rc"

# -i without a terminal: stdin reaches the container.
out=$(printf 'line-a\nline-b\n' | n run --rm -i "$IMG" sh -c 'cat | wc -l' 2>&1)
check_eq stdin_i_piped 2 "$out"
out=$(printf 'ignored\n' | n run --rm "$IMG" sh -c 'cat | wc -l' 2>&1)
check_eq stdin_not_attached_without_i 0 "$out"

# --- rmi of an image in use ----------------------------------------------------------------------------------
capture n run --name user1 "$IMG" true
capture n rmi "$IMG"
RC_WANT=2 assert_nook_error rmi_in_use_refused 'in use|container'
check_eq rmi_in_use_image_kept 0 "$(n image exists "$IMG"; echo $?)"
capture n run --rm "$IMG" echo still-runs
assert_ok rmi_in_use_image_usable still-runs
capture n rm user1
capture n create --name user2 "$IMG" true
capture n rmi -f "$IMG"
assert_rc rmi_force_in_use 0
check_eq rmi_force_removes_container 1 "$(n container exists user2; echo $?)"
check_eq rmi_force_removes_image 1 "$(n image exists "$IMG"; echo $?)"
capture n pull -q --tls-verify=false "$IMG"

# --- --rm cleans up also after a failure ----------------------------------------------------------------------
capture n run --rm --name failing "$IMG" nosuch
check_eq rm_after_127 1 "$(n container exists failing; echo $?)"
capture n run --rm --name failing2 "$IMG" sh -c 'exit 4'
check_eq rm_after_exit4 "4 1" "$RC $(n container exists failing2; echo $?)"
check_eq rm_leaves_runroot_empty "" "$(ls -A "$RUNROOT" 2> /dev/null | grep -v -E '^(lock|.*\.lock|\.seccomp)$')"

# --- apt-get update in debian:bookworm (apt drops privileges to _apt) ----------------------------------------
DEB=$REG/debian:bookworm
capture n pull -q --tls-verify=false "$DEB"
if [ "$RC" != 0 ]; then
  fail apt_get_update "pull $DEB failed" "$ERR"
else
  capture n run --rm --network host "$DEB" sh -c 'apt-get update > /tmp/apt.log 2>&1; rc=$?; tail -n 3 /tmp/apt.log; id -u _apt; exit $rc'
  if [ "$RC" = 0 ] && printf '%s\n' "$OUT" | grep -q 'Reading package lists'; then pass apt_get_update
  else fail apt_get_update "rc=$RC" "$OUT
$ERR"; fi
  capture n run --rm --network host "$DEB" sh -c 'apt-get update -qq > /dev/null 2>&1; ls /var/lib/apt/lists | grep -c _Packages'
  if [ "${OUT:-0}" -ge 1 ] 2> /dev/null; then pass apt_lists_written; else fail apt_lists_written "no Packages lists: '$OUT'" "$ERR"; fi
fi

finish
