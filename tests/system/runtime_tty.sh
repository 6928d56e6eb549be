#!/bin/bash
# Terminals: a pty handed over --console-socket (received by build/tests/recvtty, the console-socket
# protocol runc uses) and the attached `run` proxying its own pty.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
require_runtime

RECVTTY=
for c in "$BUILD/tests/recvtty" "$(dirname "$NOOK")/recvtty"; do
  [ -x "$c" ] && { RECVTTY=$c; break; }
done
if [ -z "$RECVTTY" ] && [ -f "$REPO/tests/helpers/recvtty.c" ]; then
  cc -O1 -g -o "$TMP/recvtty" "$REPO/tests/helpers/recvtty.c" 2> "$TMP/cc.err" && RECVTTY=$TMP/recvtty
fi
if [ -n "$RECVTTY" ] && [ "$MODE" = rootless ] && ! as_user test -x "$RECVTTY"; then
  cp "$RECVTTY" "$TMP/recvtty-copy" && RECVTTY=$TMP/recvtty-copy
fi

B=$TMP/bundle
mode_bundle "$B" || { fail make_bundle "could not create a bundle" "$(cd "$TMP" && rt_plain spec 2>&1)"; finish; }
CFG=$B/config.json
S=$TMP/sock
mkdir -p "$S"
[ "$MODE" = rootless ] && chown "$TEST_UID:$TEST_GID" "$S"

# --- console socket ------------------------------------------------------------------------------------------
jq_edit "$CFG" '.process.terminal = true | .process.consoleSize = {height: 40, width: 100}'
set_args "$B" sh -c 'tty; stty size; echo "in=$(readlink /proc/$$/fd/0) out=$(readlink /proc/$$/fd/1) err=$(readlink /proc/$$/fd/2)"'
if [ -z "$RECVTTY" ]; then
  fail console_socket "no recvtty helper (build/tests/recvtty or tests/helpers/recvtty.c)" "$(cat "$TMP/cc.err" 2> /dev/null)"
else
  for how in create run-d; do
    sock=$S/$how.sock
    (sleep 15 | as_mode "$RECVTTY" "$sock" > "$TMP/tty-$how.out" 2> "$TMP/tty-$how.err") &
    rbg=$!
    for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
    id=$(new_id)
    if [ "$how" = create ]; then
      capture rt create --console-socket "$sock" -b "$B" "$id"
      [ "$RC" = 0 ] && capture rt start "$id"
    else
      capture rt run -d --console-socket "$sock" -b "$B" "$id"
    fi
    if [ "$RC" != 0 ]; then
      fail "console_socket_$how" "exit status $RC" "$ERR"
    else
      wait_status "$id" stopped
      sleep 0.5
      out=$(tr -d '\r' < "$TMP/tty-$how.out")
      assert_eq "console_socket_${how}_tty" /dev/pts/0 "$(printf '%s\n' "$out" | sed -n 1p)"
      assert_eq "console_socket_${how}_size" "40 100" "$(printf '%s\n' "$out" | sed -n 2p)"
      assert_eq "console_socket_${how}_stdio" "in=/dev/pts/0 out=/dev/pts/0 err=/dev/pts/0" "$(printf '%s\n' "$out" | sed -n 3p)"
    fi
    rt delete -f "$id" > /dev/null 2>&1
    pkill -P "$rbg" 2> /dev/null
    kill "$rbg" 2> /dev/null
    wait "$rbg" 2> /dev/null
  done
fi

# terminal: true needs a console socket when detached.
capture rt run -d -b "$B" "$(new_id)"
assert_error detached_terminal_needs_console_socket
no_state_left detached_terminal_leaves_nothing

# --- the attached run proxies a pty ---------------------------------------------------------------------------
jq_edit "$CFG" 'del(.process.consoleSize)'
set_args "$B" sh -c 'tty; echo status-ok; exit 3'
id=$(new_id)
capture as_mode script -qefc "timeout -k 5 $RT_TIMEOUT $NOOK_RUNTIME --root $RTROOT run -b $B $id" /dev/null
out=$(printf '%s\n' "$OUT" | tr -d '\r')
assert_contains attached_tty "/dev/pts/0" "$out"
assert_contains attached_output "status-ok" "$out"
assert_rc attached_exit_status 3
# The caller's terminal settings are restored (script's pty: echo back on after the run).
set_args "$B" true
capture as_mode script -qefc "timeout -k 5 $RT_TIMEOUT $NOOK_RUNTIME --root $RTROOT run -b $B $(new_id); stty -a" /dev/null
out=$(printf '%s\n' "$OUT" | tr -d '\r')
assert_contains attached_restores_termios " echo " "$(echo $out) "
no_state_left attached_leaves_nothing

finish
