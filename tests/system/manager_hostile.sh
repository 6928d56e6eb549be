#!/bin/bash
# Hostile and broken input to the manager (issue 15): exec --user groups, files of the rootfs that are FIFOs
# or hold NUL bytes, unbounded --format / --env-file input, volume destinations, cp of a symlink, control
# bytes in error messages, --help of run/create.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
. "$REPO/tests/images/imagelib.sh"
. "$REPO/tests/system/manager_lib.bash"
mgr_setup

# --- exec --user: exactly the user's groups, never the container root's -----------------------------------
capture n run -d --name grp "$IMG" sleep 300
capture n exec --user nobody grp sh -c 'id; grep ^Groups: /proc/self/status'
check_re exec_user_nobody_groups '^uid=65534\(nobody\) gid=65534\(nobody\) groups=65534\(nobody\)' "$OUT"
check_re exec_user_nobody_status_groups 'Groups:[[:space:]]+65534[[:space:]]*$' "$OUT"
capture n exec --user 65534:65534 grp grep ^Groups: /proc/self/status
check_re exec_user_numeric_groups 'Groups:[[:space:]]+65534[[:space:]]*$' "$OUT"
capture n exec --user root grp id -G
check_eq exec_user_root_member_groups "0 1 2 3 4 6 10 11 20 26 27" "$OUT"
capture n exec --user nobody:wheel grp id
check_re exec_user_group_given '^uid=65534\(nobody\) gid=10\(wheel\) groups=10\(wheel\)$' "$OUT"
capture n exec grp id -G
check_eq exec_default_keeps_container_groups "0 1 2 3 4 6 10 11 20 26 27" "$OUT"
capture n run -d --name grpadd --group-add 27 "$IMG" sleep 300
capture n exec --user nobody grpadd id -G
check_eq exec_user_keeps_group_add "65534 27" "$(echo $(printf '%s' "$OUT" | tr ' ' '\n' | sort -rn))"
capture n run --rm --user nobody "$IMG" grep ^Groups: /proc/self/status
check_re run_user_nobody_groups 'Groups:[[:space:]]+65534[[:space:]]*$' "$OUT"

# --- /etc/passwd a FIFO (made inside the running container) and NUL bytes in it ---------------------------
capture n exec grp sh -c 'rm /etc/passwd && mkfifo /etc/passwd'
capture n exec --user nobody grp id -u
assert_nook_error fifo_passwd_exec_user_name_fails_fast 'nobody'
# (not id(1): it would itself block on the FIFO, inside the container)
capture n exec --user 65534 grp awk '/^Uid:/ { print $2 }' /proc/self/status
assert_ok fifo_passwd_exec_user_numeric 65534
capture n stop -t 1 grp
capture n start grp
assert_rc fifo_passwd_start 0
capture n exec grp sh -c 'rm /etc/passwd; printf "root:x:0:0:root:/root:/bin/sh\nbad\0line:x:5:5::/:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n" > /etc/passwd'
capture n exec --user nobody grp id -u
assert_ok nul_passwd_later_entries_found 65534
capture n rm -f grp grpadd

# A FIFO at /etc/passwd in the image itself.
FIFODIR=$TMP/fifoimg
mkdir -p "$FIFODIR/root"
cp -a "$ROOTFS_ROOT/." "$FIFODIR/root/"
rm -f "$FIFODIR/root/etc/passwd"
mkfifo "$FIFODIR/root/etc/passwd"
tar -C "$FIFODIR/root" -cf "$FIFODIR/fifo.tar" .
chmod 0644 "$FIFODIR/fifo.tar"
capture n import "$FIFODIR/fifo.tar" localhost/fifo-passwd:1
capture n run --rm --user nobody localhost/fifo-passwd:1 id -u
assert_nook_error fifo_passwd_image_run_user_name 'nobody'
capture n run --rm --user 65534 localhost/fifo-passwd:1 awk '/^Uid:/ { print $2 }' /proc/self/status
assert_ok fifo_passwd_image_run_numeric 65534
capture n rmi localhost/fifo-passwd:1

# --- unbounded memory from user input: refused, fast, small ---------------------------------------------
# (a 600 MB address-space limit: growing without bound would fail the command instead of the machine)
# Under AddressSanitizer, whose shadow memory alone exceeds any such limit, the bound is the sanitizer's own:
# no single allocation above 600 MB (it fails, as it would under the limit) and at most 1 GB resident.
if ldd "$NOOK" 2> /dev/null | grep -q libasan; then
  bounded () {
    capture as_mode env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1:max_allocation_size_mb=600:hard_rss_limit_mb=1000" \
      timeout -k 5 60 "$NOOK" --root "$STORE" --runroot "$RUNROOT" "$@"
  }
else
  bounded () { capture as_mode bash -c 'ulimit -v 600000; exec timeout -k 5 60 "$@"' _ "$NOOK" --root "$STORE" --runroot "$RUNROOT" "$@"; }
fi
bounded images --format '{{printf "%0999999999d" 1}}'
check_re format_huge_width_refused '^%!\(NOVERB\)' "$OUT"
bounded images --format '{{printf "%*d" 999999999 1}}'
check_re format_star_width_refused '^%!\(BADWIDTH\)1' "$OUT"
bounded images --format '{{range 9999999999}}x{{end}}'
assert_nook_error format_range_integer_refused "range can't iterate over 9999999999"
bounded run --rm --env-file /dev/zero "$IMG" true
assert_nook_error env_file_dev_zero_bounded 'env-file.*larger than'
bounded run --rm --label-file /dev/zero "$IMG" true
assert_nook_error label_file_dev_zero_bounded 'label-file.*larger than'
printf 'A=1\n# c\n  B=two\r\n' > "$TMP/envf"
chmod 0644 "$TMP/envf"
capture n run --rm --env-file "$TMP/envf" "$IMG" sh -c 'echo "$A/$B"'
assert_ok env_file_still_read 1/two

# --- volume destinations: cleaned like podman, / refused ---------------------------------------------------
VOLSRC=$(mgr_dir volsrc)
echo from-host > "$VOLSRC/f"
chmod 0644 "$VOLSRC/f"
capture n run --rm -v "$VOLSRC:/../../../etc2" "$IMG" sh -c 'cat /etc2/f; awk "\$5 == \"/etc2\"" /proc/self/mountinfo | wc -l'
assert_ok volume_dest_cleaned "$(printf 'from-host\n1')"
capture n run --rm -v "$VOLSRC:/a/./b/../c/" "$IMG" cat /a/c/f
assert_ok volume_dest_dots_cleaned from-host
capture n run --rm -v "$VOLSRC:/" "$IMG" true
assert_nook_error volume_over_root_refused "root directory"

# --- cp of a symlink copies the link ---------------------------------------------------------------------------
CPD=$(mgr_dir cpdst)
capture n create --name cpl "$IMG" true
capture n cp cpl:/bin/sh "$CPD/sh"
check_eq cp_symlink_copied_as_link /bin/busybox "$(readlink "$CPD/sh")"
capture n cp cpl:/etc/mtab "$CPD/mtab"
assert_rc cp_dangling_symlink 0
check_eq cp_dangling_symlink_link "$(readlink "$ROOTFS_ROOT/etc/mtab")" "$(readlink "$CPD/mtab")"
capture n cp cpl:/bin/sh - 
check_eq cp_symlink_tar_entry "lrwxrwxrwx sh -> /bin/busybox" "$(n cp cpl:/bin/sh - 2> /dev/null | tar tvf - | awk '{ print $1, $6, $7, $8 }')"
capture n rm -f cpl

# --- control bytes from input never reach the terminal raw ----------------------------------------------------------
printf '=\033]0;pwned\007\n' > "$TMP/ctl.env"
chmod 0644 "$TMP/ctl.env"
capture n run --rm --label-file "$TMP/ctl.env" "$IMG" true
if printf '%s' "$ERR" | grep -q $'\033'; then fail error_no_raw_escape "ESC byte in: $(printf '%q' "$ERR")"; else pass error_no_raw_escape; fi
capture n run --rm "$(printf 'no\033[31mimage')" true
if printf '%s' "$ERR" | grep -q $'\033'; then fail error_image_name_escaped "$(printf '%q' "$ERR")"; else assert_contains error_image_name_escaped 'no\x1b[31mimage' "$ERR"; fi

# --- run --help / create --help ---------------------------------------------------------------------------------------
capture n run --help
assert_rc run_help_exit_0 0
assert_contains run_help_lists_flags '--publish' "$OUT"
capture n create --help
assert_rc create_help_exit_0 0
assert_contains create_help_usage 'Usage: nook create' "$OUT"

finish
