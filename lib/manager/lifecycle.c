/* create, start, run: how a record becomes a running container. */
#include "manager/lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/manifest.h"
#include "image/pull.h"
#include "manager/cp.h"
#include "manager/ctrstore.h"
#include "manager/idshift.h"
#include "manager/lifecycle_internal.h"
#include "manager/monitor.h"
#include "manager/specgen.h"
#include "runtime/cgroup.h"
#include "runtime/overlay.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"

char *
nook_runroot_default (void)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR");
  if (geteuid () == 0)
    return xstrdup ("/run/nook");
  if (xdg && *xdg)
    return xasprintf ("%s/nook", xdg);
  return xasprintf ("/tmp/nook-run-%d", (int) geteuid ());
}

static int
pull_image (struct nook_mgr *m, const struct nook_run_opts *o, nook_err *err)
{
  struct nook_pull_opts po = { .tls_verify = o->tls_verify, .platform = o->platform, .arch = o->arch, .os = o->os,
                               .variant = o->variant, .progress = stderr };
  cleanup_free char *id = NULL;
  return nook_image_pull (m->store, o->image, &po, &id, err);
}

/* The image per --pull (missing by default). */
static int
find_image (struct nook_mgr *m, const struct nook_run_opts *o, struct nook_image **img, nook_err *err)
{
  const char *policy = o->pull ? o->pull : "missing";
  nook_err e = { 0 };

  if (strcmp (policy, "always") == 0)
    {
      if (pull_image (m, o, err) < 0)
        return -1;
      return nook_store_image_find (m->store, o->image, img, err);
    }
  if (nook_store_image_find (m->store, o->image, img, &e) == 0)
    return 0;
  if (e.code != ENOENT || strcmp (policy, "never") == 0)
    {
      *err = e;
      return -1;
    }
  if (pull_image (m, o, err) < 0)
    return -1;
  return nook_store_image_find (m->store, o->image, img, err);
}

static json_t *
image_config (struct nook_mgr *m, const struct nook_image *img, nook_err *err)
{
  cleanup_free char *digest = xasprintf ("sha256:%s", img->id);
  cleanup_free char *data = NULL;
  json_error_t jerr;
  size_t len;
  json_t *cfg;

  if (nook_store_blob_read (m->store, digest, NOOK_MANIFEST_MAX, &data, &len, err) < 0)
    return NULL;
  cfg = json_loadb (data, len, 0, &jerr);
  if (cfg == NULL)
    nook_error_input (err, "image config %s: %s", digest, jerr.text);
  return cfg;
}

static json_t *
strv_to_json (char *const *v)
{
  json_t *a = json_array ();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

static int
write_container (struct nook_mgr *m, const char *id, json_t *spec, json_t *record, nook_err *err)
{
  cleanup_free char *dir = nook_ctr_dir (m->store, id);
  cleanup_free char *text = json_dumps (spec, JSON_INDENT (2));
  cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (dfd < 0)
    return nook_error (err, errno, "open `%s`", dir);
  if (nook_write_file_atomic (dfd, "config.json", text, strlen (text), 0600, false, err) < 0)
    return -1;
  return nook_ctr_write (m->store, id, record, err);
}


/* Rootless with maps other than the store's (--userns keep-id): re-own the rootfs once (idshift.h). */
static int
shift_ids (struct nook_mgr *m, const char *id, json_t *spec, json_t *record, nook_err *err)
{
  struct nook_overlay ov = { 0 };
  cleanup_free char *dir = nook_ctr_dir (m->store, id);
  cleanup_free char *merged = xasprintf ("%s/merged", dir);
  int ret;

  nook_ctr_overlay (m->store, id, record, &ov);
  ret = nook_ctr_idshift (m->store, &ov, merged, spec, err);
  nook_overlay_free (&ov);
  return ret;
}

/* New volumes get the image's content at their destination (podman's copy-up); a destination the image
 * does not have is simply left empty. */
static void
copy_up_volumes (struct nook_mgr *m, const char *id, json_t *record)
{
  json_t *list = json_object_get (json_object_get (record, "Nook"), "copy_up"), *e;
  struct nook_cp_opts co = { .archive = true };
  size_t i;

  json_array_foreach (list, i, e)
    {
      nook_err err = { 0 };
      cleanup_free char *src = xasprintf ("%s:%s/.", id, json_string_value (json_object_get (e, "dst")));
      if (nook_ctr_cp (m, src, json_string_value (json_object_get (e, "path")), &co, &err) < 0 && err.code != ENOENT
          && err.code != ENOTDIR)
        nook_warn ("volume at %s: copying the image's content: %s", json_string_value (json_object_get (e, "dst")),
                   err.msg);
    }
}

int
nook_ctr_create (struct nook_mgr *m, const struct nook_run_opts *o, char *const *argv, char **id, nook_err *err)
{
  struct nook_image *img = NULL;
  json_t *cfg = NULL, *spec = NULL, *record = NULL;
  cleanup_free char *name = NULL, *dir = NULL;
  int ret = -1;

  *id = NULL;
  if (find_image (m, o, &img, err) < 0 || (cfg = image_config (m, img, err)) == NULL)
    goto out;
  /* The monitor's stderr goes nowhere: say it here, as podman does. */
  if (geteuid () != 0 && (o->memory > 0 || o->pids_limit != 0 || o->cpus > 0)
      && nook_cgroup_detect () != NOOK_CGROUP_V2)
    nook_warn ("Resource limits are not supported and ignored on cgroups V1 rootless systems");
  if (nook_ctr_new (m->store, o->name, img->id, img->layers, id, &name, err) < 0)
    goto out;
  dir = nook_ctr_dir (m->store, *id);
  struct nook_specgen_in in = { .store = m->store, .image = img, .image_config = cfg, .opts = o, .id = *id,
                                .name = name, .ctr_dir = dir };
  if (nook_specgen (&in, &spec, &record, err) < 0)
    goto fail;
  json_object_set_new (json_object_get (record, "Config"), "CreateCommand", strv_to_json (argv));
  if (write_container (m, *id, spec, record, err) < 0 || shift_ids (m, *id, spec, record, err) < 0)
    goto fail;
  copy_up_volumes (m, *id, record);
  ret = 0;
  goto out;
fail:
  {
    nook_err ignored;
    nook_ctr_delete (m->store, *id, &ignored);
    free (*id);
    *id = NULL;
  }
out:
  json_decref (cfg);
  json_decref (spec);
  json_decref (record);
  nook_image_free (img);
  return ret;
}

/* The monitor, detached: double fork, setsid, stdio on /dev/null. */
static pid_t
spawn_monitor (struct nook_mgr *m, const struct nook_monitor_opts *mo, int ready_w)
{
  pid_t pid = fork ();
  if (pid != 0)
    return pid;
  setsid ();
  if (fork () != 0)
    _exit (0);
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd < 3 && null >= 0; fd++)
    dup2 (null, fd);
  nook_err e = { 0 };
  int code = 0;
  if (nook_monitor_run (mo, &code, &e) < 0)
    {
      dprintf (ready_w, "err %d %s\n", e.status ? e.status : NOOK_EXIT_ERROR, e.msg);
      _exit (1);
    }
  _exit (0);
}

/* "ok" or "err STATUS MESSAGE" from the monitor. */
static int
read_ready (int fd, nook_err *err)
{
  char buf[NOOK_ERR_MSG_MAX + 32];
  int n = nook_read_all (fd, buf, sizeof (buf) - 1);
  int status = 0, off = 0;

  buf[n > 0 ? n : 0] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
  if (strcmp (buf, "ok") == 0)
    return 0;
  if (sscanf (buf, "err %d %n", &status, &off) >= 1 && off > 0)
    {
      nook_error_input (err, "%s", buf + off);
      err->status = status;
      return -1;
    }
  return nook_error_input (err, "the container monitor exited before the container started");
}

/* A container that just exited: its monitor may still be draining outputs that a process left behind
 * holds open (--pid host) before it deletes the runtime state; give it a few seconds. */
static bool
runtime_state_exists (struct nook_runtime_ctx *ctx, const char *id)
{
  json_t *st = NULL;
  nook_err ignored = { 0 };

  if (nook_container_state (ctx, id, &st, &ignored) < 0)
    return false;
  json_decref (st);
  return true;
}

static void
wait_runtime_gone (struct nook_mgr *m, const char *id, json_t *record)
{
  struct nook_runtime_ctx ctx = nook_mgr_runtime (m);
  pid_t monitor = (pid_t) json_integer_value (json_object_get (json_object_get (record, "State"), "ConmonPid"));

  if (!runtime_state_exists (&ctx, id))
    return;
  /* The previous monitor deletes the runtime state, then exits: wait on its pidfd, then check again
   * (a monitor that died left the state: the start that follows replaces it). */
  nook_ctr_wait_monitor (monitor, 5000);
  for (int i = 0; i < 50 && runtime_state_exists (&ctx, id); i++)
    usleep (20000);
}

int
nook_ctr_start (struct nook_mgr *m, const char *id, bool attach, bool interactive, int *exit_code, nook_err *err)
{
  json_t *record = NULL;
  struct nook_overlay ov = { 0 };
  json_t *nook;
  int fds[2] = { -1, -1 }, ret = -1;
  pid_t pid;

  *exit_code = 0;
  if (nook_ctr_inspect (m, id, &record, err) < 0)
    return -1;
  if (nook_ctr_is_running (record))
    {
      ret = attach ? nook_ctr_attach_running (m, id, record, interactive, exit_code, err) : 0;
      json_decref (record);
      return ret;
    }
  wait_runtime_gone (m, id, record);
  nook = json_object_get (record, "Nook");
  nook_ctr_overlay (m->store, id, record, &ov);
  struct nook_monitor_opts mo = {
    .store = m->store, .id = id, .runroot = m->runroot, .overlay = &ov,
    .tty = json_is_true (json_object_get (nook, "tty")), .interactive = json_is_true (json_object_get (nook, "interactive")),
    .sig_proxy = true, .detach_keys = json_string_value (json_object_get (nook, "detach_keys")),
    .rm = json_is_true (json_object_get (nook, "rm")), .wait_attach = attach,
    .net = json_object_get (nook, "network"),
  };
  if (pipe2 (fds, O_CLOEXEC) < 0)
    {
      nook_error (err, errno, "pipe");
      goto out;
    }
  mo.ready_fd = fds[1];
  pid = spawn_monitor (m, &mo, fds[1]);
  close (fds[1]);
  if (pid < 0)
    {
      nook_error (err, errno, "fork monitor");
      goto out;
    }
  waitpid (pid, NULL, 0);
  if (read_ready (fds[0], err) < 0)
    goto out;
  ret = 0;
  if (attach)
    {
      pid_t monitor = mo.rm ? nook_ctr_monitor_pid (m, id) : 0;
      ret = nook_monitor_attach (m->runroot, id, mo.tty, interactive, mo.detach_keys, exit_code, err);
      /* run --rm returns once the container is gone, like podman. */
      if (ret == 0 && *exit_code >= 0)
        nook_ctr_wait_monitor (monitor, 10000);
    }
out:
  if (fds[0] >= 0)
    close (fds[0]);
  nook_overlay_free (&ov);
  json_decref (record);
  return ret;
}

int
nook_ctr_run (struct nook_mgr *m, const struct nook_run_opts *o, char *const *argv, char **id, int *exit_code,
              nook_err *err)
{
  if (nook_ctr_create (m, o, argv, id, err) < 0)
    return -1;
  if (nook_ctr_start (m, *id, !o->detach, o->interactive, exit_code, err) < 0)
    {
      if (o->rm)
        {
          nook_err ignored;
          nook_ctr_remove (m, *id, true, true, &ignored);
        }
      return -1;
    }
  return 0;
}
