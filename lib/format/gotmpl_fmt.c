/* Go text/template: Go's fmt (%v, Sprint, Sprintf, strconv.Quote) over JSON values. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/gotmpl_int.h"
#include "util/strutil.h"

bool
gt_truth (json_t *v)
{
  if (v == NULL)
    return false;
  switch (json_typeof (v))
    {
    case JSON_OBJECT:
      return json_object_size (v) > 0;
    case JSON_ARRAY:
      return json_array_size (v) > 0;
    case JSON_STRING:
      return json_string_length (v) > 0;
    case JSON_INTEGER:
      return json_integer_value (v) != 0;
    case JSON_REAL:
      return json_real_value (v) != 0;
    case JSON_TRUE:
      return true;
    default:
      return false;
    }
}

const char *
gt_type_name (json_t *v)
{
  if (v == NULL)
    return "<nil>";
  switch (json_typeof (v))
    {
    case JSON_OBJECT:
      return "map[string]interface {}";
    case JSON_ARRAY:
      return "[]interface {}";
    case JSON_STRING:
      return "string";
    case JSON_INTEGER:
      return "int";
    case JSON_REAL:
      return "float64";
    case JSON_TRUE:
    case JSON_FALSE:
      return "bool";
    default:
      return "<nil>";
    }
}

/* ---- floats ---- */

void
gt_shortest (double d, char *digits, size_t size, int *exp10)
{
  char buf[64], *e;
  size_t n = 0;
  for (int prec = 1; prec <= 17; prec++)
    {
      snprintf (buf, sizeof (buf), "%.*e", prec - 1, d);
      if (strtod (buf, NULL) == d)
        break;
    }
  e = strchr (buf, 'e');
  *exp10 = atoi (e + 1);
  for (char *p = buf; p < e && n + 1 < size; p++)
    if (isdigit ((unsigned char)*p))
      digits[n++] = *p;
  while (n > 1 && digits[n - 1] == '0')
    n--;
  digits[n] = '\0';
}

/* strconv.FormatFloat (d, 'g', -1, 64), which is what %v prints. */
void
gt_fmt_float (gt_buf *b, double d)
{
  char digits[32];
  int exp10, nd;
  if (isnan (d))
    return gt_buf_adds (b, "NaN");
  if (isinf (d))
    return gt_buf_adds (b, d > 0 ? "+Inf" : "-Inf");
  if (d == 0)
    return gt_buf_adds (b, signbit (d) ? "-0" : "0");
  if (d < 0)
    gt_buf_addc (b, '-');
  gt_shortest (d < 0 ? -d : d, digits, sizeof (digits), &exp10);
  nd = strlen (digits);
  if (exp10 < -4 || exp10 >= 6)
    {
      gt_buf_addc (b, digits[0]);
      if (nd > 1)
        {
          gt_buf_addc (b, '.');
          gt_buf_adds (b, digits + 1);
        }
      gt_buf_addf (b, "e%c%02d", exp10 < 0 ? '-' : '+', abs (exp10));
      return;
    }
  if (exp10 < 0)
    {
      gt_buf_adds (b, "0.");
      for (int i = -1; i > exp10; i--)
        gt_buf_addc (b, '0');
      gt_buf_adds (b, digits);
      return;
    }
  for (int i = 0; i <= exp10 || i < nd; i++)
    {
      if (i == exp10 + 1)
        gt_buf_addc (b, '.');
      gt_buf_addc (b, i < nd ? digits[i] : '0');
    }
}

/* ---- strconv.Quote ---- */

/* Length of the valid UTF-8 sequence at S (N bytes left), 0 when invalid. */
static size_t
utf8_len (const unsigned char *s, size_t n, unsigned *rune)
{
  size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
  unsigned r;
  if (len == 0 || len > n)
    return 0;
  r = len == 1 ? s[0] : s[0] & (0x7f >> len);
  for (size_t i = 1; i < len; i++)
    {
      if ((s[i] & 0xc0) != 0x80)
        return 0;
      r = (r << 6) | (s[i] & 0x3f);
    }
  if ((len == 2 && r < 0x80) || (len == 3 && r < 0x800) || (len == 4 && (r < 0x10000 || r > 0x10ffff))
      || (r >= 0xd800 && r < 0xe000))
    return 0;
  *rune = r;
  return len;
}

void
gt_fmt_quote (gt_buf *b, const char *s, size_t n)
{
  static const char from[] = "\a\b\f\n\r\t\v\\\"", to[] = "abfnrtv\\\"";
  const unsigned char *u = (const unsigned char *)s;
  gt_buf_addc (b, '"');
  for (size_t i = 0; i < n;)
    {
      unsigned r;
      size_t len = utf8_len (u + i, n - i, &r);
      const char *k = u[i] ? strchr (from, u[i]) : NULL;
      if (len == 0)
        gt_buf_addf (b, "\\x%02x", u[i]), len = 1;
      else if (k)
        gt_buf_addc (b, '\\'), gt_buf_addc (b, to[k - from]);
      else if (r < 0x20 || r == 0x7f)
        gt_buf_addf (b, "\\x%02x", r);
      else if (r >= 0x80 && r < 0xa0)
        gt_buf_addf (b, "\\u%04x", r);
      else
        gt_buf_add (b, s + i, len);
      i += len;
    }
  gt_buf_addc (b, '"');
}

/* ---- %v ---- */

static int
key_cmp (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* Sorted keys of an object (Go prints maps sorted). */
static const char **
sorted_keys (json_t *o, size_t *count)
{
  const char **keys = xcalloc (json_object_size (o) + 1, sizeof (char *));
  const char *k;
  json_t *v;
  size_t n = 0;
  json_object_foreach (o, k, v) keys[n++] = k;
  qsort (keys, n, sizeof (char *), key_cmp);
  *count = n;
  return keys;
}

typedef struct spec
{
  bool minus, plus, sharp, zero, space;
  int width, prec; /* -1: none */
  bool bad_width, bad_prec;
  char verb;
} spec;

/* fmt's limit on a width or precision (its tooLarge) */
#define GT_FMT_NUM_MAX 1000000

static void fmt_one (gt_buf *b, const spec *sp, json_t *v);

static void
fmt_composite (gt_buf *b, const spec *sp, json_t *v)
{
  if (json_is_array (v))
    {
      gt_buf_addc (b, '[');
      for (size_t i = 0; i < json_array_size (v); i++)
        {
          json_t *e = json_array_get (v, i);
          if (i)
            gt_buf_addc (b, ' ');
          fmt_one (b, sp, json_is_null (e) ? NULL : e);
        }
      gt_buf_addc (b, ']');
      return;
    }
  size_t n;
  const char **keys = sorted_keys (v, &n);
  gt_buf_adds (b, "map[");
  for (size_t i = 0; i < n; i++)
    {
      json_t *e = json_object_get (v, keys[i]);
      json_t *k = json_string (keys[i]);
      if (i)
        gt_buf_addc (b, ' ');
      fmt_one (b, sp, k);
      gt_buf_addc (b, ':');
      fmt_one (b, sp, json_is_null (e) ? NULL : e);
      json_decref (k);
    }
  gt_buf_addc (b, ']');
  free (keys);
}

void
gt_fmt_value (gt_buf *b, json_t *v)
{
  spec sp = { .width = -1, .prec = -1, .verb = 'v' };
  fmt_one (b, &sp, v);
}

/* ---- Sprintf ---- */

static size_t
rune_count (const char *s, size_t n)
{
  size_t c = 0;
  for (size_t i = 0; i < n; i++)
    c += ((unsigned char)s[i] & 0xc0) != 0x80;
  return c;
}

/* Append PIECE padded to the width of SP. */
static void
pad (gt_buf *b, const spec *sp, const char *piece, size_t n, bool numeric)
{
  size_t w = rune_count (piece, n);
  size_t fill = sp->width > 0 && (size_t)sp->width > w ? sp->width - w : 0;
  if (sp->minus)
    {
      gt_buf_add (b, piece, n);
      for (size_t i = 0; i < fill; i++)
        gt_buf_addc (b, ' ');
      return;
    }
  if (sp->zero && numeric && n > 0 && (piece[0] == '-' || piece[0] == '+' || piece[0] == ' '))
    {
      gt_buf_addc (b, piece[0]);
      piece++, n--;
    }
  for (size_t i = 0; i < fill; i++)
    gt_buf_addc (b, sp->zero && numeric ? '0' : ' ');
  gt_buf_add (b, piece, n);
}

static void
bad_verb (gt_buf *b, const spec *sp, json_t *v)
{
  gt_buf_addf (b, "%%!%c(", sp->verb);
  if (v == NULL)
    gt_buf_adds (b, "<nil>");
  else
    {
      gt_buf_adds (b, gt_type_name (v));
      gt_buf_addc (b, '=');
      gt_fmt_value (b, v);
    }
  gt_buf_addc (b, ')');
}

static void
put_utf8 (gt_buf *b, long long r)
{
  char u[5] = { 0 };
  if (r < 0 || r > 0x10ffff || (r >= 0xd800 && r < 0xe000))
    r = 0xfffd;
  if (r < 0x80)
    u[0] = r;
  else if (r < 0x800)
    u[0] = 0xc0 | (r >> 6), u[1] = 0x80 | (r & 0x3f);
  else if (r < 0x10000)
    u[0] = 0xe0 | (r >> 12), u[1] = 0x80 | ((r >> 6) & 0x3f), u[2] = 0x80 | (r & 0x3f);
  else
    u[0] = 0xf0 | (r >> 18), u[1] = 0x80 | ((r >> 12) & 0x3f), u[2] = 0x80 | ((r >> 6) & 0x3f),
    u[3] = 0x80 | (r & 0x3f);
  gt_buf_adds (b, u[0] ? u : "");
  if (r == 0)
    gt_buf_addc (b, '\0');
}

static void
fmt_int (gt_buf *b, const spec *sp, long long i)
{
  gt_buf t = { 0 };
  unsigned long long u = i < 0 ? -(unsigned long long)i : (unsigned long long)i;
  const char *sign = i < 0 ? "-" : sp->plus ? "+" : sp->space ? " " : "";
  char digits[72];
  int n = 0;
  switch (sp->verb)
    {
    case 'c':
      put_utf8 (&t, i);
      break;
    case 'q':
      gt_buf_addc (&t, '\'');
      put_utf8 (&t, i);
      gt_buf_addc (&t, '\'');
      break;
    case 'U':
      gt_buf_addf (&t, "U+%04llX", u);
      break;
    case 'b':
      do
        digits[n++] = '0' + (u & 1);
      while (u >>= 1);
      gt_buf_adds (&t, sign);
      while (n)
        gt_buf_addc (&t, digits[--n]);
      break;
    default:
      gt_buf_adds (&t, sign);
      if (sp->sharp && (sp->verb == 'x' || sp->verb == 'X'))
        gt_buf_adds (&t, sp->verb == 'x' ? "0x" : "0X");
      gt_buf_addf (&t, sp->verb == 'x' ? "%llx" : sp->verb == 'X' ? "%llX" : sp->verb == 'o' ? "%llo" : "%llu", u);
    }
  pad (b, sp, t.s ? t.s : "", t.len, strchr ("cqU", sp->verb) == NULL);
  free (t.s);
}

static void
fmt_float (gt_buf *b, const spec *sp, double d)
{
  gt_buf t = { 0 };
  char f[16];
  char verb = sp->verb == 'v' ? 'g' : sp->verb;
  if ((verb == 'g' || verb == 'G') && sp->prec < 0)
    {
      if (sp->plus && !signbit (d))
        gt_buf_addc (&t, '+');
      gt_fmt_float (&t, d);
    }
  else
    {
      snprintf (f, sizeof (f), "%%%s%s.*%c", sp->plus ? "+" : "", sp->space ? " " : "", verb);
      gt_buf_addf (&t, f, sp->prec < 0 ? 6 : sp->prec, d);
    }
  pad (b, sp, t.s ? t.s : "", t.len, true);
  free (t.s);
}

static void
fmt_string (gt_buf *b, const spec *sp, const char *s, size_t n)
{
  gt_buf t = { 0 };
  if (sp->prec >= 0)
    {
      size_t runes = 0, i = 0;
      for (; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80 && runes++ == (size_t)sp->prec)
          break;
      n = i;
    }
  if (sp->verb == 'q')
    gt_fmt_quote (&t, s, n);
  else if (sp->verb == 'x' || sp->verb == 'X')
    for (size_t i = 0; i < n; i++)
      gt_buf_addf (&t, sp->verb == 'x' ? "%02x" : "%02X", (unsigned char)s[i]);
  else
    gt_buf_add (&t, s, n);
  pad (b, sp, t.s ? t.s : "", t.len, false);
  free (t.s);
}

static void
fmt_one (gt_buf *b, const spec *sp, json_t *v)
{
  char verb = sp->verb;
  if (verb == 'T')
    return pad (b, sp, gt_type_name (v), strlen (gt_type_name (v)), false);
  if (v == NULL || json_is_null (v))
    return verb == 'v' ? pad (b, sp, "<nil>", 5, false) : bad_verb (b, sp, NULL);
  if (json_is_array (v) || json_is_object (v))
    return fmt_composite (b, sp, v);
  if (json_is_string (v) && strchr ("vsqxX", verb))
    return fmt_string (b, sp, json_string_value (v), json_string_length (v));
  if (json_is_boolean (v) && strchr ("vt", verb))
    return pad (b, sp, json_is_true (v) ? "true" : "false", json_is_true (v) ? 4 : 5, false);
  if (json_is_integer (v) && strchr ("vdbcoqxXU", verb))
    {
      spec s2 = *sp;
      s2.verb = verb == 'v' ? 'd' : verb;
      return fmt_int (b, &s2, json_integer_value (v));
    }
  if (json_is_integer (v) && strchr ("eEfFgG", verb))
    return fmt_float (b, sp, (double)json_integer_value (v));
  if (json_is_real (v) && strchr ("veEfFgG", verb))
    return fmt_float (b, sp, json_real_value (v));
  if (json_is_real (v) && verb == 'd' && gt_integral (json_real_value (v)))
    return fmt_int (b, sp, (long long)json_real_value (v));
  bad_verb (b, sp, v);
}

/* Flags, width and precision of one directive at F[*I] (just past '%').  Width and precision may be
   '*', taken from the arguments. */
static void
parse_spec (const char *f, size_t flen, size_t *i, spec *sp, json_t **args, size_t n, size_t *argi)
{
  memset (sp, 0, sizeof (*sp));
  sp->width = sp->prec = -1;
  for (; *i < flen && strchr ("-+# 0", f[*i]); (*i)++)
    switch (f[*i])
      {
      case '-':
        sp->minus = true;
        break;
      case '+':
        sp->plus = true;
        break;
      case '#':
        sp->sharp = true;
        break;
      case ' ':
        sp->space = true;
        break;
      default:
        sp->zero = !sp->minus;
        break;
      }
  for (int part = 0; part < 2; part++)
    {
      int *dst = part == 0 ? &sp->width : &sp->prec;
      if (part == 1)
        {
          if (*i >= flen || f[*i] != '.')
            break;
          (*i)++;
          sp->prec = 0;
        }
      if (*i < flen && f[*i] == '*')
        {
          json_int_t v = 0;
          bool ok = *argi < n && json_is_integer (args[*argi]);

          (*i)++;
          if (*argi < n)
            v = json_integer_value (args[(*argi)++]);
          /* Go's fmt: a width or precision beyond +-1e6 (or not an int) is refused, not allocated */
          ok = ok && v >= -GT_FMT_NUM_MAX && v <= GT_FMT_NUM_MAX && !(part == 1 && v < 0);
          if (!ok)
            {
              *dst = -1;
              *(part == 0 ? &sp->bad_width : &sp->bad_prec) = true;
              continue;
            }
          *dst = (int)v;
          if (part == 0 && v < 0)
            sp->minus = true, sp->width = (int)-v;
          continue;
        }
      for (; *i < flen && isdigit ((unsigned char)f[*i]); (*i)++)
        {
          if (*dst > GT_FMT_NUM_MAX)
            {
              /* Go's parsenum: too large swallows the rest of the format (%!(NOVERB)) */
              *dst = -1;
              *i = flen;
              return;
            }
          *dst = (*dst < 0 ? 0 : *dst) * 10 + (f[*i] - '0');
        }
    }
}

void
gt_sprintf (gt_buf *b, const char *f, size_t flen, json_t **args, size_t n)
{
  size_t argi = 0;
  gt_buf_add (b, "", 0);
  for (size_t i = 0; i < flen; i++)
    {
      spec sp;
      if (f[i] != '%')
        {
          gt_buf_addc (b, f[i]);
          continue;
        }
      i++;
      parse_spec (f, flen, &i, &sp, args, n, &argi);
      if (sp.bad_width)
        gt_buf_adds (b, "%!(BADWIDTH)");
      if (sp.bad_prec)
        gt_buf_adds (b, "%!(BADPREC)");
      if (i >= flen)
        {
          gt_buf_adds (b, "%!(NOVERB)");
          break;
        }
      sp.verb = f[i];
      if (sp.verb == '%')
        gt_buf_addc (b, '%');
      else if (argi >= n)
        gt_buf_addf (b, "%%!%c(MISSING)", sp.verb);
      else
        fmt_one (b, &sp, args[argi++]);
    }
  if (argi < n)
    {
      gt_buf_adds (b, "%!(EXTRA ");
      for (size_t k = argi; k < n; k++)
        {
          if (k > argi)
            gt_buf_adds (b, ", ");
          gt_buf_adds (b, gt_type_name (args[k]));
          gt_buf_addc (b, '=');
          gt_fmt_value (b, args[k]);
        }
      gt_buf_addc (b, ')');
    }
}

/* fmt.Sprint: a space between operands when neither is a string; Sprintln: always, plus "\n". */
void
gt_sprint (gt_buf *b, json_t **args, size_t n, bool ln)
{
  gt_buf_add (b, "", 0);
  for (size_t i = 0; i < n; i++)
    {
      if (i > 0 && (ln || (!json_is_string (args[i]) && !json_is_string (args[i - 1]))))
        gt_buf_addc (b, ' ');
      gt_fmt_value (b, args[i]);
    }
  if (ln)
    gt_buf_addc (b, '\n');
}
