/* Manifests, indexes, image configs and platform selection. */
#include <string.h>
#include <sys/utsname.h>

#include "harness.h"
#include "image/manifest.h"

#define DA "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DB "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define DC "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

#define ENTRY(mt, d, plat) "{\"mediaType\":\"" mt "\",\"digest\":\"" d "\",\"size\":100,\"platform\":{" plat "}}"
#define PLAT(os, arch) "\"os\":\"" os "\",\"architecture\":\"" arch "\""
#define PLATV(os, arch, v) PLAT (os, arch) ",\"variant\":\"" v "\""

/* clang-format off */
static const char oci_index[] = "{\"schemaVersion\":2,\"mediaType\":\"" NOOK_MT_OCI_INDEX "\",\"manifests\":["
    ENTRY (NOOK_MT_OCI_MANIFEST, DA, PLAT ("linux", "amd64")) ","
    ENTRY (NOOK_MT_OCI_MANIFEST, DB, PLATV ("linux", "arm64", "v8")) "],"
    "\"annotations\":{\"org.opencontainers.image.ref.name\":\"1\"}}";
/* clang-format on */

static const char oci_manifest[]
    = "{\"schemaVersion\":2,\"mediaType\":\"" NOOK_MT_OCI_MANIFEST "\","
      "\"config\":{\"mediaType\":\"" NOOK_MT_OCI_CONFIG "\",\"digest\":\"" DA "\",\"size\":1234},"
      "\"layers\":[{\"mediaType\":\"" NOOK_MT_OCI_LAYER_GZIP "\",\"digest\":\"" DB "\",\"size\":10},"
      "{\"mediaType\":\"" NOOK_MT_OCI_LAYER_ZSTD "\",\"digest\":\"" DC "\",\"size\":0},"
      "{\"mediaType\":\"" NOOK_MT_OCI_LAYER "\",\"digest\":\"" DC "\",\"size\":3}]}";

static const char docker_manifest[]
    = "{\"schemaVersion\":2,\"mediaType\":\"" NOOK_MT_DOCKER_MANIFEST "\","
      "\"config\":{\"mediaType\":\"" NOOK_MT_DOCKER_CONFIG "\",\"digest\":\"" DA "\",\"size\":1},"
      "\"layers\":[{\"mediaType\":\"" NOOK_MT_DOCKER_LAYER_GZIP "\",\"digest\":\"" DB "\",\"size\":10},"
      "{\"mediaType\":\"" NOOK_MT_DOCKER_FOREIGN_LAYER "\",\"digest\":\"" DC "\",\"size\":5,"
      "\"urls\":[\"https://example.com/layer\"]}]}";

static struct nook_manifest *
parse_ok (const char *doc, const char *ct)
{
  struct nook_manifest *m = NULL;
  nook_err err = { 0 };

  if (nook_manifest_parse (doc, strlen (doc), ct, &m, &err) < 0)
    {
      printf ("    unexpected error: %s\n", err.msg);
      return NULL;
    }
  return m;
}

/* Must fail with SUB in the message. */
static int
parse_bad (const char *doc, const char *ct, const char *sub)
{
  struct nook_manifest *m = NULL;
  nook_err err = { 0 };

  if (nook_manifest_parse (doc, strlen (doc), ct, &m, &err) == 0)
    {
      printf ("    accepted: %s\n", doc);
      nook_manifest_free (m);
      return 0;
    }
  if (strstr (err.msg, sub) == NULL)
    {
      printf ("    error `%s` lacks `%s`\n", err.msg, sub);
      return 0;
    }
  return 1;
}

static void
test_oci_index (void)
{
  struct nook_manifest *m = parse_ok (oci_index, NOOK_MT_OCI_INDEX);

  CHECK (m != NULL);
  if (m == NULL)
    return;
  CHECK (m->is_index);
  CHECK_STR (m->media_type, NOOK_MT_OCI_INDEX);
  CHECK (m->n_manifests == 2);
  CHECK_STR (m->manifests[1].digest, DB);
  CHECK_STR (m->manifests[1].platform.arch, "arm64");
  CHECK_STR (m->manifests[1].platform.variant, "v8");
  CHECK (m->manifests[0].platform.variant == NULL);
  CHECK (m->manifests[0].size == 100);
  CHECK (json_is_object (m->annotations));
  CHECK (m->layers == NULL && m->n_layers == 0);
  nook_manifest_free (m);
}

static void
test_oci_manifest (void)
{
  struct nook_manifest *m = parse_ok (oci_manifest, "application/json");
  nook_err err = { 0 };

  CHECK (m != NULL);
  if (m == NULL)
    return;
  CHECK (!m->is_index);
  CHECK_STR (m->media_type, NOOK_MT_OCI_MANIFEST);
  CHECK_STR (m->config.media_type, NOOK_MT_OCI_CONFIG);
  CHECK_STR (m->config.digest, DA);
  CHECK (m->config.size == 1234);
  CHECK (m->n_layers == 3);
  CHECK (nook_layer_compression (m->layers[0].media_type, &err) == NOOK_COMP_GZIP);
  CHECK (nook_layer_compression (m->layers[1].media_type, &err) == NOOK_COMP_ZSTD);
  CHECK (nook_layer_compression (m->layers[2].media_type, &err) == NOOK_COMP_NONE);
  CHECK (m->layers[1].size == 0);
  CHECK (m->annotations == NULL);
  nook_manifest_free (m);
}

static void
test_docker_manifest (void)
{
  struct nook_manifest *m = parse_ok (docker_manifest, NOOK_MT_DOCKER_MANIFEST "; charset=utf-8");
  nook_err err = { 0 };

  CHECK (m != NULL);
  if (m == NULL)
    return;
  CHECK_STR (m->media_type, NOOK_MT_DOCKER_MANIFEST);
  CHECK (m->n_layers == 2);
  CHECK (m->layers[0].urls == NULL);
  CHECK (m->layers[1].urls != NULL && m->layers[1].urls[1] == NULL);
  if (m->layers[1].urls)
    CHECK_STR (m->layers[1].urls[0], "https://example.com/layer");
  CHECK (nook_layer_compression (m->layers[1].media_type, &err) == NOOK_COMP_GZIP);
  nook_manifest_free (m);
}

static void
test_docker_list (void)
{
  /* clang-format off */
  static const char doc[] = "{\"schemaVersion\":2,\"manifests\":["
      ENTRY (NOOK_MT_DOCKER_MANIFEST, DA, PLAT ("linux", "amd64")) ","
      ENTRY (NOOK_MT_DOCKER_MANIFEST, DB, PLATV ("linux", "arm", "v7")) "]}";
  /* clang-format on */
  struct nook_manifest *m = parse_ok (doc, NOOK_MT_DOCKER_LIST);

  CHECK (m != NULL);
  if (m == NULL)
    return;
  CHECK (m->is_index);
  CHECK_STR (m->media_type, NOOK_MT_DOCKER_LIST);
  CHECK (m->n_manifests == 2);
  nook_manifest_free (m);
}

static void
test_type_detection (void)
{
  static const char shape_index[] = "{\"schemaVersion\":2,\"manifests\":[]}";
  static const char shape_image[]
      = "{\"schemaVersion\":2,"
        "\"config\":{\"mediaType\":\"" NOOK_MT_DOCKER_CONFIG "\",\"digest\":\"" DA "\",\"size\":1},\"layers\":[]}";
  struct nook_manifest *m;

  m = parse_ok (shape_index, NULL);
  CHECK (m && m->is_index && strcmp (m->media_type, NOOK_MT_OCI_INDEX) == 0 && m->n_manifests == 0);
  nook_manifest_free (m);
  m = parse_ok (shape_image, "application/octet-stream");
  CHECK (m && !m->is_index && strcmp (m->media_type, NOOK_MT_OCI_MANIFEST) == 0 && m->n_layers == 0);
  nook_manifest_free (m);
  /* The Content-Type decides when the document has no mediaType. */
  m = parse_ok (shape_image, NOOK_MT_DOCKER_MANIFEST);
  CHECK (m && strcmp (m->media_type, NOOK_MT_DOCKER_MANIFEST) == 0);
  nook_manifest_free (m);
  /* Content-Type parameters and case are ignored. */
  m = parse_ok (docker_manifest, " Application/Vnd.Docker.Distribution.Manifest.V2+json ; x=y");
  CHECK (m && strcmp (m->media_type, NOOK_MT_DOCKER_MANIFEST) == 0);
  nook_manifest_free (m);
  /* mediaType wins over a generic Content-Type. */
  m = parse_ok (docker_manifest, "application/json");
  CHECK (m && strcmp (m->media_type, NOOK_MT_DOCKER_MANIFEST) == 0);
  nook_manifest_free (m);
}

#define IMG_HEAD                                                                                                       \
  "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" NOOK_MT_OCI_CONFIG "\",\"digest\":\"" DA "\",\"size\":1},"
#define LAYER(mt, d, size) "\"layers\":[{\"mediaType\":\"" mt "\",\"digest\":\"" d "\",\"size\":" size "}]}"

static void
test_manifest_reject (void)
{
  static char big[NOOK_MANIFEST_MAX + 16];
  struct nook_manifest *m = NULL;
  nook_err err = { 0 };

  CHECK (parse_bad ("{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}", NULL, "unsupported manifest schema 1"));
  CHECK (parse_bad ("{\"schemaVersion\":1}", "application/vnd.docker.distribution.manifest.v1+prettyjws",
                    "unsupported manifest schema 1"));
  CHECK (parse_bad ("{\"schemaVersion\":3,\"manifests\":[]}", NULL, "schemaVersion"));
  CHECK (parse_bad ("{\"manifests\":[]}", NULL, "schemaVersion"));
  CHECK (parse_bad ("{\"schemaVersion\":\"2\",\"manifests\":[]}", NULL, "schemaVersion"));
  CHECK (parse_bad (IMG_HEAD "\"manifests\":[]," LAYER (NOOK_MT_OCI_LAYER, DB, "1"), NULL, "ambiguous manifest"));
  CHECK (parse_bad ("{\"schemaVersion\":2,\"manifests\":[],\"config\":{}}", NOOK_MT_OCI_INDEX, "ambiguous manifest"));
  CHECK (parse_bad (oci_manifest, NOOK_MT_DOCKER_MANIFEST, "contradicts"));
  CHECK (parse_bad (oci_index, NOOK_MT_OCI_MANIFEST, "contradicts"));
  CHECK (parse_bad ("{\"schemaVersion\":2,\"manifests\":[]}", NOOK_MT_OCI_MANIFEST, "ambiguous manifest"));
  CHECK (parse_bad (IMG_HEAD LAYER (NOOK_MT_OCI_LAYER, DB, "1"), NOOK_MT_OCI_INDEX, "ambiguous manifest"));
  CHECK (parse_bad ("{\"schemaVersion\":2,\"mediaType\":\"application/x-foo\",\"manifests\":[]}", NULL,
                    "unsupported manifest media type"));
  CHECK (parse_bad ("{\"schemaVersion\":2}", NULL, "neither"));
  CHECK (parse_bad ("{\"schemaVersion\":2,\"manifests\":[]", NULL, "invalid JSON"));
  CHECK (parse_bad ("[]", NULL, "object"));
  CHECK (parse_bad ("{\"schemaVersion\":2,\"manifests\":[],\"manifests\":[]}", NULL, "invalid JSON"));
  CHECK (parse_bad ("{\"schemaVersion\":2,\"manifests\":{}}", NULL, "array"));
  CHECK (parse_bad (IMG_HEAD LAYER (NOOK_MT_OCI_LAYER, "sha256:abc", "1"), NULL, "invalid digest"));
  CHECK (parse_bad (IMG_HEAD LAYER (NOOK_MT_OCI_LAYER, "sha512:abc", "1"), NULL, "unsupported digest algorithm"));
  CHECK (parse_bad (IMG_HEAD LAYER (NOOK_MT_OCI_LAYER, DB, "-1"), NULL, "size"));
  CHECK (parse_bad (IMG_HEAD LAYER (NOOK_MT_OCI_LAYER, DB, "1.5"), NULL, "size"));
  CHECK (parse_bad (IMG_HEAD "\"layers\":[{\"mediaType\":\"" NOOK_MT_OCI_LAYER "\",\"digest\":\"" DB "\"}]}", NULL,
                    "layers[0]: missing `size`"));
  CHECK (parse_bad (IMG_HEAD "\"layers\":[{\"digest\":\"" DB "\",\"size\":1}]}", NULL, "mediaType"));
  CHECK (parse_bad (IMG_HEAD LAYER ("application/vnd.foo", DB, "1"), NULL,
                    "layers[0]: unsupported layer media type application/vnd.foo"));
  CHECK (parse_bad ("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/octet-stream\",\"digest\":\"" DA
                    "\",\"size\":1}," LAYER (NOOK_MT_OCI_LAYER, DB, "1"),
                    NULL, "unknown config media type application/octet-stream"));
  CHECK (parse_bad ("{\"schemaVersion\":2,\"layers\":[]}", NULL, "missing `config`"));
  CHECK (parse_bad ("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" NOOK_MT_OCI_CONFIG "\",\"digest\":\"" DA
                    "\",\"size\":1}}",
                    NULL, "missing `layers`"));
  CHECK (parse_bad (IMG_HEAD "\"layers\":[{\"mediaType\":\"" NOOK_MT_DOCKER_FOREIGN_LAYER "\",\"digest\":\"" DB
                             "\",\"size\":1,\"urls\":[\"file:///etc/shadow\"]}]}",
                    NULL, "not http"));
  CHECK (parse_bad ("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" NOOK_MT_OCI_MANIFEST "\",\"digest\":\"" DA
                    "\",\"size\":1,\"platform\":{\"os\":\"linux\"}}]}",
                    NULL, "architecture"));
  CHECK (parse_bad (IMG_HEAD "\"annotations\":[]," LAYER (NOOK_MT_OCI_LAYER, DB, "1"), NULL, "annotations"));

  memset (big, ' ', sizeof big - 1);
  memcpy (big, "{\"schemaVersion\":2,\"manifests\":[]}", 34);
  CHECK (nook_manifest_parse (big, sizeof big - 1, NULL, &m, &err) < 0);
  CHECK (strstr (err.msg, "limit") != NULL);
  CHECK (nook_manifest_parse (big, NOOK_MANIFEST_MAX, NULL, &m, &err) == 0);
  nook_manifest_free (m);
}

static void
test_layer_types (void)
{
  nook_err err = { 0 };

  CHECK (nook_layer_compression (NOOK_MT_DOCKER_LAYER_GZIP, &err) == NOOK_COMP_GZIP);
  CHECK (nook_layer_compression ("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", &err)
         == NOOK_COMP_GZIP);
  CHECK (nook_layer_compression ("application/vnd.docker.image.rootfs.diff.tar.zstd", &err) < 0);
  CHECK_STR (err.msg, "unsupported layer media type application/vnd.docker.image.rootfs.diff.tar.zstd");
  CHECK (nook_layer_compression (NULL, &err) < 0);
}

/* Select WANT ("os/arch[/variant]") from DOC; returns the digest or NULL (error text into ERRBUF). */
static const char *
select_from (struct nook_manifest *m, const char *want, char *errbuf)
{
  struct nook_platform p;
  const struct nook_descriptor *d = NULL;
  nook_err err = { 0 };
  int r;

  if (nook_platform_parse (want, &p, &err) < 0)
    return NULL;
  r = nook_manifest_select (m, &p, &d, &err);
  nook_platform_free (&p);
  if (errbuf)
    strcpy (errbuf, r < 0 ? err.msg : "");
  return r < 0 ? NULL : d->digest;
}

static void
test_select (void)
{
  struct nook_manifest *m = parse_ok (oci_index, NULL);
  char msg[NOOK_ERR_MSG_MAX];

  CHECK (m != NULL);
  if (m == NULL)
    return;
  CHECK_STR (select_from (m, "linux/amd64", NULL), DA);
  CHECK_STR (select_from (m, "amd64", NULL), DA);
  CHECK_STR (select_from (m, "linux/arm64", NULL), DB);
  CHECK_STR (select_from (m, "linux/arm64/v8", NULL), DB);
  CHECK_STR (select_from (m, "linux/aarch64", NULL), DB);
  CHECK (select_from (m, "linux/arm/v7", msg) == NULL);
  CHECK_STR (msg, "no image found in manifest list for architecture arm, variant \"v7\", OS linux "
                  "(available: linux/amd64, linux/arm64/v8)");
  CHECK (select_from (m, "windows/amd64", msg) == NULL);
  CHECK (strstr (msg, "architecture amd64, variant \"\", OS windows") != NULL);
  CHECK (select_from (m, "arm64/v8", msg) == NULL); /* two components are os/arch */
  nook_manifest_free (m);
}

static void
test_select_variants (void)
{
  /* clang-format off */
  static const char doc[] = "{\"schemaVersion\":2,\"manifests\":["
      ENTRY (NOOK_MT_OCI_MANIFEST, DA, PLATV ("linux", "arm", "v6")) ","
      ENTRY (NOOK_MT_OCI_MANIFEST, DB, PLATV ("linux", "arm", "v7")) ","
      ENTRY (NOOK_MT_OCI_MANIFEST, DC, PLAT ("linux", "arm64")) ","
      ENTRY (NOOK_MT_OCI_MANIFEST, DA, PLATV ("linux", "amd64", "v3")) ","
      ENTRY (NOOK_MT_OCI_MANIFEST, DB, PLAT ("linux", "amd64")) ","
      "{\"mediaType\":\"" NOOK_MT_OCI_MANIFEST "\",\"digest\":\"" DC "\",\"size\":1}]}";
  /* clang-format on */
  struct nook_manifest *m = parse_ok (doc, NOOK_MT_OCI_INDEX);
  struct nook_manifest *img = parse_ok (oci_manifest, NULL);
  struct nook_platform p = { 0 };
  const struct nook_descriptor *d;
  nook_err err = { 0 };
  char msg[NOOK_ERR_MSG_MAX];

  CHECK (m != NULL && img != NULL);
  if (m == NULL || img == NULL)
    return;
  CHECK_STR (select_from (m, "linux/arm/v7", NULL), DB);
  CHECK_STR (select_from (m, "linux/arm/v6", NULL), DA);
  CHECK (select_from (m, "linux/arm/v5", msg) == NULL);
  CHECK (strstr (msg, "linux/arm/v6, linux/arm/v7, linux/arm64, linux/amd64/v3, linux/amd64, (no platform)") != NULL);
  CHECK_STR (select_from (m, "linux/arm64/v8", NULL), DC);
  CHECK_STR (select_from (m, "linux/arm64", NULL), DC);
  CHECK_STR (select_from (m, "linux/amd64", NULL), DB); /* exact beats compatible */
  CHECK_STR (select_from (m, "linux/amd64/v3", NULL), DA);
  CHECK_STR (select_from (m, "linux/amd64/v2", NULL), DB); /* baseline amd64 runs everywhere */
  p.os = "linux";
  p.arch = "amd64";
  CHECK (nook_manifest_select (img, &p, &d, &err) < 0);
  CHECK (strstr (err.msg, "not an image index") != NULL);
  nook_manifest_free (m);
  nook_manifest_free (img);
}

static void
test_platform (void)
{
  struct nook_platform p;
  struct utsname u;
  nook_err err = { 0 };
  char *s;

  CHECK (nook_platform_parse ("linux/arm64/v8", &p, &err) == 0);
  s = nook_platform_string (&p);
  CHECK_STR (s, "linux/arm64/v8");
  free (s);
  nook_platform_free (&p);
  CHECK (nook_platform_parse ("arm64", &p, &err) == 0);
  CHECK_STR (p.os, "linux");
  CHECK_STR (p.arch, "arm64");
  CHECK (p.variant == NULL);
  nook_platform_free (&p);
  CHECK (nook_platform_parse ("arm64/v8", &p, &err) == 0);
  CHECK_STR (p.os, "arm64");
  CHECK_STR (p.arch, "v8");
  nook_platform_free (&p);
  CHECK (nook_platform_parse ("Linux/x86_64", &p, &err) == 0);
  CHECK_STR (p.os, "linux");
  CHECK_STR (p.arch, "amd64");
  nook_platform_free (&p);
  CHECK (nook_platform_parse ("armhf", &p, &err) == 0);
  CHECK (strcmp (p.arch, "arm") == 0 && p.variant && strcmp (p.variant, "v7") == 0);
  nook_platform_free (&p);
  CHECK (nook_platform_parse ("linux/armhf/v6", &p, &err) == 0);
  CHECK (strcmp (p.arch, "arm") == 0 && p.variant && strcmp (p.variant, "v6") == 0);
  nook_platform_free (&p);
  CHECK (nook_platform_parse ("linux/arm64/8", &p, &err) == 0);
  CHECK_STR (p.variant, "v8");
  nook_platform_free (&p);
  CHECK (nook_platform_parse ("", &p, &err) < 0);
  CHECK (strstr (err.msg, "expected os/arch[/variant]") != NULL);
  CHECK (nook_platform_parse ("linux/", &p, &err) < 0);
  CHECK (nook_platform_parse ("linux//v7", &p, &err) < 0);
  CHECK (nook_platform_parse ("a/b/c/d", &p, &err) < 0);

  nook_platform_host (&p);
  CHECK (uname (&u) == 0);
  CHECK_STR (p.os, "linux");
  if (strcmp (u.machine, "x86_64") == 0)
    CHECK (strcmp (p.arch, "amd64") == 0 && p.variant == NULL);
  if (strcmp (u.machine, "aarch64") == 0)
    CHECK (strcmp (p.arch, "arm64") == 0 && p.variant && strcmp (p.variant, "v8") == 0);
  nook_platform_free (&p);
  nook_platform_free (&p);
}

static const char image_config[]
    = "{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\","
      "\"created\":\"2024-01-02T03:04:05Z\",\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"/bin/sh\"]},"
      "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DA "\",\"" DB "\"]},\"history\":[]}";

static int
config_bad (const char *doc, const char *sub)
{
  struct nook_image_config *c = NULL;
  nook_err err = { 0 };

  if (nook_image_config_parse (doc, strlen (doc), &c, &err) == 0)
    {
      nook_image_config_free (c);
      printf ("    accepted: %s\n", doc);
      return 0;
    }
  if (strstr (err.msg, sub) == NULL)
    {
      printf ("    error `%s` lacks `%s`\n", err.msg, sub);
      return 0;
    }
  return 1;
}

static void
test_image_config (void)
{
  static const char minimal[] = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
  struct nook_image_config *c = NULL;
  nook_err err = { 0 };

  CHECK (nook_image_config_parse (image_config, strlen (image_config), &c, &err) == 0);
  if (c == NULL)
    return;
  CHECK_STR (c->platform.arch, "arm64");
  CHECK_STR (c->platform.os, "linux");
  CHECK_STR (c->platform.variant, "v8");
  CHECK_STR (c->created, "2024-01-02T03:04:05Z");
  CHECK (c->n_diff_ids == 2);
  CHECK_STR (c->diff_ids[1], DB);
  CHECK (c->diff_ids[2] == NULL);
  CHECK (json_is_object (c->config));
  CHECK_STR (json_string_value (json_array_get (json_object_get (c->config, "Cmd"), 0)), "/bin/sh");
  CHECK (json_is_array (json_object_get (c->raw, "history")));
  nook_image_config_free (c);

  c = NULL;
  CHECK (nook_image_config_parse (minimal, strlen (minimal), &c, &err) == 0);
  CHECK (c && c->n_diff_ids == 0 && c->diff_ids[0] == NULL && c->config == NULL && c->created == NULL);
  nook_image_config_free (c);

  CHECK (config_bad ("{\"os\":\"linux\"}", "rootfs"));
  CHECK (config_bad ("{\"rootfs\":{\"type\":\"layer\",\"diff_ids\":[]}}", "rootfs.type"));
  CHECK (config_bad ("{\"rootfs\":{\"diff_ids\":[]}}", "rootfs.type"));
  CHECK (config_bad ("{\"rootfs\":{\"type\":\"layers\"}}", "diff_ids"));
  CHECK (config_bad ("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:x\"]}}", "diff_ids[0]"));
  CHECK (config_bad ("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DA "\",1]}}", "diff_ids[1]"));
  CHECK (config_bad ("{\"architecture\":1,\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", "architecture"));
  CHECK (config_bad ("{\"config\":[],\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", "config"));
  CHECK (config_bad ("{\"rootfs\":", "invalid JSON"));
}

int
main (void)
{
  RUN (test_oci_index);
  RUN (test_oci_manifest);
  RUN (test_docker_manifest);
  RUN (test_docker_list);
  RUN (test_type_detection);
  RUN (test_manifest_reject);
  RUN (test_layer_types);
  RUN (test_select);
  RUN (test_select_variants);
  RUN (test_platform);
  RUN (test_image_config);
  return HARNESS_END ();
}
