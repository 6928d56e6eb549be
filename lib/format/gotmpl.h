/* A Go text/template engine over jansson values, for `--format` (podman/docker/distrobox templates).
 *
 *   nook ps --format '{{.Names}}'             nook inspect --format '{{.State.Status}}'
 *   nook images --format 'table {{.Repository}}\t{{.Tag}}'
 *
 * Semantics follow Go's text/template with the data being a map[string]interface{} decoded from JSON:
 * fields are exact object keys, a missing key prints "<no value>", JSON null behaves as Go's nil,
 * numbers print like fmt's %v.  Functions: Go's builtins (and or not eq ne lt le gt ge len index slice
 * print printf println html js urlquery) and podman's (json upper lower title join split truncate pad).
 * No global state: every call parses and runs on its own. */
#ifndef NOOK_UTIL_GOTMPL_H
#define NOOK_UTIL_GOTMPL_H

#include <jansson.h>
#include <stdbool.h>

#include "util/error.h"

/* Render TEMPLATE with DOT as the data (DOT may be NULL: Go's nil).  The output is appended to *OUT
   (NULL or a malloc'd string; it is reallocated).  On error *OUT is left as it was and ERR names the
   position like Go: "template: :1:2: function \"foo\" not defined",
   "template: :1:2: executing \"\" at <.Name.Foo>: can't evaluate field Foo in type string". */
int nook_tmpl_render (const char *tmpl, json_t *dot, char **out, nook_err *err);

/* podman's "table" directive: when TEMPLATE (after leading blanks) is "table" or starts with "table "
   returns true and points *BODY at the rest (past the blanks after "table"; "" for a bare "table").
   The caller prints nook_tmpl_header (body) then renders body for each row, then nook_tmpl_tabulate. */
bool nook_tmpl_is_table (const char *tmpl, const char **body);

/* The header row for a table body, as podman builds it: every action becomes the name of its first
   field in upper case, CamelCase words split by a space ("{{.ID}}" -> "ID", "{{.Names}}" -> "NAMES",
   "{{.CreatedAt}}" -> "CREATED AT", "{{.ImageID}}" -> "IMAGE ID", "{{.State.Status}}" -> "STATUS");
   text between actions is kept as it is (tabs too).  Returns NULL when BODY does not parse (rendering
   it will report the error). */
char *nook_tmpl_header (const char *body);
/* Same, with podman-style overrides: OVERRIDES is a NULL-terminated list of pairs "Field", "HEADER"
   (e.g. "ID", "CONTAINER ID", NULL) consulted before the CamelCase rule. */
char *nook_tmpl_header_with (const char *body, const char *const *overrides);

/* podman's NormalizeFormat: the two-character sequences `\t` and `\n` in a --format string become a
   tab and a newline (done by podman for every format, table or not).  Returns a new string. */
char *nook_tmpl_normalize (const char *format);

/* Align TEXT like Go's tabwriter.NewWriter (w, 12, 2, 2, ' ', 0) as podman's report package does:
   cells end at '\t', each column (block of consecutive lines having that column) is as wide as its
   widest cell plus 2, at least 12; the last cell of a line is not padded.  Returns a new string. */
char *nook_tmpl_tabulate (const char *text);

#endif
