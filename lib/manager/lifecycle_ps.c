/* `ps` rows in podman's shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image/present.h"
#include "manager/ctr_network.h"
#include "manager/ctrstore.h"
#include "manager/lifecycle_internal.h"
#include "util/strutil.h"

static const char *
str (json_t *o, const char *k)
{
  const char *s = json_string_value (json_object_get (o, k));
  return s ? s : "";
}

static char *
command_line (json_t *r)
{
  json_t *args = json_object_get (r, "Args");
  char *s = xstrdup (str (r, "Path"));
  for (size_t i = 0; i < json_array_size (args); i++)
    {
      char *n = xasprintf ("%s %s", s, json_string_value (json_array_get (args, i)) ?: "");
      free (s);
      s = n;
    }
  return s;
}

/* "Up 5 seconds", "Exited (0) 3 seconds ago", "Created". */
static char *
status_text (json_t *st)
{
  const char *status = str (st, "Status");
  if (strcmp (status, "running") == 0)
    {
      char *since = nook_human_since (nook_parse_rfc3339 (str (st, "StartedAt")));
      char *ago = strstr (since, " ago");
      if (ago)
        *ago = '\0';
      char *s = xasprintf ("Up %s", since);
      free (since);
      return s;
    }
  if (strcmp (status, "exited") == 0 || strcmp (status, "stopped") == 0)
    {
      char *since = nook_human_since (nook_parse_rfc3339 (str (st, "FinishedAt")));
      char *s = xasprintf ("Exited (%d) %s", (int) json_integer_value (json_object_get (st, "ExitCode")), since);
      free (since);
      return s;
    }
  return xstrdup ("Created");
}

static json_t *
mounts_list (json_t *r)
{
  json_t *a = json_array (), *mounts = json_object_get (r, "Mounts");
  for (size_t i = 0; i < json_array_size (mounts); i++)
    json_array_append_new (a, json_string (str (json_array_get (mounts, i), "Destination")));
  return a;
}

static json_t *
row (json_t *r)
{
  json_t *st = json_object_get (r, "State"), *cfg = json_object_get (r, "Config");
  time_t created = nook_parse_rfc3339 (str (r, "Created"));
  char *cmd = command_line (r), *ports = nook_ctr_ports_text (r), *since = nook_human_since (created), *status = status_text (st);
  char created_at[64];
  struct tm tm;
  json_t *labels = json_object_get (cfg, "Labels");
  const char *state = str (st, "Status");

  gmtime_r (&created, &tm);
  strftime (created_at, sizeof (created_at), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
  json_t *o = json_pack (
      "{s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:O,s:o,s:I,s:I,s:b,s:s,s:s,s:b,s:[],s:[],s:b,s:s}", "ID",
      str (r, "Id"), "Image", str (r, "ImageName"), "ImageID", str (r, "Image"), "Command", cmd, "Created",
      (json_int_t) created, "CreatedAt", created_at, "CreatedHuman", since, "RunningFor", since, "Status", status,
      "State", strcmp (state, "stopped") == 0 ? "exited" : state, "Ports", ports, "Names", str (r, "Name"), "Labels",
      labels ? labels : json_object (), "Mounts", mounts_list (r), "Pid", json_integer_value (json_object_get (st, "Pid")),
      "ExitCode", json_integer_value (json_object_get (st, "ExitCode")), "Exited",
      strcmp (state, "exited") == 0, "ExitedAt", str (st, "FinishedAt"), "StartedAt", str (st, "StartedAt"),
      "AutoRemove", json_is_true (json_object_get (json_object_get (r, "HostConfig"), "AutoRemove")), "Networks",
      "Namespaces", "IsInfra", 0, "Pod", "");
  json_t *argv = json_array ();
  json_array_append_new (argv, json_string (str (r, "Path")));
  if (json_is_array (json_object_get (r, "Args")))
    json_array_extend (argv, json_object_get (r, "Args"));
  json_object_set_new (o, "CommandArgs", argv);
  free (cmd);
  free (ports);
  free (since);
  free (status);
  return o;
}

int
nook_ctr_ps (struct nook_mgr *m, bool all, json_t **rows, nook_err *err)
{
  char **ids = NULL;

  if (nook_ctr_list (m->store, &ids, err) < 0)
    return -1;
  *rows = json_array ();
  for (size_t i = 0; ids && ids[i]; i++)
    {
      json_t *r = NULL;
      nook_err ignored;
      if (nook_ctr_inspect (m, ids[i], &r, &ignored) < 0)
        continue; /* removed meanwhile */
      if (all || nook_ctr_is_running (r))
        json_array_append_new (*rows, row (r));
      json_decref (r);
    }
  strv_free (ids);
  return 0;
}
