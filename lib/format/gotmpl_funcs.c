/* Go text/template: the builtin functions (Go's and podman's report package's). */
#include <errno.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "format/gotmpl_int.h"
#include "util/strutil.h"

/* ---- argument helpers ---- */

static int
want_string (json_t *v, const char **s, size_t *len, nook_err *err)
{
  *s = "";
  *len = 0;
  if (!json_is_string (v))
    return nook_error_input (err, "wrong type for value; expected string; got %s", gt_type_name (v));
  *s = json_string_value (v);
  *len = json_string_length (v);
  return 0;
}

static int
want_int (json_t *v, long long *i, nook_err *err)
{
  *i = 0;
  if (json_is_integer (v))
    *i = json_integer_value (v);
  else if (json_is_real (v) && gt_integral (json_real_value (v)))
    *i = (long long)json_real_value (v);
  else
    return nook_error_input (err, "wrong type for value; expected int; got %s", gt_type_name (v));
  return 0;
}

static int
ret_buf (gt_buf *b, json_t **out, nook_err *err)
{
  *out = json_stringn (b->s ? b->s : "", b->len);
  free (b->s);
  if (*out == NULL)
    return nook_error_input (err, "result is not valid UTF-8");
  return 0;
}

/* ---- comparison ---- */

enum kind
{
  K_NIL,
  K_BOOL,
  K_INT,
  K_FLOAT,
  K_STRING,
  K_COMPLEX,
};

static enum kind
kind (json_t *v)
{
  if (v == NULL)
    return K_NIL;
  switch (json_typeof (v))
    {
    case JSON_TRUE:
    case JSON_FALSE:
      return K_BOOL;
    case JSON_INTEGER:
      return K_INT;
    case JSON_REAL:
      return K_FLOAT;
    case JSON_STRING:
      return K_STRING;
    case JSON_ARRAY:
    case JSON_OBJECT:
      return K_COMPLEX;
    default:
      return K_NIL;
    }
}

static bool
is_number (enum kind k)
{
  return k == K_INT || k == K_FLOAT;
}

/* <0, 0, >0 like strcmp; numbers of both kinds compare by value (JSON has no int/float split). */
static int
compare (json_t *a, json_t *b, bool ordered, int *res, nook_err *err)
{
  enum kind ka = kind (a), kb = kind (b);
  if (!ordered && (ka == K_NIL || kb == K_NIL))
    return *res = !(ka == kb), 0;
  if (ordered && (ka == K_NIL || ka == K_BOOL || ka == K_COMPLEX || kb == K_NIL || kb == K_BOOL || kb == K_COMPLEX))
    return nook_error_input (err, "invalid type for comparison");
  if (is_number (ka) && is_number (kb))
    {
      if (ka == K_INT && kb == K_INT)
        *res = (json_integer_value (a) > json_integer_value (b)) - (json_integer_value (a) < json_integer_value (b));
      else
        *res = (json_number_value (a) > json_number_value (b)) - (json_number_value (a) < json_number_value (b));
      return 0;
    }
  if (ka != kb)
    return nook_error_input (err, "incompatible types for comparison");
  if (ka == K_COMPLEX)
    return nook_error_input (err, "non-comparable type %s", gt_type_name (a));
  if (ka == K_BOOL)
    *res = json_is_true (a) != json_is_true (b);
  else
    *res = strcmp (json_string_value (a), json_string_value (b));
  return 0;
}

static int
fn_eq (json_t **a, size_t n, json_t **out, nook_err *err)
{
  bool truth = false;
  if (n < 2)
    return nook_error_input (err, "missing argument for comparison");
  for (size_t i = 1; i < n && !truth; i++)
    {
      int res;
      if (compare (a[0], a[i], false, &res, err) < 0)
        return -1;
      truth = res == 0;
    }
  *out = json_boolean (truth);
  return 0;
}

static int
fn_ne (json_t **a, size_t n, json_t **out, nook_err *err)
{
  int res;
  if (compare (a[0], a[1], false, &res, err) < 0)
    return -1;
  *out = json_boolean (res != 0);
  return 0;
}

#define ORDERED(name, op)                                                                                              \
  static int fn_##name (json_t **a, size_t n, json_t **out, nook_err *err)                                             \
  {                                                                                                                    \
    int res;                                                                                                           \
    if (compare (a[0], a[1], true, &res, err) < 0)                                                                     \
      return -1;                                                                                                       \
    *out = json_boolean (res op 0);                                                                                    \
    return 0;                                                                                                          \
  }
ORDERED (lt, <)
ORDERED (le, <=)
ORDERED (gt, >)
ORDERED (ge, >=)

static int
fn_not (json_t **a, size_t n, json_t **out, nook_err *err)
{
  *out = json_boolean (!gt_truth (a[0]));
  return 0;
}

/* ---- collections ---- */

static int
fn_len (json_t **a, size_t n, json_t **out, nook_err *err)
{
  json_t *v = a[0];
  size_t len = 0;
  if (json_is_string (v))
    len = json_string_length (v);
  else if (json_is_array (v))
    len = json_array_size (v);
  else if (json_is_object (v))
    len = json_object_size (v);
  else if (v != NULL && !json_is_null (v))
    return nook_error_input (err, "len of type %s", gt_type_name (v));
  *out = json_integer (len);
  return 0;
}

/* A missing key in a map whose values are all strings yields "" (podman's labels and annotations are
   map[string]string, whose zero value is ""); otherwise nil. */
static json_t *
missing_key (json_t *obj)
{
  const char *k;
  json_t *v;
  json_object_foreach (obj, k, v) if (!json_is_string (v)) return NULL;
  return json_string ("");
}

static int
index_one (json_t *item, json_t *key, json_t **out, nook_err *err)
{
  long long i;
  *out = NULL;
  if ((item == NULL || json_is_null (item)) && json_is_string (key))
    return *out = json_string (""), 0;
  if (item == NULL || json_is_null (item))
    return nook_error_input (err, "index of untyped nil");
  if (json_is_object (item))
    {
      if (!json_is_string (key))
        return nook_error_input (err, "value has type %s; should be string", gt_type_name (key));
      *out = json_incref (json_object_get (item, json_string_value (key)));
      if (*out == NULL)
        *out = missing_key (item);
      return 0;
    }
  if (!json_is_array (item) && !json_is_string (item))
    return nook_error_input (err, "can't index item of type %s", gt_type_name (item));
  if (!json_is_integer (key))
    return nook_error_input (err, "cannot index slice/array with type %s", gt_type_name (key));
  i = json_integer_value (key);
  if (i < 0 || (size_t)i >= (json_is_array (item) ? json_array_size (item) : json_string_length (item)))
    return nook_error_input (err, "index out of range: %lld", i);
  if (json_is_array (item))
    *out = json_incref (json_array_get (item, i));
  else
    *out = json_integer ((unsigned char)json_string_value (item)[i]);
  return 0;
}

static int
fn_index (json_t **a, size_t n, json_t **out, nook_err *err)
{
  json_t *v = json_incref (a[0]);
  for (size_t i = 1; i < n; i++)
    {
      json_t *next;
      int rc = index_one (v, a[i], &next, err);
      json_decref (v);
      if (rc < 0)
        return -1;
      v = next;
    }
  *out = json_is_null (v) ? (json_decref (v), NULL) : v;
  return 0;
}

static int
fn_slice (json_t **a, size_t n, json_t **out, nook_err *err)
{
  json_t *v = a[0];
  long long idx[3] = { 0, 0, 0 };
  size_t len, cap;
  if (!json_is_string (v) && !json_is_array (v))
    return nook_error_input (err, "can't slice item of type %s", gt_type_name (v));
  if (n > 4)
    return nook_error_input (err, "too many slice indexes: %zu", n - 1);
  if (n == 4 && json_is_string (v))
    return nook_error_input (err, "cannot 3-index slice a string");
  len = cap = json_is_string (v) ? json_string_length (v) : json_array_size (v);
  idx[1] = len;
  for (size_t i = 1; i < n; i++)
    {
      if (want_int (a[i], &idx[i - 1], err) < 0)
        return -1;
      if (idx[i - 1] < 0 || (size_t)idx[i - 1] > cap)
        return nook_error_input (err, "index out of range: %lld", idx[i - 1]);
    }
  if (idx[0] > idx[1])
    return nook_error_input (err, "invalid slice index: %lld > %lld", idx[0], idx[1]);
  if (n == 4 && idx[1] > idx[2])
    return nook_error_input (err, "invalid slice index: %lld > %lld", idx[1], idx[2]);
  if (json_is_string (v))
    {
      *out = json_stringn_nocheck (json_string_value (v) + idx[0], idx[1] - idx[0]);
      return 0;
    }
  *out = json_array ();
  for (long long i = idx[0]; i < idx[1]; i++)
    json_array_append (*out, json_array_get (v, i));
  return 0;
}

/* ---- printing ---- */

static int
fn_print (json_t **a, size_t n, json_t **out, nook_err *err)
{
  gt_buf b = { 0 };
  gt_sprint (&b, a, n, false);
  return ret_buf (&b, out, err);
}

static int
fn_println (json_t **a, size_t n, json_t **out, nook_err *err)
{
  gt_buf b = { 0 };
  gt_sprint (&b, a, n, true);
  return ret_buf (&b, out, err);
}

static int
fn_printf (json_t **a, size_t n, json_t **out, nook_err *err)
{
  gt_buf b = { 0 };
  const char *f;
  size_t flen;
  if (want_string (a[0], &f, &flen, err) < 0)
    return -1;
  gt_sprintf (&b, f, flen, a + 1, n - 1);
  return ret_buf (&b, out, err);
}

/* podman's "json" function is Go's encoding/json with SetEscapeHTML(false): compact, members in order, UTF-8
 * as is.  Jansson writes the same; reals get up to 17 significant digits (Go writes the shortest form that
 * reads back the same, so a real can differ in its last digits). */
static int
fn_json (json_t **a, size_t n, json_t **out, nook_err *err)
{
  char *text = a[0] ? json_dumps (a[0], JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER) : NULL;

  if (a[0] == NULL)
    *out = json_string ("null");
  else if (text == NULL)
    return nook_error (err, ENOMEM, "json");
  else
    *out = json_string (text);
  free (text);
  if (*out == NULL)
    return nook_error_input (err, "json: the value is not valid UTF-8");
  return 0;
}

/* ---- strings ---- */

static int
map_chars (json_t *v, int (*f) (int), json_t **out, nook_err *err)
{
  const char *s;
  size_t len;
  char *r;
  if (want_string (v, &s, &len, err) < 0)
    return -1;
  r = xmalloc (len + 1);
  for (size_t i = 0; i < len; i++)
    r[i] = (unsigned char)s[i] < 0x80 ? f ((unsigned char)s[i]) : s[i];
  *out = json_stringn_nocheck (r, len);
  free (r);
  return 0;
}

static int
fn_upper (json_t **a, size_t n, json_t **out, nook_err *err)
{
  return map_chars (a[0], toupper, out, err);
}

static int
fn_lower (json_t **a, size_t n, json_t **out, nook_err *err)
{
  return map_chars (a[0], tolower, out, err);
}

/* strings.Title: upper-case the first letter of each word. */
static int
fn_title (json_t **a, size_t n, json_t **out, nook_err *err)
{
  const char *s;
  size_t len;
  char *r;
  bool sep = true;
  if (want_string (a[0], &s, &len, err) < 0)
    return -1;
  r = xmalloc (len + 1);
  for (size_t i = 0; i < len; i++)
    {
      unsigned char c = s[i];
      r[i] = sep && c < 0x80 ? toupper (c) : c;
      sep = c < 0x80 && !isalnum (c) && c != '_';
    }
  *out = json_stringn_nocheck (r, len);
  free (r);
  return 0;
}

static int
fn_join (json_t **a, size_t n, json_t **out, nook_err *err)
{
  gt_buf b = { 0 };
  const char *sep;
  size_t seplen, i;
  json_t *e;
  if (want_string (a[1], &sep, &seplen, err) < 0)
    return -1;
  if (a[0] != NULL && !json_is_array (a[0]) && !json_is_null (a[0]))
    return nook_error_input (err, "wrong type for value; expected []string; got %s", gt_type_name (a[0]));
  gt_buf_add (&b, "", 0);
  json_array_foreach (a[0], i, e)
  {
    if (i)
      gt_buf_add (&b, sep, seplen);
    gt_fmt_value (&b, json_is_null (e) ? NULL : e);
  }
  return ret_buf (&b, out, err);
}

/* strings.Split: "" as separator splits after each UTF-8 sequence. */
static int
fn_split (json_t **a, size_t n, json_t **out, nook_err *err)
{
  const char *s, *sep, *p;
  size_t len, seplen;
  if (want_string (a[0], &s, &len, err) < 0 || want_string (a[1], &sep, &seplen, err) < 0)
    return -1;
  *out = json_array ();
  if (seplen == 0)
    {
      for (size_t i = 0; i < len;)
        {
          size_t j = i + 1;
          while (j < len && ((unsigned char)s[j] & 0xc0) == 0x80)
            j++;
          json_array_append_new (*out, json_stringn_nocheck (s + i, j - i));
          i = j;
        }
      return 0;
    }
  while ((p = memmem (s, len, sep, seplen)) != NULL)
    {
      json_array_append_new (*out, json_stringn_nocheck (s, p - s));
      len -= p - s + seplen;
      s = p + seplen;
    }
  json_array_append_new (*out, json_stringn_nocheck (s, len));
  return 0;
}

/* podman's truncate: the first N bytes. */
static int
fn_truncate (json_t **a, size_t n, json_t **out, nook_err *err)
{
  const char *s;
  size_t len;
  long long max;
  if (want_string (a[0], &s, &len, err) < 0 || want_int (a[1], &max, err) < 0)
    return -1;
  if (max < 0)
    return nook_error_input (err, "slice bounds out of range [:%lld]", max);
  *out = json_stringn_nocheck (s, (size_t)max < len ? (size_t)max : len);
  return 0;
}

/* podman's pad: PREFIX spaces before and SUFFIX after a non-empty string. */
static int
fn_pad (json_t **a, size_t n, json_t **out, nook_err *err)
{
  gt_buf b = { 0 };
  const char *s;
  size_t len;
  long long pre, post;
  if (want_string (a[0], &s, &len, err) < 0 || want_int (a[1], &pre, err) < 0 || want_int (a[2], &post, err) < 0)
    return -1;
  if (pre > 1000000 || post > 1000000)
    return nook_error_input (err, "pad: a width above 1000000");
  gt_buf_add (&b, "", 0);
  for (long long i = 0; len > 0 && i < pre; i++)
    gt_buf_addc (&b, ' ');
  gt_buf_add (&b, s, len);
  for (long long i = 0; len > 0 && i < post; i++)
    gt_buf_addc (&b, ' ');
  return ret_buf (&b, out, err);
}

/* ---- escapers ---- */

static const gt_func funcs[] = {
  { "and", 1, -1, NULL },
  { "or", 1, -1, NULL },
  { "not", 1, 1, fn_not },
  { "eq", 1, -1, fn_eq },
  { "ne", 2, 2, fn_ne },
  { "lt", 2, 2, fn_lt },
  { "le", 2, 2, fn_le },
  { "gt", 2, 2, fn_gt },
  { "ge", 2, 2, fn_ge },
  { "len", 1, 1, fn_len },
  { "index", 1, -1, fn_index },
  { "slice", 1, -1, fn_slice },
  { "print", 0, -1, fn_print },
  { "printf", 1, -1, fn_printf },
  { "println", 0, -1, fn_println },
  { "json", 1, 1, fn_json },
  { "upper", 1, 1, fn_upper },
  { "lower", 1, 1, fn_lower },
  { "title", 1, 1, fn_title },
  { "join", 2, 2, fn_join },
  { "split", 2, 2, fn_split },
  { "truncate", 2, 2, fn_truncate },
  { "pad", 3, 3, fn_pad },
};

const gt_func *
gt_func_lookup (const char *name)
{
  for (size_t i = 0; i < sizeof (funcs) / sizeof (funcs[0]); i++)
    if (strcmp (funcs[i].name, name) == 0)
      return &funcs[i];
  return NULL;
}
