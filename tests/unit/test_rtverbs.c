/* `update --resources` parsing, the rootless decision's overrides, the executable check at create. */
#include <jansson.h>
#include <unistd.h>

#include "harness.h"
#include "runtime/security.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "util/error.h"

static int
parse (const char *text, struct nook_resources *r, nook_err *err)
{
  json_t *o = json_loads (text, 0, NULL);
  int ret = nook_resources_parse (o, "resources", r, err);
  json_decref (o);
  return ret;
}

static void
test_resources_parse (void)
{
  struct nook_resources r;
  nook_err err = { 0 };

  CHECK (parse ("{\"memory\":{\"limit\":67108864,\"swap\":-1},\"pids\":{\"limit\":50},"
                "\"cpu\":{\"shares\":512,\"quota\":20000,\"period\":100000,\"cpus\":\"0\"}}",
                &r, &err)
         == 0);
  CHECK (r.has_memory_limit && r.memory_limit == 67108864);
  CHECK (r.has_memory_swap && r.memory_swap == -1);
  CHECK (!r.has_memory_reservation);
  CHECK (r.has_pids_limit && r.pids_limit == 50);
  CHECK (r.has_cpu_shares && r.cpu_shares == 512 && r.has_cpu_quota && r.cpu_quota == 20000);
  CHECK (r.has_cpu_period && r.cpu_period == 100000);
  CHECK_STR (r.cpu_cpus, "0");
  nook_resources_free (&r);

  CHECK (parse ("{}", &r, &err) == 0);
  CHECK (!r.has_memory_limit && !r.has_pids_limit && r.cpu_cpus == NULL);
  nook_resources_free (&r);

  CHECK (parse ("{\"memory\":{\"limit\":\"big\"}}", &r, &err) < 0);
  CHECK (strstr (err.msg, "memory.limit") != NULL);
  CHECK (parse ("{\"memory\":{\"limit\":-5}}", &r, &err) < 0);
  CHECK (parse ("{\"pids\":[]}", &r, &err) < 0);
  CHECK (strstr (err.msg, "pids") != NULL);
}

static void
test_rootless_flag (void)
{
  CHECK (nook_rootless (NOOK_ROOTLESS_YES));
  CHECK (!nook_rootless (NOOK_ROOTLESS_NO));
  if (geteuid () != 0)
    CHECK (nook_rootless (NOOK_ROOTLESS_AUTO));
  setenv ("_CONTAINERS_USERNS_CONFIGURED", "done", 1);
  CHECK (nook_rootless (NOOK_ROOTLESS_AUTO));
  unsetenv ("_CONTAINERS_USERNS_CONFIGURED");
}

static void
test_check_executable (void)
{
  char *sh_args[] = { (char *) "sh", NULL }, *abs_args[] = { (char *) "/bin/sh", NULL };
  char *missing[] = { (char *) "no-such-command-here", NULL }, *abs_missing[] = { (char *) "/no/such", NULL };
  char *rel[] = { (char *) "./whatever", NULL };
  char *env[] = { (char *) "PATH=/usr/bin:/bin", NULL };
  struct nook_process p = { .env = env };
  nook_err err = { 0 };

  p.args = sh_args;
  CHECK (nook_process_check_executable (&p, &err) == 0);
  p.args = abs_args;
  CHECK (nook_process_check_executable (&p, &err) == 0);
  p.args = rel;
  CHECK (nook_process_check_executable (&p, &err) == 0);
  p.args = missing;
  CHECK (nook_process_check_executable (&p, &err) < 0);
  CHECK (err.status == 127 && strstr (err.msg, "not found in $PATH") != NULL);
  p.args = abs_missing;
  CHECK (nook_process_check_executable (&p, &err) < 0);
  CHECK (err.status == 127);
  CHECK (nook_process_check_executable (NULL, &err) == 0);
  char *dir[] = { (char *) "/etc", NULL }, *plain[] = { (char *) "/etc/passwd", NULL };
  p.args = dir;
  CHECK (nook_process_check_executable (&p, &err) < 0);
  CHECK (err.status == 126 && strstr (err.msg, "exec `/etc`") != NULL);
  p.args = plain;
  CHECK (nook_process_check_executable (&p, &err) < 0);
  CHECK (err.status == 126);
}

int
main (void)
{
  RUN (test_resources_parse);
  RUN (test_rootless_flag);
  RUN (test_check_executable);
  return HARNESS_END ();
}
