/* `nook run` / `nook create` flags (podman's), parsed into one struct. */
#ifndef NOOK_MANAGER_RUNOPTS_H
#define NOOK_MANAGER_RUNOPTS_H

#include <stdio.h>

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

struct nook_run_opts
{
  char *image;              /* the IMAGE argument */
  char **command;           /* what follows IMAGE (NULL-terminated, may be empty) */

  bool rm, detach, interactive, tty, privileged, read_only, init, sig_proxy /* default true */;
  char *name, *hostname, *workdir, *user, *entrypoint /* raw: string or JSON array */;
  char *pull;               /* always|missing|never|newer (default missing) */
  char *platform, *arch, *os, *variant;
  char *stop_signal;
  int stop_timeout;         /* -1: default (10) */
  char *userns;             /* "", host, keep-id[:uid=,gid=,size=], auto, nomap */
  char *pid, *ipc, *uts, *cgroupns, *network; /* host|private|container:X|ns:PATH (network: none|host|private|...) */
  char *detach_keys;        /* default "ctrl-p,ctrl-q" */
  int64_t memory;           /* bytes, 0 unset */
  int64_t pids_limit;       /* 0 unset, -1 unlimited */
  double cpus;              /* 0 unset */
  int64_t shm_size;         /* bytes, default 64 MiB */
  int tls_verify;           /* -1 default */
  char **env, **env_files, **volumes, **mounts, **tmpfs, **labels, **annotations, **ulimits, **cap_add, **cap_drop,
      **security_opts, **group_add, **dns, **dns_search, **dns_opts, **add_host, **publish, **expose, **devices;
  bool publish_all;
  /* added with the parser (podman flags the lead's list implied) */
  bool no_hosts;            /* --no-hosts: do not generate /etc/hosts */
  bool replace;             /* --replace: remove a container of the same name first */
  bool quiet;               /* -q/--quiet: no pull progress */
  bool help;                /* --help: parsing stopped there, IMAGE not required */
  char *cidfile;            /* --cidfile: write the container id there */
};
/* After a successful parse every char ** above is non-NULL (possibly empty) and pull/detach_keys are set.
 * env: --http-proxy vars (default on), --env-host, --env-file contents, then -e, in that order (later
 * wins); labels: --label-file contents, then -l.  --env-file and --label-file are read here. */

/* Parse ARGV (starting after the command word: argv[0] is "run"/"create").  Flags come before IMAGE; what
 * follows IMAGE is the command.  Unknown flags: error "unknown flag: --x".  Values are validated
 * (sizes "64m", "1g"; cpus; ulimits "nofile=1024:2048" or "host"; ...). */
int nook_run_opts_parse (int argc, char **argv, struct nook_run_opts *o, nook_err *err);
void nook_run_opts_init (struct nook_run_opts *o);
/* `run --help` / `create --help`: the usage line and every flag, on OUT. */
void nook_run_opts_usage (FILE *out, const char *verb);
void nook_run_opts_free (struct nook_run_opts *o);
/* "64m" -> bytes (k, m, g, t; b; case-insensitive); -1 on junk. */
int64_t nook_parse_size (const char *s);

#endif
