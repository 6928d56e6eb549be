/* The container record, shaped as `podman inspect` prints it, plus the manager's "Nook" object. */
#include <string.h>

#include "manager/ctr_network.h"
#include "manager/specgen_internal.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define ZERO_TIME "0001-01-01T00:00:00Z"

static json_t *
state_json (void)
{
  return json_pack ("{s:s,s:b,s:b,s:b,s:b,s:b,s:i,s:i,s:s,s:s,s:s}", "Status", "created", "Running", 0, "Paused", 0,
                    "Restarting", 0, "OOMKilled", 0, "Dead", 0, "Pid", 0, "ExitCode", 0, "Error", "", "StartedAt",
                    ZERO_TIME, "FinishedAt", ZERO_TIME);
}

static json_t *
labels_json (struct sg *g)
{
  json_t *l = json_object (), *img = json_object_get (g->cfg, "Labels");

  if (json_is_object (img))
    json_object_update (l, img);
  for (size_t i = 0; g->o->labels != NULL && g->o->labels[i] != NULL; i++)
    {
      const char *s = g->o->labels[i], *eq = strchr (s, '=');
      cleanup_free char *k = xasprintf ("%.*s", (int) (eq ? (size_t) (eq - s) : strlen (s)), s);
      json_object_set_new (l, k, json_string (eq ? eq + 1 : ""));
    }
  return l;
}

static json_t *
config_json (struct sg *g, json_t *spec)
{
  const struct nook_run_opts *o = g->o;
  json_t *c = json_object ();

  json_object_set_new (c, "Hostname", json_string (g->hostname));
  json_object_set_new (c, "Domainname", json_string (""));
  json_object_set_new (c, "User", json_string (g->user));
  json_object_set_new (c, "AttachStdin", json_boolean (o->interactive && !o->detach));
  json_object_set_new (c, "AttachStdout", json_boolean (!o->detach));
  json_object_set_new (c, "AttachStderr", json_boolean (!o->detach));
  json_object_set_new (c, "Tty", json_boolean (o->tty));
  json_object_set_new (c, "OpenStdin", json_boolean (o->interactive));
  json_object_set_new (c, "StdinOnce", json_false ());
  json_object_set (c, "Env", g->env);
  json_object_set_new (c, "Cmd", g->cmd ? json_incref (g->cmd) : json_null ());
  json_object_set_new (c, "Image", json_string (g->image_name));
  json_object_set (c, "Volumes", g->volumes_cfg);
  json_object_set (c, "ExposedPorts", g->exposed);
  json_object_set_new (c, "WorkingDir", json_string (g->cwd));
  json_object_set_new (c, "Entrypoint", json_array_size (g->entrypoint) > 0 ? json_incref (g->entrypoint)
                                                                             : json_string (""));
  json_object_set_new (c, "OnBuild", json_null ());
  json_object_set_new (c, "Labels", labels_json (g));
  json_object_set (c, "Annotations", json_object_get (spec, "annotations"));
  json_object_set_new (c, "StopSignal", json_string (g->stop_signal_name));
  json_object_set_new (c, "StopTimeout", json_integer (o->stop_timeout >= 0 ? o->stop_timeout : 10));
  json_object_set_new (c, "CreateCommand", json_array ());
  json_object_set_new (c, "Umask", json_string ("0022"));
  return c;
}

static const char *
ns_mode (const struct sg_ns *ns, const char *raw)
{
  if (ns->mode == SG_NS_HOST)
    return "host";
  if (ns->mode == SG_NS_PATH)
    return raw;
  return "private";
}

static json_t *
hostconfig_json (struct sg *g)
{
  const struct nook_run_opts *o = g->o;
  json_t *h = json_object (), *groups = sg_strv_json (o->group_add);

  json_object_set (h, "Binds", g->binds);
  json_object_set_new (h, "NetworkMode", json_string (g->network_mode));
  json_object_set_new (h, "PortBindings", sg_port_bindings (g));
  json_object_set_new (h, "AutoRemove", json_boolean (o->rm));
  json_object_set (h, "CapAdd", g->cap_add);
  json_object_set (h, "CapDrop", g->cap_drop);
  json_object_set_new (h, "Privileged", json_boolean (o->privileged));
  json_object_set_new (h, "Init", json_boolean (o->init));
  json_object_set_new (h, "ReadonlyRootfs", json_boolean (o->read_only));
  json_object_set_new (h, "SecurityOpt", sg_strv_json (o->security_opts));
  json_object_set_new (h, "UsernsMode", json_string (o->userns ? o->userns : ""));
  json_object_set_new (h, "PidMode", json_string (ns_mode (&g->pid, o->pid)));
  json_object_set_new (h, "IpcMode", json_string (ns_mode (&g->ipc, o->ipc)));
  json_object_set_new (h, "UTSMode", json_string (ns_mode (&g->uts, o->uts)));
  json_object_set_new (h, "CgroupnsMode", json_string (ns_mode (&g->cgroupns, o->cgroupns)));
  json_object_set_new (h, "Memory", json_integer (o->memory));
  json_object_set_new (h, "PidsLimit", json_integer (o->pids_limit));
  json_object_set_new (h, "NanoCpus", json_integer ((json_int_t) (o->cpus * 1e9 + 0.5)));
  json_object_set_new (h, "ShmSize", json_integer (o->shm_size > 0 ? o->shm_size : SG_DEFAULT_SHM));
  json_object_set (h, "Ulimits", g->ulimits_rec);
  json_object_set_new (h, "Devices", json_array ());
  json_object_set (h, "Tmpfs", g->tmpfs_rec);
  json_object_set_new (h, "GroupAdd", groups);
  return h;
}

static json_t *
nook_json (struct sg *g)
{
  const struct nook_run_opts *o = g->o;
  json_t *layers = sg_strv_json (g->in->image ? g->in->image->layers : NULL);

  return json_pack ("{s:o,s:b,s:b,s:b,s:i,s:i,s:s,s:O,s:O}", "layers", layers, "tty", o->tty, "interactive",
                    o->interactive, "rm", o->rm, "stop_signal", g->stop_signal, "stop_timeout",
                    o->stop_timeout >= 0 ? o->stop_timeout : 10, "detach_keys",
                    o->detach_keys ? o->detach_keys : "ctrl-p,ctrl-q", "anonymous_volumes", g->anon_volumes,
                    "copy_up", g->copy_up);
}

static json_t *
args_rest (json_t *args)
{
  json_t *a = json_array ();
  for (size_t i = 1; i < json_array_size (args); i++)
    json_array_append (a, json_array_get (args, i));
  return a;
}

json_t *
sg_record (struct sg *g, json_t *spec)
{
  const struct nook_specgen_in *in = g->in;
  cleanup_free char *now = sg_now_rfc3339 ();
  cleanup_free char *ud = xasprintf ("%s/userdata", in->ctr_dir);
  json_t *r = json_object ();

  json_object_set_new (r, "Id", json_string (in->id));
  json_object_set_new (r, "Created", json_string (now));
  json_object_set (r, "Path", json_array_get (g->args, 0));
  json_object_set_new (r, "Args", args_rest (g->args));
  json_object_set_new (r, "State", state_json ());
  json_object_set_new (r, "Image", json_string (in->image && in->image->id ? in->image->id : ""));
  json_object_set_new (r, "ImageName", json_string (g->image_name));
  json_object_set_new (r, "Rootfs", json_string (""));
  json_object_set_new (r, "ResolvConfPath", json_pack ("s++", ud, "/", "resolv.conf"));
  json_object_set_new (r, "HostnamePath", json_pack ("s++", ud, "/", "hostname"));
  json_object_set_new (r, "HostsPath", json_pack ("s++", ud, "/", "hosts"));
  json_object_set_new (r, "Name", json_string (in->name ? in->name : ""));
  json_object_set_new (r, "RestartCount", json_integer (0));
  json_object_set_new (r, "Driver", json_string ("overlay"));
  json_object_set_new (r, "MountLabel", json_string (""));
  json_object_set_new (r, "ProcessLabel", json_string (g->selinux_label ? g->selinux_label : ""));
  json_object_set (r, "Mounts", g->rec_mounts);
  json_object_set_new (r, "Config", config_json (g, spec));
  json_object_set_new (r, "HostConfig", hostconfig_json (g));
  json_object_set_new (r, "Nook", nook_json (g));
  json_object_set_new (json_object_get (r, "Nook"), "network", sg_network_record (g));
  json_object_set_new (r, "NetworkSettings", nook_ctr_net_settings (NULL));
  return r;
}
