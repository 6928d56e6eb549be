/* Every raw syscall nook makes that glibc 2.36 does not wrap lives here, and nowhere else. */
#ifndef NOOK_UTIL_SYSCALLS_H
#define NOOK_UTIL_SYSCALLS_H

#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 0x00000001
#endif
#ifndef FSMOUNT_CLOEXEC
#define FSMOUNT_CLOEXEC 0x00000001
#endif
#ifndef FSCONFIG_SET_STRING
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_CMD_CREATE 6
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

struct nook_mount_attr
{
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

static inline int
sys_openat2 (int dirfd, const char *path, struct open_how *how)
{
  return (int) syscall (SYS_openat2, dirfd, path, how, sizeof (*how));
}

static inline int
sys_pivot_root (const char *new_root, const char *put_old)
{
  return (int) syscall (SYS_pivot_root, new_root, put_old);
}

static inline int
sys_pidfd_open (pid_t pid, unsigned int flags)
{
  return (int) syscall (SYS_pidfd_open, pid, flags);
}

static inline int
sys_pidfd_send_signal (int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
  return (int) syscall (SYS_pidfd_send_signal, pidfd, sig, info, flags);
}

static inline int
sys_close_range (unsigned int first, unsigned int last, unsigned int flags)
{
  return (int) syscall (SYS_close_range, first, last, flags);
}

static inline int
sys_mount_setattr (int dirfd, const char *path, unsigned int flags, struct nook_mount_attr *attr)
{
  return (int) syscall (SYS_mount_setattr, dirfd, path, flags, attr, sizeof (*attr));
}

static inline int
sys_open_tree (int dirfd, const char *path, unsigned int flags)
{
  return (int) syscall (SYS_open_tree, dirfd, path, flags);
}

static inline int
sys_move_mount (int from_dirfd, const char *from_path, int to_dirfd, const char *to_path, unsigned int flags)
{
  return (int) syscall (SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags);
}

static inline int
sys_fsopen (const char *fstype, unsigned int flags)
{
  return (int) syscall (SYS_fsopen, fstype, flags);
}

static inline int
sys_fsconfig (int fd, unsigned int cmd, const char *key, const void *value, int aux)
{
  return (int) syscall (SYS_fsconfig, fd, cmd, key, value, aux);
}

static inline int
sys_fsmount (int fd, unsigned int flags, unsigned int attr_flags)
{
  return (int) syscall (SYS_fsmount, fd, flags, attr_flags);
}

static inline int
sys_capget (void *hdr, void *data)
{
  return (int) syscall (SYS_capget, hdr, data);
}

static inline int
sys_capset (void *hdr, const void *data)
{
  return (int) syscall (SYS_capset, hdr, data);
}

static inline int
sys_seccomp (unsigned int op, unsigned int flags, void *args)
{
  return (int) syscall (SYS_seccomp, op, flags, args);
}

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

static inline long
sys_keyctl_join_session (const char *name)
{
  return syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0);
}

/* fork() whose child gets our parent as its parent (CLONE_PARENT): the container's init becomes a
 * direct child of the runtime even though an intermediate process created it.  Returns like fork(). */
static inline pid_t
sys_clone_parent (void)
{
  return (pid_t) syscall (SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
}

/* More mount_setattr attributes (rootfs.c); glibc 2.36's <sys/mount.h> defines them too. */
#ifndef MOUNT_ATTR__ATIME
#define MOUNT_ATTR__ATIME 0x00000070
#define MOUNT_ATTR_NOATIME 0x00000010
#define MOUNT_ATTR_STRICTATIME 0x00000020
#define MOUNT_ATTR_NODIRATIME 0x00000080
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif

/* bpf(2): load a program and attach it to a cgroup (the v2 devices controller is a BPF program). */
static inline int
sys_bpf (int cmd, void *attr, unsigned int size)
{
  return (int) syscall (SYS_bpf, cmd, attr, size);
}

/* rt_sigaction(2) setting SIG_DFL, bypassing glibc (which refuses its internal signals 32 and 33, and which
 * a sanitizer intercepts): a caller may have left those ignored, and ignored dispositions survive execve. */
static inline int
sys_sigaction_default (int sig)
{
  struct
  {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
  } ksa = { 0 };
  return (int) syscall (SYS_rt_sigaction, sig, &ksa, NULL, sizeof ksa.mask);
}

/* rt_sigprocmask(2) unblocking every signal, glibc's reserved ones included. */
static inline int
sys_sigunblock_all (void)
{
  uint64_t none = 0;
  return (int) syscall (SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
}

#endif
