/* `run`/`create` flag parsing: flags before IMAGE, the command after it, combined short flags, env from
 * our environment and files, sizes, every validation error and podman's messages. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "manager/runopts.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

/* Parse a NULL-terminated list after "run".  Returns the parse result; O is initialized here. */
static int
parse (struct nook_run_opts *o, nook_err *err, ...)
{
  char *argv[128];
  int argc = 0;
  va_list ap;

  argv[argc++] = "run";
  va_start (ap, err);
  for (char *a; (a = va_arg (ap, char *)) != NULL && argc < 127;)
    argv[argc++] = a;
  va_end (ap);
  argv[argc] = NULL;
  nook_run_opts_init (o);
  err->msg[0] = '\0';
  return nook_run_opts_parse (argc, argv, o, err);
}

/* Expect failure with exactly MSG. */
static bool
fails_with (const char *msg, ...)
{
  struct nook_run_opts o;
  nook_err err = { 0 };
  char *argv[128];
  int argc = 0, r;
  va_list ap;

  argv[argc++] = "run";
  va_start (ap, msg);
  for (char *a; (a = va_arg (ap, char *)) != NULL && argc < 127;)
    argv[argc++] = a;
  va_end (ap);
  argv[argc] = NULL;
  nook_run_opts_init (&o);
  r = nook_run_opts_parse (argc, argv, &o, &err);
  nook_run_opts_free (&o);
  if (r == 0 || strcmp (err.msg, msg) != 0)
    {
      printf ("    want \"%s\", got %d \"%s\"\n", msg, r, r == 0 ? "" : err.msg);
      return false;
    }
  return true;
}

static bool
has (char **v, const char *s)
{
  for (size_t i = 0; v && v[i]; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

static void
test_defaults (void)
{
  struct nook_run_opts o;
  nook_err err = { 0 };

  CHECK (parse (&o, &err, "alpine", NULL) == 0);
  CHECK_STR (o.image, "alpine");
  CHECK (o.command && o.command[0] == NULL);
  CHECK (!o.rm && !o.detach && !o.interactive && !o.tty && o.sig_proxy && !o.privileged);
  CHECK_STR (o.pull, "missing");
  CHECK_STR (o.detach_keys, "ctrl-p,ctrl-q");
  CHECK (o.stop_timeout == -1 && o.shm_size == 64 * 1024 * 1024 && o.tls_verify == -1 && o.memory == 0);
  CHECK (o.pids_limit == 0 && o.cpus == 0);
  CHECK (o.env && o.volumes && o.labels && o.publish && o.devices && o.ulimits && o.env_files);
  CHECK (o.name == NULL && o.userns == NULL && o.network == NULL);
  nook_run_opts_free (&o);
}

static void
test_command_after_image (void)
{
  struct nook_run_opts o;
  nook_err err = { 0 };

  CHECK (parse (&o, &err, "--rm", "--name", "x", "alpine", "ls", "-la", "--rm", NULL) == 0);
  CHECK (o.rm);
  CHECK_STR (o.name, "x");
  CHECK_STR (o.image, "alpine");
  CHECK (strv_len (o.command) == 3);
  CHECK_STR (o.command[0], "ls");
  CHECK_STR (o.command[1], "-la");
  CHECK_STR (o.command[2], "--rm");
  nook_run_opts_free (&o);
  /* "--" ends the flags too */
  CHECK (parse (&o, &err, "-d", "--", "busybox", "sh", "-c", "echo hi", NULL) == 0);
  CHECK (o.detach);
  CHECK_STR (o.image, "busybox");
  CHECK (strv_len (o.command) == 3);
  CHECK_STR (o.command[2], "echo hi");
  nook_run_opts_free (&o);
}

static void
test_combined_short (void)
{
  struct nook_run_opts o;
  nook_err err = { 0 };

  CHECK (parse (&o, &err, "-ti", "alpine", "sh", NULL) == 0);
  CHECK (o.tty && o.interactive && !o.detach);
  nook_run_opts_free (&o);
  CHECK (parse (&o, &err, "-dit", "--rm", "alpine", NULL) == 0);
  CHECK (o.tty && o.interactive && o.detach && o.rm);
  nook_run_opts_free (&o);
  /* a value-taking short flag at the end of a group takes the next argument, or the rest of the group */
  CHECK (parse (&o, &err, "-itu", "1000", "-eFOO=bar", "-hbox", "alpine", NULL) == 0);
  CHECK (o.tty && o.interactive);
  CHECK_STR (o.user, "1000");
  CHECK_STR (o.hostname, "box");
  CHECK (has (o.env, "FOO=bar"));
  nook_run_opts_free (&o);
}

static void
test_long_forms (void)
{
  struct nook_run_opts o;
  nook_err err = { 0 };

  CHECK (parse (&o, &err, "--name=web", "--hostname", "h1", "-w", "/srv", "--entrypoint", "[\"/bin/sh\",\"-c\"]",
                "-v", "/a:/b", "--volume=/c:/d:ro", "--mount", "type=tmpfs,destination=/t", "--tmpfs", "/run",
                "-l", "a=b", "--label", "c", "--annotation", "k=v", "--platform", "linux/arm64", "--arch", "arm64",
                "--os", "linux", "--variant", "v8", "--read-only", "--init", "--stop-signal", "SIGTERM",
                "--cap-add", "NET_ADMIN", "--cap-drop=ALL", "--privileged", "--security-opt", "label=disable",
                "--net", "host", "--group-add", "keep-groups", "--dns", "1.1.1.1", "--dns-search", "x.org",
                "--dns-option", "ndots:2", "--add-host", "h:1.2.3.4", "-p", "8080:80", "-P", "--device",
                "/dev/fuse", "--tls-verify=false", "--sig-proxy=false", "--no-hosts", "--replace", "-q",
                "--cidfile", "/tmp/cid", "alpine", NULL)
         == 0);
  CHECK_STR (o.name, "web");
  CHECK_STR (o.hostname, "h1");
  CHECK_STR (o.workdir, "/srv");
  CHECK_STR (o.entrypoint, "[\"/bin/sh\",\"-c\"]");
  CHECK (strv_len (o.volumes) == 2 && has (o.volumes, "/c:/d:ro"));
  CHECK (has (o.mounts, "type=tmpfs,destination=/t") && has (o.tmpfs, "/run"));
  CHECK (has (o.labels, "a=b") && has (o.labels, "c") && has (o.annotations, "k=v"));
  CHECK_STR (o.platform, "linux/arm64");
  CHECK_STR (o.arch, "arm64");
  CHECK_STR (o.os, "linux");
  CHECK_STR (o.variant, "v8");
  CHECK (o.read_only && o.init && o.privileged && o.publish_all && o.no_hosts && o.replace && o.quiet);
  CHECK_STR (o.stop_signal, "SIGTERM");
  CHECK (has (o.cap_add, "NET_ADMIN") && has (o.cap_drop, "ALL") && has (o.security_opts, "label=disable"));
  CHECK_STR (o.network, "host");
  CHECK (has (o.group_add, "keep-groups") && has (o.dns, "1.1.1.1") && has (o.dns_search, "x.org"));
  CHECK (has (o.dns_opts, "ndots:2") && has (o.add_host, "h:1.2.3.4") && has (o.publish, "8080:80"));
  CHECK (has (o.devices, "/dev/fuse"));
  CHECK (o.tls_verify == 0 && !o.sig_proxy);
  CHECK_STR (o.cidfile, "/tmp/cid");
  nook_run_opts_free (&o);
}

static void
test_bool_values (void)
{
  struct nook_run_opts o;
  nook_err err = { 0 };

  CHECK (parse (&o, &err, "--rm=true", "--tty=false", "--interactive=1", "--detach=F", "--tls-verify", "alpine",
                NULL)
         == 0);
  CHECK (o.rm && !o.tty && o.interactive && !o.detach && o.tls_verify == 1);
  nook_run_opts_free (&o);
  CHECK (fails_with ("invalid argument \"maybe\" for \"--rm\" flag: strconv.ParseBool: parsing \"maybe\": invalid "
                     "syntax",
                     "--rm=maybe", "alpine", NULL));
}

static void
test_ignored_compat (void)
{
  struct nook_run_opts o;
  nook_err err = { 0 };

  CHECK (parse (&o, &err, "--log-driver", "k8s-file", "--log-opt", "max-size=1m", "--systemd=always",
                "--health-cmd", "true", "--no-healthcheck", "--restart=no", "alpine", NULL)
         == 0);
  CHECK_STR (o.image, "alpine");
  nook_run_opts_free (&o);
  /* distrobox's create line */
  CHECK (parse (&o, &err, "--hostname", "box", "--name", "db", "--privileged", "--security-opt", "label=disable",
                "--user", "root:root", "--ipc", "host", "--network", "host", "--pid", "host", "--label",
                "manager=distrobox", "--env", "SHELL=/bin/bash", "--volume", "/:/run/host:rslave", "--userns",
                "keep-id", "--ulimit", "host", "--annotation", "run.oci.keep_original_groups=1", "--cgroupns", "host",
                "--pids-limit=-1", "--entrypoint", "/usr/bin/entrypoint", "--mount",
                "type=devpts,destination=/dev/pts", "docker.io/library/fedora:39", "-v", "--name", "x", NULL)
         == 0);
  CHECK (o.pids_limit == -1 && o.privileged);
  CHECK_STR (o.ipc, "host");
  CHECK_STR (o.pid, "host");
  CHECK_STR (o.cgroupns, "host");
  CHECK_STR (o.userns, "keep-id");
  CHECK (has (o.ulimits, "host"));
  CHECK (strv_len (o.command) == 3);
  nook_run_opts_free (&o);
}

static void
test_env (void)
{
  struct nook_run_opts o;
  nook_err err = { 0 };

  setenv ("NOOK_T_HOST", "from-host", 1);
  setenv ("NOOK_TP_A", "1", 1);
  setenv ("NOOK_TP_B", "2", 1);
  unsetenv ("NOOK_T_UNSET");
  CHECK (parse (&o, &err, "-e", "A=1", "--env", "NOOK_T_HOST", "-e", "NOOK_T_UNSET", "-e", "NOOK_TP_*", "-e",
                "EMPTY=", "alpine", NULL)
         == 0);
  CHECK (has (o.env, "A=1") && has (o.env, "NOOK_T_HOST=from-host") && has (o.env, "EMPTY="));
  CHECK (has (o.env, "NOOK_TP_A=1") && has (o.env, "NOOK_TP_B=2"));
  for (size_t i = 0; o.env[i]; i++)
    CHECK (!str_has_prefix (o.env[i], "NOOK_T_UNSET"));
  nook_run_opts_free (&o);
  CHECK (fails_with ("invalid environment variable: \"=x\": the name is empty", "-e", "=x", "alpine", NULL));
  CHECK (fails_with ("invalid environment variable: \"\": the name is empty", "-e", "", "alpine", NULL));
  /* --env-host: everything we have, before -e */
  CHECK (parse (&o, &err, "--env-host", "-e", "NOOK_T_HOST=override", "alpine", NULL) == 0);
  CHECK (has (o.env, "NOOK_T_HOST=from-host") && has (o.env, "NOOK_TP_A=1"));
  CHECK_STR (o.env[strv_len (o.env) - 1], "NOOK_T_HOST=override");
  nook_run_opts_free (&o);
  /* --http-proxy (default on) passes proxy variables; =false does not */
  setenv ("https_proxy", "http://proxy:3128", 1);
  CHECK (parse (&o, &err, "alpine", NULL) == 0 && has (o.env, "https_proxy=http://proxy:3128"));
  nook_run_opts_free (&o);
  CHECK (parse (&o, &err, "--http-proxy=false", "alpine", NULL) == 0 && strv_len (o.env) == 0);
  nook_run_opts_free (&o);
  unsetenv ("https_proxy");
}

static bool
write_file (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");
  bool ok = f && fputs (text, f) >= 0;
  return f && fclose (f) == 0 && ok;
}

static void
test_env_file (void)
{
  char dir[] = "/tmp/nook-runopts-XXXXXX";
  cleanup_free char *f1 = NULL, *f2 = NULL, *missing = NULL, *want = NULL;
  const char *text = "# comment\n\nFOO=bar\n  SPACED=x y\nNOOK_T_HOST\nCRLF=1\r\n";
  struct nook_run_opts o;
  nook_err err = { 0 };

  CHECK (mkdtemp (dir) != NULL);
  f1 = xasprintf ("%s/env", dir);
  f2 = xasprintf ("%s/labels", dir);
  missing = xasprintf ("%s/missing", dir);
  CHECK (write_file (f1, text) && write_file (f2, "a=1\n#x\nb\n"));
  setenv ("NOOK_T_HOST", "h", 1);
  CHECK (parse (&o, &err, "-e", "FOO=flag", "--env-file", f1, "--label-file", f2, "-l", "c=3", "alpine", NULL) == 0);
  CHECK (strv_len (o.env) == 5);
  CHECK_STR (o.env[0], "FOO=bar");
  CHECK_STR (o.env[1], "SPACED=x y");
  CHECK_STR (o.env[2], "NOOK_T_HOST=h");
  CHECK_STR (o.env[3], "CRLF=1");
  CHECK_STR (o.env[4], "FOO=flag"); /* -e wins over the file, whatever the order on the line */
  CHECK (strv_len (o.env_files) == 1);
  CHECK_STR (o.env_files[0], f1);
  CHECK (strv_len (o.labels) == 3);
  CHECK_STR (o.labels[0], "a=1");
  CHECK_STR (o.labels[1], "b");
  CHECK_STR (o.labels[2], "c=3");
  nook_run_opts_free (&o);
  want = xasprintf ("--env-file: open `%s`: No such file or directory", missing);
  CHECK (fails_with (want, "--env-file", missing, "alpine", NULL));
  free (want);
  want = xasprintf ("--label-file: open `%s`: No such file or directory", missing);
  CHECK (fails_with (want, "--label-file", missing, "alpine", NULL));
  nook_rm_rf_at (AT_FDCWD, dir, &err);
}

static void
test_sizes (void)
{
  struct nook_run_opts o;
  nook_err err = { 0 };

  CHECK (nook_parse_size ("100") == 100);
  CHECK (nook_parse_size ("512k") == 512 * 1024);
  CHECK (nook_parse_size ("64m") == 64 * 1024 * 1024);
  CHECK (nook_parse_size ("64M") == 64 * 1024 * 1024);
  CHECK (nook_parse_size ("1g") == 1024LL * 1024 * 1024);
  CHECK (nook_parse_size ("1GB") == 1024LL * 1024 * 1024);
  CHECK (nook_parse_size ("2GiB") == 2LL * 1024 * 1024 * 1024);
  CHECK (nook_parse_size ("1t") == 1LL << 40);
  CHECK (nook_parse_size ("1.5k") == 1536);
  CHECK (nook_parse_size ("10b") == 10);
  CHECK (nook_parse_size ("10 m") == 10 * 1024 * 1024);
  CHECK (nook_parse_size ("") == -1 && nook_parse_size ("m") == -1 && nook_parse_size ("-1") == -1);
  CHECK (nook_parse_size ("1x") == -1 && nook_parse_size ("1.") == -1 && nook_parse_size ("1e3") == -1);
  CHECK (nook_parse_size ("99999999999p") == -1 && nook_parse_size (NULL) == -1);
  CHECK (parse (&o, &err, "-m", "256m", "--shm-size=1g", "--cpus", "1.5", "--pids-limit", "100", "--stop-timeout",
                "3", "alpine", NULL)
         == 0);
  CHECK (o.memory == 256 * 1024 * 1024 && o.shm_size == 1024LL * 1024 * 1024 && o.cpus == 1.5);
  CHECK (o.pids_limit == 100 && o.stop_timeout == 3);
  nook_run_opts_free (&o);
  CHECK (parse (&o, &err, "--memory=512k", "--pids-limit=0", "alpine", NULL) == 0);
  CHECK (o.memory == 512 * 1024 && o.pids_limit == -1);
  nook_run_opts_free (&o);
}

static void
test_validation_errors (void)
{
  CHECK (fails_with ("invalid size: 12q", "--memory", "12q", "alpine", NULL));
  CHECK (fails_with ("invalid size: big", "--shm-size=big", "alpine", NULL));
  CHECK (fails_with ("invalid argument \"0\" for \"--cpus\" flag: must be a positive number", "--cpus", "0", "alpine",
                     NULL));
  CHECK (fails_with ("invalid argument \"x\" for \"--cpus\" flag: must be a positive number", "--cpus", "x", "alpine",
                     NULL));
  CHECK (fails_with ("invalid argument \"ten\" for \"--pids-limit\" flag: must be an integer", "--pids-limit", "ten",
                     "alpine", NULL));
  CHECK (fails_with ("invalid argument \"-1\" for \"--stop-timeout\" flag: must be a non-negative integer",
                     "--stop-timeout", "-1", "alpine", NULL));
  CHECK (fails_with ("unsupported pull policy \"sometimes\"", "--pull", "sometimes", "alpine", NULL));
  CHECK (fails_with ("unrecognized namespace mode bogus passed", "--userns", "bogus", "alpine", NULL));
  CHECK (fails_with ("invalid option \"uid=x\" for --userns keep-id", "--userns=keep-id:uid=x", "alpine", NULL));
  CHECK (fails_with ("invalid option \"foo=1\" for --userns auto", "--userns=auto:foo=1", "alpine", NULL));
  CHECK (fails_with ("unrecognized namespace mode ns: passed", "--userns", "ns:", "alpine", NULL));
  CHECK (fails_with ("unrecognized namespace mode weird passed", "--pid", "weird", "alpine", NULL));
  CHECK (fails_with ("invalid ulimit argument: nofile", "--ulimit", "nofile", "alpine", NULL));
  CHECK (fails_with ("invalid ulimit type: files", "--ulimit", "files=10", "alpine", NULL));
  CHECK (fails_with ("ulimit soft limit must be less than or equal to hard limit: 20 > 10", "--ulimit",
                     "nofile=20:10", "alpine", NULL));
  CHECK (fails_with ("invalid ulimit value in --ulimit nproc=a:b", "--ulimit", "nproc=a:b", "alpine", NULL));
  CHECK (fails_with ("too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`", "--ulimit",
                     "core=1:2:3", "alpine", NULL));
  CHECK (fails_with ("invalid detach keys \"ctrl-1\": unknown key \"ctrl-1\"", "--detach-keys", "ctrl-1", "alpine",
                     NULL));
  CHECK (fails_with ("requires at least 1 arg(s), only received 0", "--rm", "-ti", NULL));
  CHECK (fails_with ("requires at least 1 arg(s), only received 0", NULL));
}

static void
test_valid_values (void)
{
  struct nook_run_opts o;
  nook_err err = { 0 };

  CHECK (parse (&o, &err, "--pull=always", "--userns=keep-id:uid=1000,gid=1000", "--ulimit", "nofile=1024:2048",
                "--ulimit", "nproc=-1", "--ulimit=core=unlimited", "--detach-keys", "", "--uts", "ns:/proc/1/ns/uts",
                "--ipc=container:abc", "alpine", NULL)
         == 0);
  CHECK_STR (o.pull, "always");
  CHECK_STR (o.userns, "keep-id:uid=1000,gid=1000");
  CHECK (strv_len (o.ulimits) == 3);
  CHECK_STR (o.detach_keys, "");
  CHECK_STR (o.uts, "ns:/proc/1/ns/uts");
  CHECK_STR (o.ipc, "container:abc");
  nook_run_opts_free (&o);
  CHECK (parse (&o, &err, "--pull", "Never", "--userns", "auto:size=65536", "--detach-keys=ctrl-a,x", "alpine", NULL)
         == 0);
  CHECK_STR (o.pull, "never");
  CHECK_STR (o.detach_keys, "ctrl-a,x");
  nook_run_opts_free (&o);
  CHECK (parse (&o, &err, "--pull=newer", "--userns=", "alpine", NULL) == 0);
  CHECK_STR (o.pull, "newer");
  CHECK_STR (o.userns, "");
  nook_run_opts_free (&o);
}

static void
test_unknown_flags (void)
{
  struct nook_run_opts o;
  nook_err err = { 0 };

  CHECK (fails_with ("unknown flag: --bogus", "--bogus", "alpine", NULL));
  CHECK (fails_with ("unknown flag: --bogus", "--bogus=1", "alpine", NULL));
  CHECK (fails_with ("unknown flag: --hostn", "--hostn", "x", "alpine", NULL)); /* no abbreviations */
  CHECK (fails_with ("unknown shorthand flag: 'Z' in -Z", "-Z", "alpine", NULL));
  CHECK (fails_with ("unknown shorthand flag: 'Z' in -tZ", "-tZ", "alpine", NULL));
  CHECK (fails_with ("flag needs an argument: --name", "--name", NULL));
  CHECK (fails_with ("flag needs an argument: 'e' in -e", "-e", NULL));
  /* --help stops the parse without an image */
  CHECK (parse (&o, &err, "--rm", "--help", NULL) == 0 && o.help && o.image == NULL);
  nook_run_opts_free (&o);
  /* parsing twice in one process starts afresh */
  CHECK (parse (&o, &err, "-d", "alpine", NULL) == 0 && o.detach);
  nook_run_opts_free (&o);
  CHECK (parse (&o, &err, "-t", "busybox", NULL) == 0 && !o.detach && o.tty);
  CHECK_STR (o.image, "busybox");
  nook_run_opts_free (&o);
}

int
main (void)
{
  RUN (test_defaults);
  RUN (test_command_after_image);
  RUN (test_combined_short);
  RUN (test_long_forms);
  RUN (test_bool_values);
  RUN (test_ignored_compat);
  RUN (test_env);
  RUN (test_env_file);
  RUN (test_sizes);
  RUN (test_validation_errors);
  RUN (test_valid_values);
  RUN (test_unknown_flags);
  return HARNESS_END ();
}
