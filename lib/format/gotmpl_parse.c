/* Go text/template: lexer and parser (a port of text/template/parse, trimmed to what nook needs). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/gotmpl_int.h"
#include "util/strutil.h"

enum tok_type
{
  T_EOF,
  T_TEXT,
  T_LDELIM,
  T_RDELIM,
  T_SPACE,
  T_FIELD,
  T_VAR,
  T_DOT,
  T_IDENT,
  T_STRING,
  T_RAW,
  T_CHAR,
  T_NUMBER,
  T_BOOL,
  T_NIL,
  T_PIPE,
  T_LPAREN,
  T_RPAREN,
  T_DECLARE,
  T_ASSIGN,
  T_COMMA,
  T_IF,
  T_ELSE,
  T_END,
  T_RANGE,
  T_WITH,
  T_DEFINE,
  T_TEMPLATE,
  T_BLOCK,
  T_BREAK,
  T_CONTINUE,
};

typedef struct tok
{
  enum tok_type type;
  size_t pos, len;
} tok;

typedef struct lexer
{
  const char *s;
  size_t i;
  tok *t;
  size_t n, cap;
  int paren;
  nook_err *err;
} lexer;

typedef struct parser
{
  const char *src;
  tok *t;
  size_t n, i;
  gt_tree *tree;
  nook_err *err;
  const char **vars;
  size_t n_vars, cap_vars;
  int range_depth;
} parser;

static const struct
{
  const char *word;
  enum tok_type type;
} keywords[] = {
  { "if", T_IF },       { "else", T_ELSE },         { "end", T_END },           { "range", T_RANGE },
  { "with", T_WITH },   { "define", T_DEFINE },     { "template", T_TEMPLATE }, { "block", T_BLOCK },
  { "break", T_BREAK }, { "continue", T_CONTINUE }, { "true", T_BOOL },         { "false", T_BOOL },
  { "nil", T_NIL },
};

/* ---- errors and positions ---- */

void
gt_line_col (const char *src, size_t pos, size_t *line, size_t *col)
{
  size_t l = 1, start = 0;
  for (size_t i = 0; i < pos && src[i]; i++)
    if (src[i] == '\n')
      {
        l++;
        start = i + 1;
      }
  *line = l;
  *col = pos - start;
}

static int __attribute__ ((format (printf, 4, 5)))
pos_error (const char *src, nook_err *err, size_t pos, const char *fmt, ...)
{
  char msg[512];
  size_t line, col;
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof (msg), fmt, ap);
  va_end (ap);
  gt_line_col (src, pos, &line, &col);
  return nook_error_input (err, "template: :%zu:%zu: %s", line, col, msg);
}

#define LEX_ERR(l, pos, ...) pos_error ((l)->s, (l)->err, (pos), __VA_ARGS__)
#define PERR(p, pos, ...) pos_error ((p)->src, (p)->err, (pos), __VA_ARGS__)

/* ---- lexer ---- */

static bool
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_alnum (char c)
{
  return c == '_' || isalnum ((unsigned char)c) || (unsigned char)c >= 0x80;
}

/* Go's %#U: "U+007D '}'". */
static int
bad_char (lexer *l, const char *what)
{
  unsigned char c = l->s[l->i];
  if (c >= 0x20 && c < 0x7f)
    return LEX_ERR (l, l->i, "%s U+%04X '%c'", what, c, c);
  return LEX_ERR (l, l->i, "%s U+%04X", what, c);
}

static void
emit (lexer *l, enum tok_type type, size_t pos, size_t len)
{
  if (l->n == l->cap)
    {
      l->cap = l->cap ? l->cap * 2 : 32;
      l->t = xrealloc (l->t, l->cap * sizeof (tok));
    }
  l->t[l->n++] = (tok){ type, pos, len };
}

/* At a right delimiter: "}}" (returns 2) or " -}}" (returns 4, sets *trim). */
static size_t
at_right_delim (const char *s, bool *trim)
{
  *trim = false;
  if (s[0] == '}' && s[1] == '}')
    return 2;
  if (is_space (s[0]) && s[1] == '-' && s[2] == '}' && s[3] == '}')
    {
      *trim = true;
      return 4;
    }
  return 0;
}

static size_t
skip_spaces (const char *s, size_t i)
{
  while (is_space (s[i]))
    i++;
  return i;
}

/* A comment right after "{{" or "{{- ": up to and including its closing delimiter. */
static int
lex_comment (lexer *l, size_t start)
{
  const char *end = strstr (l->s + l->i + 2, "*/");
  bool trim;
  size_t d;
  if (end == NULL)
    return LEX_ERR (l, start, "unclosed comment");
  l->i = end - l->s + 2;
  d = at_right_delim (l->s + l->i, &trim);
  if (d == 0)
    return LEX_ERR (l, start, "comment ends before closing delimiter");
  l->i += d;
  if (trim)
    l->i = skip_spaces (l->s, l->i);
  return 0;
}

static int
lex_quote (lexer *l, char q, enum tok_type type)
{
  size_t start = l->i++;
  for (;; l->i++)
    {
      char c = l->s[l->i];
      if (c == '\\' && q != '`' && l->s[l->i + 1] != '\0' && l->s[l->i + 1] != '\n')
        l->i++;
      else if (c == q)
        break;
      else if (c == '\0' || (c == '\n' && q != '`'))
        return LEX_ERR (l, start,
                        q == '`'   ? "unterminated raw quoted string"
                        : q == '"' ? "unterminated quoted string"
                                   : "unterminated character constant");
    }
  l->i++;
  emit (l, type, start, l->i - start);
  return 0;
}

static bool
at_terminator (const char *s)
{
  bool trim;
  return *s == '\0' || is_space (*s) || strchr (".,|:()=", *s) != NULL || at_right_delim (s, &trim) > 0;
}

static int
lex_number (lexer *l)
{
  size_t start = l->i;
  const char *s = l->s;
  if (s[l->i] == '+' || s[l->i] == '-')
    l->i++;
  if (s[l->i] == '0' && strchr ("xXoObB", s[l->i + 1]) && s[l->i + 1])
    l->i += 2;
  while (isxdigit ((unsigned char)s[l->i]) || s[l->i] == '_' || s[l->i] == '.'
         || ((s[l->i] == '+' || s[l->i] == '-') && (s[l->i - 1] == 'e' || s[l->i - 1] == 'E')))
    l->i++;
  if (is_alnum (s[l->i]) || l->i == start || (l->i == start + 1 && !isdigit ((unsigned char)s[start])))
    {
      while (is_alnum (s[l->i]))
        l->i++;
      return LEX_ERR (l, start, "bad number syntax: \"%.*s\"", (int)(l->i - start), s + start);
    }
  emit (l, T_NUMBER, start, l->i - start);
  return 0;
}

static int
lex_word (lexer *l)
{
  size_t start = l->i;
  enum tok_type type = T_IDENT;
  while (is_alnum (l->s[l->i]))
    l->i++;
  if (!at_terminator (l->s + l->i))
    return bad_char (l, "bad character");
  for (size_t k = 0; k < sizeof (keywords) / sizeof (keywords[0]); k++)
    if (strlen (keywords[k].word) == l->i - start && memcmp (keywords[k].word, l->s + start, l->i - start) == 0)
      type = keywords[k].type;
  emit (l, type, start, l->i - start);
  return 0;
}

/* '.' or '$' followed by a name: a field, a variable, or the dot itself. */
static int
lex_field_or_var (lexer *l, enum tok_type type)
{
  size_t start = l->i++;
  while (is_alnum (l->s[l->i]))
    l->i++;
  if (type == T_FIELD && l->i == start + 1)
    type = T_DOT;
  if (!at_terminator (l->s + l->i))
    return bad_char (l, "bad character");
  emit (l, type, start, l->i - start);
  return 0;
}

static int
lex_space (lexer *l)
{
  size_t start = l->i, j = l->i;
  bool trim;
  while (is_space (l->s[j]))
    j++;
  if (at_right_delim (l->s + j - 1, &trim) == 4)
    j--; /* keep the space of " -}}" (lex_action saw more than one space) */
  l->i = j;
  if (j > start)
    emit (l, T_SPACE, start, j - start);
  return 0;
}

static int
lex_punct (lexer *l, char c)
{
  static const char chars[] = "=|(),";
  static const enum tok_type types[] = { T_ASSIGN, T_PIPE, T_LPAREN, T_RPAREN, T_COMMA };
  if (c == ':')
    {
      if (l->s[l->i + 1] != '=')
        return LEX_ERR (l, l->i, "expected :=");
      emit (l, T_DECLARE, l->i, 2);
      l->i += 2;
      return 0;
    }
  const char *k = strchr (chars, c);
  if (k == NULL || c == '\0')
    return bad_char (l, "unrecognized character in action:");
  if (c == '(')
    l->paren++;
  if (c == ')' && --l->paren < 0)
    return LEX_ERR (l, l->i, "unexpected right paren");
  emit (l, types[k - chars], l->i++, 1);
  return 0;
}

static int
lex_token (lexer *l)
{
  char c = l->s[l->i];
  if (is_space (c))
    return lex_space (l);
  if (c == '"' || c == '`')
    return lex_quote (l, c, c == '"' ? T_STRING : T_RAW);
  if (c == '\'')
    return lex_quote (l, c, T_CHAR);
  if (c == '$')
    return lex_field_or_var (l, T_VAR);
  if (c == '.' && isdigit ((unsigned char)l->s[l->i + 1]))
    return lex_number (l);
  if (c == '.')
    return lex_field_or_var (l, T_FIELD);
  if (isdigit ((unsigned char)c) || c == '+' || c == '-')
    return lex_number (l);
  if (is_alnum (c))
    return lex_word (l);
  return lex_punct (l, c);
}

/* Inside {{ }} up to and including the right delimiter. */
static int
lex_action (lexer *l, size_t start)
{
  for (;;)
    {
      bool trim;
      size_t d = at_right_delim (l->s + l->i, &trim);
      if (d > 0)
        {
          if (l->paren > 0)
            return LEX_ERR (l, l->i, "unclosed left paren");
          emit (l, T_RDELIM, l->i, d);
          l->i += d;
          if (trim)
            l->i = skip_spaces (l->s, l->i);
          return 0;
        }
      if (l->s[l->i] == '\0')
        return LEX_ERR (l, start, "unclosed action");
      if (lex_token (l) < 0)
        return -1;
    }
}

static int
lex_all (lexer *l)
{
  for (;;)
    {
      const char *d = strstr (l->s + l->i, "{{");
      size_t at, end, after;
      bool ltrim;
      if (d == NULL)
        {
          if (l->s[l->i])
            emit (l, T_TEXT, l->i, strlen (l->s + l->i));
          emit (l, T_EOF, l->i + strlen (l->s + l->i), 0);
          return 0;
        }
      at = end = d - l->s;
      ltrim = d[2] == '-' && is_space (d[3]);
      while (ltrim && end > l->i && is_space (l->s[end - 1]))
        end--;
      if (end > l->i)
        emit (l, T_TEXT, l->i, end - l->i);
      after = at + 2 + (ltrim ? 2 : 0);
      l->i = after;
      if (l->s[after] == '/' && l->s[after + 1] == '*')
        {
          if (lex_comment (l, at) < 0)
            return -1;
          continue;
        }
      emit (l, T_LDELIM, at, 2);
      if (lex_action (l, at) < 0)
        return -1;
    }
}

/* ---- nodes ---- */

static void
nodes_add (gt_nodes *v, gt_node *n)
{
  if (v->n == v->cap)
    {
      v->cap = v->cap ? v->cap * 2 : 4;
      v->v = xrealloc (v->v, v->cap * sizeof (gt_node *));
    }
  v->v[v->n++] = n;
}

static gt_node *
new_node (parser *p, enum gt_type type, size_t pos)
{
  gt_node *n = xcalloc (1, sizeof (gt_node));
  n->type = type;
  n->pos = n->end = pos;
  nodes_add (&p->tree->all, n);
  return n;
}

static void
node_free (gt_node *n)
{
  for (size_t i = 0; i < n->n_idents; i++)
    free (n->idents[i]);
  for (size_t i = 0; i < n->n_decl; i++)
    free (n->decl[i]);
  free (n->idents);
  free (n->decl);
  free (n->kids.v);
  free (n->text);
  json_decref (n->value);
  free (n);
}

void
gt_tree_free (gt_tree *tree)
{
  for (size_t i = 0; i < tree->all.n; i++)
    node_free (tree->all.v[i]);
  free (tree->all.v);
  for (size_t i = 0; i < tree->n_defs; i++)
    free (tree->defs[i].name);
  free (tree->defs);
  memset (tree, 0, sizeof (*tree));
}

static void
add_ident (gt_node *n, const char *s, size_t len)
{
  n->idents = xrealloc (n->idents, (n->n_idents + 1) * sizeof (char *));
  n->idents[n->n_idents++] = strndup (s, len);
  if (n->idents[n->n_idents - 1] == NULL)
    abort ();
}

/* ---- token stream ---- */

static tok *
next (parser *p)
{
  tok *t = &p->t[p->i];
  if (t->type != T_EOF)
    p->i++;
  return t;
}

static tok *
peek (parser *p)
{
  return &p->t[p->i];
}

static tok *
next_nonspace (parser *p)
{
  tok *t;
  do
    t = next (p);
  while (t->type == T_SPACE);
  return t;
}

static tok *
peek_nonspace (parser *p)
{
  while (p->t[p->i].type == T_SPACE)
    p->i++;
  return &p->t[p->i];
}

static void
backup (parser *p)
{
  p->i--;
}

static size_t
last_end (parser *p)
{
  return p->i > 0 ? p->t[p->i - 1].pos + p->t[p->i - 1].len : 0;
}

static int
unexpected (parser *p, tok *t, const char *context)
{
  if (t->type == T_EOF)
    return PERR (p, t->pos, "unexpected EOF in %s", context);
  if (t->type == T_RDELIM)
    return PERR (p, t->pos, "unexpected \"}}\" in %s", context);
  return PERR (p, t->pos, "unexpected \"%.*s\" in %s", (int)t->len, p->src + t->pos, context);
}

static int
expect (parser *p, enum tok_type type, const char *context)
{
  tok *t = next_nonspace (p);
  if (t->type != type)
    return unexpected (p, t, context);
  return 0;
}

/* ---- variables in scope (parse-time check, like Go) ---- */

static void
push_var (parser *p, const char *name)
{
  if (p->n_vars == p->cap_vars)
    {
      p->cap_vars = p->cap_vars ? p->cap_vars * 2 : 8;
      p->vars = xrealloc (p->vars, p->cap_vars * sizeof (char *));
    }
  p->vars[p->n_vars++] = name;
}

static int
use_var (parser *p, tok *t)
{
  for (size_t i = p->n_vars; i-- > 0;)
    if (strlen (p->vars[i]) == t->len && memcmp (p->vars[i], p->src + t->pos, t->len) == 0)
      return 0;
  return PERR (p, t->pos, "undefined variable \"%.*s\"", (int)t->len, p->src + t->pos);
}

/* ---- literals ---- */

static int
hexval (char c)
{
  if (isdigit ((unsigned char)c))
    return c - '0';
  if (isxdigit ((unsigned char)c))
    return (tolower ((unsigned char)c) - 'a') + 10;
  return -1;
}

static void
put_utf8 (gt_buf *b, uint32_t r)
{
  char u[4];
  if (r < 0x80)
    return gt_buf_addc (b, (char)r);
  if (r < 0x800)
    {
      u[0] = 0xc0 | (r >> 6), u[1] = 0x80 | (r & 0x3f);
      return gt_buf_add (b, u, 2);
    }
  if (r < 0x10000)
    {
      u[0] = 0xe0 | (r >> 12), u[1] = 0x80 | ((r >> 6) & 0x3f), u[2] = 0x80 | (r & 0x3f);
      return gt_buf_add (b, u, 3);
    }
  u[0] = 0xf0 | (r >> 18), u[1] = 0x80 | ((r >> 12) & 0x3f), u[2] = 0x80 | ((r >> 6) & 0x3f);
  u[3] = 0x80 | (r & 0x3f);
  gt_buf_add (b, u, 4);
}

/* One escape after the backslash at S; returns bytes consumed or 0 when invalid. */
static size_t
unescape_one (const char *s, gt_buf *b)
{
  static const char from[] = "abfnrtv\\\"'", to[] = "\a\b\f\n\r\t\v\\\"'";
  const char *k = s[0] ? strchr (from, s[0]) : NULL;
  size_t digits = s[0] == 'x' ? 2 : s[0] == 'u' ? 4 : s[0] == 'U' ? 8 : 0;
  uint32_t r = 0;
  if (k)
    {
      gt_buf_addc (b, to[k - from]);
      return 1;
    }
  if (s[0] >= '0' && s[0] <= '7')
    {
      for (size_t i = 0; i < 3; i++)
        {
          if (s[i] < '0' || s[i] > '7')
            return 0;
          r = r * 8 + (s[i] - '0');
        }
      gt_buf_addc (b, (char)r);
      return r > 255 ? 0 : 3;
    }
  if (digits == 0)
    return 0;
  for (size_t i = 1; i <= digits; i++)
    {
      int h = hexval (s[i]);
      if (h < 0)
        return 0;
      r = r * 16 + h;
    }
  if (digits == 2)
    gt_buf_addc (b, (char)r);
  else if (r > 0x10ffff || (r >= 0xd800 && r < 0xe000))
    return 0;
  else
    put_utf8 (b, r);
  return digits + 1;
}

static int
unquote (parser *p, tok *t, gt_buf *b)
{
  const char *s = p->src + t->pos + 1;
  size_t n = t->len - 2;
  if (t->type == T_RAW)
    {
      gt_buf_add (b, s, n);
      return 0;
    }
  gt_buf_add (b, "", 0);
  for (size_t i = 0; i < n; i++)
    {
      size_t used;
      if (s[i] != '\\')
        {
          gt_buf_addc (b, s[i]);
          continue;
        }
      used = unescape_one (s + i + 1, b);
      if (used == 0 || i + used >= n)
        return PERR (p, t->pos, "invalid syntax: %.*s", (int)t->len, p->src + t->pos);
      i += used;
    }
  return 0;
}

static int
string_node (parser *p, tok *t, gt_node **out)
{
  gt_buf b = { 0 };
  if (unquote (p, t, &b) < 0)
    {
      free (b.s);
      return -1;
    }
  *out = new_node (p, GT_STRING, t->pos);
  (*out)->value = json_stringn (b.s ? b.s : "", b.len);
  free (b.s);
  if ((*out)->value == NULL)
    return PERR (p, t->pos, "invalid UTF-8 in string %.*s", (int)t->len, p->src + t->pos);
  return 0;
}

/* 'a' or '\n': the rune's value. */
static int
char_value (parser *p, tok *t, long long *v)
{
  gt_buf b = { 0 };
  const unsigned char *u;
  size_t n;
  int rc = 0;
  tok q = *t;
  q.type = T_STRING;
  if (unquote (p, &q, &b) < 0)
    {
      free (b.s);
      return -1;
    }
  u = (const unsigned char *)b.s;
  n = b.len;
  if (n == 1 || (n > 0 && u[0] < 0x80))
    *v = u[0];
  else if (n == 2 && (u[0] & 0xe0) == 0xc0)
    *v = ((u[0] & 0x1f) << 6) | (u[1] & 0x3f);
  else if (n == 3 && (u[0] & 0xf0) == 0xe0)
    *v = ((u[0] & 0x0f) << 12) | ((u[1] & 0x3f) << 6) | (u[2] & 0x3f);
  else if (n == 4 && (u[0] & 0xf8) == 0xf0)
    *v = ((long long)(u[0] & 0x07) << 18) | ((u[1] & 0x3f) << 12) | ((u[2] & 0x3f) << 6) | (u[3] & 0x3f);
  else
    rc = PERR (p, t->pos, "malformed character constant: %.*s", (int)t->len, p->src + t->pos);
  if (rc == 0 && (n == 0 || (u[0] < 0x80 && n != 1)))
    rc = PERR (p, t->pos, "malformed character constant: %.*s", (int)t->len, p->src + t->pos);
  free (b.s);
  return rc;
}

static int
number_node (parser *p, tok *t, gt_node **out)
{
  char buf[128];
  size_t j = 0;
  long long iv = 0;
  char *end;
  bool hex;
  if (t->type == T_CHAR)
    {
      if (char_value (p, t, &iv) < 0)
        return -1;
      *out = new_node (p, GT_NUMBER, t->pos);
      (*out)->value = json_integer (iv);
      return 0;
    }
  for (size_t i = 0; i < t->len && j + 1 < sizeof (buf); i++)
    if (p->src[t->pos + i] != '_')
      buf[j++] = p->src[t->pos + i];
  buf[j] = '\0';
  hex = strstr (buf, "0x") || strstr (buf, "0X");
  *out = new_node (p, GT_NUMBER, t->pos);
  errno = 0;
  if (!hex && strpbrk (buf, ".eE") == NULL)
    {
      const char *digits = buf + (buf[0] == '+' || buf[0] == '-');
      int base = (digits[0] == '0' && strchr ("oObB", digits[1]) && digits[1]) ? (strchr ("oO", digits[1]) ? 8 : 2) : 0;
      if (base)
        {
          iv = strtoll (digits + 2, &end, base);
          iv = buf[0] == '-' ? -iv : iv;
        }
      else
        iv = strtoll (buf, &end, digits[0] == '0' ? 8 : 10);
      if (*end == '\0' && errno == 0)
        {
          (*out)->value = json_integer (iv);
          return 0;
        }
    }
  if (hex && strpbrk (buf, ".pP") == NULL)
    {
      iv = strtoll (buf, &end, 16);
      if (*end == '\0' && errno == 0)
        {
          (*out)->value = json_integer (iv);
          return 0;
        }
    }
  errno = 0;
  double d = strtod (buf, &end);
  if (*end != '\0' || errno != 0)
    return PERR (p, t->pos, "illegal number syntax: \"%s\"", buf);
  (*out)->value = json_real (d);
  return 0;
}

/* ---- grammar ---- */

static int pipeline (parser *p, const char *context, enum tok_type end, gt_node **out);
static int item_list (parser *p, gt_node **list, gt_node **term);

static const char *
tok_name (parser *p, tok *t, char *buf, size_t size)
{
  snprintf (buf, size, "%.*s", (int)t->len, p->src + t->pos);
  return buf;
}

static int
ident_node (parser *p, tok *t, gt_node **out)
{
  char name[128];
  tok_name (p, t, name, sizeof (name));
  if (gt_func_lookup (name) == NULL)
    return PERR (p, t->pos, "function \"%s\" not defined", name);
  *out = new_node (p, GT_IDENT, t->pos);
  (*out)->text = xstrdup (name);
  return 0;
}

static int
term (parser *p, gt_node **out)
{
  tok *t = next_nonspace (p);
  *out = NULL;
  switch (t->type)
    {
    case T_IDENT:
      return ident_node (p, t, out);
    case T_DOT:
    case T_NIL:
      *out = new_node (p, t->type == T_DOT ? GT_DOT : GT_NIL, t->pos);
      return 0;
    case T_VAR:
      if (use_var (p, t) < 0)
        return -1;
      *out = new_node (p, GT_VAR, t->pos);
      (*out)->text = strndup (p->src + t->pos, t->len);
      return 0;
    case T_FIELD:
      *out = new_node (p, GT_FIELD, t->pos);
      add_ident (*out, p->src + t->pos + 1, t->len - 1);
      return 0;
    case T_BOOL:
      *out = new_node (p, GT_BOOL, t->pos);
      (*out)->value = json_boolean (p->src[t->pos] == 't');
      return 0;
    case T_CHAR:
    case T_NUMBER:
      return number_node (p, t, out);
    case T_LPAREN:
      return pipeline (p, "parenthesized pipeline", T_RPAREN, out);
    case T_STRING:
    case T_RAW:
      return string_node (p, t, out);
    default:
      backup (p);
      return 0;
    }
}

static int
operand (parser *p, gt_node **out)
{
  gt_node *n, *chain;
  *out = NULL;
  if (term (p, &n) < 0)
    return -1;
  if (n == NULL)
    return 0;
  n->end = last_end (p);
  *out = n;
  if (peek (p)->type != T_FIELD)
    return 0;
  switch (n->type)
    {
    case GT_FIELD:
    case GT_VAR:
      chain = n;
      break;
    case GT_BOOL:
    case GT_STRING:
    case GT_NUMBER:
    case GT_NIL:
    case GT_DOT:
      return PERR (p, peek (p)->pos, "unexpected . after term \"%.*s\"", (int)(n->end - n->pos), p->src + n->pos);
    default:
      chain = new_node (p, GT_CHAIN, n->pos);
      chain->node = n;
      break;
    }
  while (peek (p)->type == T_FIELD)
    {
      tok *t = next (p);
      add_ident (chain, p->src + t->pos + 1, t->len - 1);
    }
  chain->end = last_end (p);
  *out = chain;
  return 0;
}

static int
command (parser *p, gt_node **out)
{
  gt_node *cmd = new_node (p, GT_CMD, peek_nonspace (p)->pos);
  for (;;)
    {
      gt_node *arg;
      tok *t;
      peek_nonspace (p);
      if (operand (p, &arg) < 0)
        return -1;
      if (arg)
        nodes_add (&cmd->kids, arg);
      t = next (p);
      if (t->type == T_SPACE)
        continue;
      if (t->type == T_RDELIM || t->type == T_RPAREN)
        backup (p);
      else if (t->type != T_PIPE)
        return unexpected (p, t, "operand");
      break;
    }
  if (cmd->kids.n == 0)
    return PERR (p, cmd->pos, "empty command");
  cmd->end = cmd->kids.v[cmd->kids.n - 1]->end;
  *out = cmd;
  return 0;
}

static void
add_decl (parser *p, gt_node *pipe, tok *v)
{
  pipe->decl = xrealloc (pipe->decl, (pipe->n_decl + 1) * sizeof (char *));
  pipe->decl[pipe->n_decl] = strndup (p->src + v->pos, v->len);
  push_var (p, pipe->decl[pipe->n_decl++]);
}

/* The "$x :=" / "$x =" / "$i, $v :=" prefix of a pipeline, if any. */
static int
declarations (parser *p, gt_node *pipe, const char *context)
{
  for (;;)
    {
      size_t save = p->i;
      tok *v = peek_nonspace (p), *t;
      if (v->type != T_VAR)
        return 0;
      next (p);
      t = next_nonspace (p);
      if (t->type == T_DECLARE || t->type == T_ASSIGN)
        {
          pipe->assign = t->type == T_ASSIGN;
          if (pipe->assign && use_var (p, v) < 0)
            return -1;
          add_decl (p, pipe, v);
          return 0;
        }
      if (t->type == T_COMMA && strcmp (context, "range") == 0 && pipe->n_decl == 0)
        {
          add_decl (p, pipe, v);
          if (peek_nonspace (p)->type != T_VAR)
            return PERR (p, t->pos, "range can only initialize variables");
          continue;
        }
      if (t->type == T_COMMA)
        return PERR (p, t->pos, "too many declarations in %s", context);
      p->i = save;
      return 0;
    }
}

static int
check_pipe (parser *p, gt_node *pipe)
{
  for (size_t i = 1; i < pipe->kids.n; i++)
    switch (pipe->kids.v[i]->kids.v[0]->type)
      {
      case GT_BOOL:
      case GT_DOT:
      case GT_NIL:
      case GT_NUMBER:
      case GT_STRING:
        return PERR (p, pipe->kids.v[i]->pos, "non executable command in pipeline stage %zu", i + 1);
      default:
        break;
      }
  return 0;
}

static int
pipeline (parser *p, const char *context, enum tok_type end, gt_node **out)
{
  gt_node *pipe = new_node (p, GT_PIPE, peek_nonspace (p)->pos);
  if (declarations (p, pipe, context) < 0)
    return -1;
  for (;;)
    {
      tok *t = next_nonspace (p);
      gt_node *cmd = NULL;
      if (t->type == end)
        {
          if (pipe->kids.n == 0)
            return PERR (p, t->pos, "missing value for %s", context);
          if (end == T_RDELIM)
            backup (p);
          pipe->end = last_end (p);
          *out = pipe;
          return check_pipe (p, pipe);
        }
      switch (t->type)
        {
        case T_BOOL:
        case T_CHAR:
        case T_DOT:
        case T_FIELD:
        case T_IDENT:
        case T_NUMBER:
        case T_NIL:
        case T_RAW:
        case T_STRING:
        case T_VAR:
        case T_LPAREN:
          backup (p);
          if (command (p, &cmd) < 0)
            return -1;
          nodes_add (&pipe->kids, cmd);
          break;
        default:
          return unexpected (p, t, context);
        }
    }
}

static int
parse_control (parser *p, enum gt_type type, const char *context, size_t pos, gt_node **out)
{
  size_t mark = p->n_vars;
  gt_node *n = new_node (p, type, pos), *term;
  if (pipeline (p, context, T_RDELIM, &n->pipe) < 0 || expect (p, T_RDELIM, context) < 0)
    return -1;
  p->range_depth += type == GT_RANGE;
  if (item_list (p, &n->list, &term) < 0)
    return -1;
  p->range_depth -= type == GT_RANGE;
  if (term->type == GT_ELSE)
    {
      tok *t = peek_nonspace (p);
      if ((type == GT_IF && t->type == T_IF) || (type == GT_WITH && t->type == T_WITH))
        {
          gt_node *inner;
          next (p);
          n->else_list = new_node (p, GT_LIST, t->pos);
          if (parse_control (p, type, context, t->pos, &inner) < 0)
            return -1;
          nodes_add (&n->else_list->kids, inner);
        }
      else
        {
          if (item_list (p, &n->else_list, &term) < 0)
            return -1;
          if (term->type != GT_END)
            return PERR (p, term->pos, "expected end; found {{else}}");
        }
    }
  n->end = n->pipe->end;
  p->n_vars = mark;
  *out = n;
  return 0;
}

static int
template_name (parser *p, const char *context, char **name)
{
  tok *t = next_nonspace (p);
  gt_buf b = { 0 };
  if (t->type != T_STRING && t->type != T_RAW)
    return unexpected (p, t, context);
  if (unquote (p, t, &b) < 0)
    {
      free (b.s);
      return -1;
    }
  *name = gt_buf_steal (&b);
  return 0;
}

static void
add_define (parser *p, char *name, gt_node *list)
{
  for (size_t i = 0; i < p->tree->n_defs; i++)
    if (strcmp (p->tree->defs[i].name, name) == 0)
      {
        free (name);
        p->tree->defs[i].list = list;
        return;
      }
  p->tree->defs = xrealloc (p->tree->defs, (p->tree->n_defs + 1) * sizeof (gt_define));
  p->tree->defs[p->tree->n_defs++] = (gt_define){ name, list };
}

/* The body of a define or block: a fresh variable scope holding only "$". */
static int
definition_body (parser *p, char *name, size_t pos)
{
  size_t mark = p->n_vars;
  int depth = p->range_depth;
  gt_node *list, *term;
  push_var (p, "$");
  p->range_depth = 0;
  if (item_list (p, &list, &term) < 0)
    return free (name), -1;
  p->n_vars = mark;
  p->range_depth = depth;
  if (term->type != GT_END)
    return free (name), PERR (p, term->pos, "unexpected {{else}} in definition");
  add_define (p, name, list);
  return 0;
}

static int
template_control (parser *p, size_t pos, bool block, gt_node **out)
{
  const char *context = block ? "block clause" : "template clause";
  gt_node *n = new_node (p, GT_TEMPLATE, pos);
  if (template_name (p, context, &n->text) < 0)
    return -1;
  if (next_nonspace (p)->type != T_RDELIM)
    {
      backup (p);
      if (pipeline (p, context, T_RDELIM, &n->pipe) < 0)
        return -1;
      n->end = n->pipe->end;
      if (expect (p, T_RDELIM, context) < 0)
        return -1;
    }
  else if (block)
    return PERR (p, pos, "missing value for block clause");
  else
    n->end = p->t[p->i - 1].pos;
  *out = n;
  return block ? definition_body (p, xstrdup (n->text), pos) : 0;
}

static int
simple_control (parser *p, enum gt_type type, tok *t, gt_node **out)
{
  const char *word = type == GT_BREAK ? "break" : type == GT_CONTINUE ? "continue" : type == GT_END ? "end" : "else";
  tok *next_tok = peek_nonspace (p);
  if (type == GT_ELSE && (next_tok->type == T_IF || next_tok->type == T_WITH))
    {
      *out = new_node (p, type, t->pos);
      return 0;
    }
  if (next (p)->type != T_RDELIM)
    return unexpected (p, next_tok, word);
  if ((type == GT_BREAK || type == GT_CONTINUE) && p->range_depth == 0)
    return PERR (p, t->pos, "{{%s}} outside {{range}}", word);
  *out = new_node (p, type, t->pos);
  return 0;
}

/* After "{{": one action, control structure or marker (else/end). */
static int
action (parser *p, gt_node **out)
{
  tok *t = next_nonspace (p);
  gt_node *n;
  switch (t->type)
    {
    case T_BLOCK:
      return template_control (p, t->pos, true, out);
    case T_TEMPLATE:
      return template_control (p, t->pos, false, out);
    case T_BREAK:
      return simple_control (p, GT_BREAK, t, out);
    case T_CONTINUE:
      return simple_control (p, GT_CONTINUE, t, out);
    case T_ELSE:
      return simple_control (p, GT_ELSE, t, out);
    case T_END:
      return simple_control (p, GT_END, t, out);
    case T_IF:
      return parse_control (p, GT_IF, "if", t->pos, out);
    case T_RANGE:
      return parse_control (p, GT_RANGE, "range", t->pos, out);
    case T_WITH:
      return parse_control (p, GT_WITH, "with", t->pos, out);
    default:
      backup (p);
      n = new_node (p, GT_ACTION, t->pos);
      if (pipeline (p, "command", T_RDELIM, &n->pipe) < 0 || expect (p, T_RDELIM, "command") < 0)
        return -1;
      n->end = n->pipe->end;
      *out = n;
      return 0;
    }
}

static int
text_or_action (parser *p, gt_node **out)
{
  tok *t = next (p);
  if (t->type == T_TEXT)
    {
      gt_node *n = new_node (p, GT_TEXT, t->pos);
      n->text = strndup (p->src + t->pos, t->len);
      n->len = t->len;
      *out = n;
      return 0;
    }
  if (t->type == T_LDELIM)
    return action (p, out);
  return unexpected (p, t, "input");
}

static int
item_list (parser *p, gt_node **list, gt_node **term)
{
  *list = new_node (p, GT_LIST, peek (p)->pos);
  for (;;)
    {
      gt_node *n;
      if (peek (p)->type == T_EOF)
        return PERR (p, peek (p)->pos, "unexpected EOF");
      if (text_or_action (p, &n) < 0)
        return -1;
      if (n->type == GT_END || n->type == GT_ELSE)
        {
          *term = n;
          return 0;
        }
      nodes_add (&(*list)->kids, n);
    }
}

static int
parse_define (parser *p, size_t pos)
{
  char *name;
  if (template_name (p, "define clause", &name) < 0)
    return -1;
  if (expect (p, T_RDELIM, "define clause") < 0)
    return free (name), -1;
  return definition_body (p, name, pos);
}

static int
parse_top (parser *p)
{
  p->tree->root = new_node (p, GT_LIST, 0);
  push_var (p, "$");
  while (peek (p)->type != T_EOF)
    {
      gt_node *n;
      if (peek (p)->type == T_LDELIM)
        {
          size_t save = p->i;
          tok *d = next (p);
          if (next_nonspace (p)->type == T_DEFINE)
            {
              if (parse_define (p, d->pos) < 0)
                return -1;
              continue;
            }
          p->i = save;
        }
      if (text_or_action (p, &n) < 0)
        return -1;
      if (n->type == GT_END || n->type == GT_ELSE)
        return PERR (p, n->pos, "unexpected {{%s}}", n->type == GT_END ? "end" : "else");
      nodes_add (&p->tree->root->kids, n);
    }
  return 0;
}

int
gt_parse (const char *src, gt_tree *tree, nook_err *err)
{
  lexer l = { .s = src, .err = err };
  parser p = { .src = src, .tree = tree, .err = err };
  int rc;
  memset (tree, 0, sizeof (*tree));
  tree->src = src;
  err->msg[0] = '\0';
  if (lex_all (&l) < 0)
    {
      free (l.t);
      return -1;
    }
  p.t = l.t;
  p.n = l.n;
  rc = parse_top (&p);
  free (l.t);
  free (p.vars);
  if (rc < 0)
    gt_tree_free (tree);
  return rc;
}
