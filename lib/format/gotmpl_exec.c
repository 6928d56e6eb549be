/* Go text/template: the executor (a port of text/template/exec.go over jansson values).
 *
 * Values are json_t references; NULL is Go's nil / "no value" (JSON null is folded into NULL the way
 * Go's evalPipeline turns a nil interface{} into an invalid value).  Every eval function returns a new
 * reference (or NULL) in *OUT and 0, or -1 with x->err filled. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/gotmpl.h"
#include "format/gotmpl_int.h"
#include "util/strutil.h"

#define MAX_DEPTH 1000

enum flow
{
  FLOW_NONE,
  FLOW_BREAK,
  FLOW_CONTINUE,
};

typedef struct var
{
  const char *name;
  json_t *value;
} var;

typedef struct gt_exec
{
  gt_tree *tree;
  const char *name; /* template being executed, "" for the main one */
  gt_buf *out;
  var *vars;
  size_t n_vars, cap_vars;
  enum flow flow;
  int depth;
  nook_err *err;
} gt_exec;

static int eval_pipe (gt_exec *x, json_t *dot, gt_node *pipe, json_t **out);
static int eval_arg (gt_exec *x, json_t *dot, gt_node *n, json_t **out);
static int walk (gt_exec *x, json_t *dot, gt_node *n);

/* ---- buffer ---- */

void
gt_buf_add (gt_buf *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap)
    {
      while (b->len + n + 1 > b->cap)
        b->cap = b->cap ? b->cap * 2 : 64;
      b->s = xrealloc (b->s, b->cap);
    }
  memcpy (b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void
gt_buf_adds (gt_buf *b, const char *s)
{
  gt_buf_add (b, s, strlen (s));
}

void
gt_buf_addc (gt_buf *b, char c)
{
  gt_buf_add (b, &c, 1);
}

void
gt_buf_addf (gt_buf *b, const char *fmt, ...)
{
  char small[256], *big = NULL;
  va_list ap;
  int n;
  va_start (ap, fmt);
  n = vsnprintf (small, sizeof (small), fmt, ap);
  va_end (ap);
  if (n < 0)
    return;
  if ((size_t)n < sizeof (small))
    return gt_buf_add (b, small, n);
  va_start (ap, fmt);
  n = vasprintf (&big, fmt, ap);
  va_end (ap);
  if (n < 0)
    abort ();
  gt_buf_add (b, big, n);
  free (big);
}

char *
gt_buf_steal (gt_buf *b)
{
  char *s = b->s ? b->s : xstrdup ("");
  memset (b, 0, sizeof (*b));
  return s;
}

/* ---- errors ---- */

/* Go's ErrorContext: "template: NAME:LINE:COL: executing \"NAME\" at <NODE>: " */
static void
context (gt_exec *x, gt_node *n, char *buf, size_t size)
{
  size_t line, col, len = n->end > n->pos ? n->end - n->pos : 0;
  gt_line_col (x->tree->src, n->pos, &line, &col);
  if (len > 20)
    snprintf (buf, size, "template: %s:%zu:%zu: executing \"%s\" at <%.20s...>: ", x->name, line, col, x->name,
              x->tree->src + n->pos);
  else
    snprintf (buf, size, "template: %s:%zu:%zu: executing \"%s\" at <%.*s>: ", x->name, line, col, x->name, (int)len,
              x->tree->src + n->pos);
}

static int __attribute__ ((format (printf, 3, 4))) xerr (gt_exec *x, gt_node *n, const char *fmt, ...)
{
  char ctx[256], msg[512];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof (msg), fmt, ap);
  va_end (ap);
  context (x, n, ctx, sizeof (ctx));
  return nook_error_input (x->err, "%s%s", ctx, msg);
}

/* ---- variables ---- */

static void
push_var (gt_exec *x, const char *name, json_t *v)
{
  if (x->n_vars == x->cap_vars)
    {
      x->cap_vars = x->cap_vars ? x->cap_vars * 2 : 8;
      x->vars = xrealloc (x->vars, x->cap_vars * sizeof (var));
    }
  x->vars[x->n_vars++] = (var){ name, json_incref (v) };
}

static void
pop_vars (gt_exec *x, size_t mark)
{
  while (x->n_vars > mark)
    json_decref (x->vars[--x->n_vars].value);
}

static void
set_var_at (gt_exec *x, size_t i, json_t *v)
{
  json_t *old = x->vars[i].value;
  x->vars[i].value = json_incref (v);
  json_decref (old);
}

static var *
find_var (gt_exec *x, const char *name)
{
  for (size_t i = x->n_vars; i-- > 0;)
    if (strcmp (x->vars[i].name, name) == 0)
      return &x->vars[i];
  return NULL;
}

/* ---- values ---- */

/* JSON null is Go's nil. */
static json_t *
norm (json_t *v)
{
  return json_is_null (v) ? NULL : json_incref (v);
}

static int
field_chain (gt_exec *x, gt_node *n, json_t *recv, char **idents, size_t count, json_t **out)
{
  json_t *v = json_incref (recv);
  for (size_t i = 0; i < count; i++)
    {
      json_t *next;
      if (v == NULL)
        continue; /* a missing key or nil: the rest is missing too */
      if (!json_is_object (v))
        {
          int rc = xerr (x, n, "can't evaluate field %s in type %s", idents[i], gt_type_name (v));
          json_decref (v);
          return rc;
        }
      next = norm (json_object_get (v, idents[i]));
      json_decref (v);
      v = next;
    }
  *out = v;
  return 0;
}

static int
not_a_function (gt_exec *x, gt_node *cmd, bool has_final)
{
  gt_node *first = cmd->kids.v[0];
  if (cmd->kids.n > 1 || has_final)
    return xerr (x, first, "can't give argument to non-function %.*s", (int)(first->end - first->pos),
                 x->tree->src + first->pos);
  return 0;
}

static int
var_value (gt_exec *x, gt_node *n, json_t **out)
{
  var *v = find_var (x, n->text);
  if (v == NULL)
    return xerr (x, n, "undefined variable: %s", n->text);
  *out = json_incref (v->value);
  return 0;
}

/* A field, variable or chain, with its field path. */
static int
eval_path (gt_exec *x, json_t *dot, gt_node *n, json_t **out)
{
  json_t *base = NULL;
  int rc;
  if (n->type == GT_FIELD)
    return field_chain (x, n, dot, n->idents, n->n_idents, out);
  if (n->type == GT_VAR)
    rc = var_value (x, n, &base);
  else
    rc = eval_arg (x, dot, n->node, &base);
  if (rc < 0)
    return -1;
  rc = field_chain (x, n, base, n->idents, n->n_idents, out);
  json_decref (base);
  return rc;
}

/* ---- function calls ---- */

static void
free_args (json_t **args, size_t n)
{
  for (size_t i = 0; i < n; i++)
    json_decref (args[i]);
  free (args);
}

/* and/or: evaluate lazily, return the deciding value. */
static int
call_and_or (gt_exec *x, json_t *dot, gt_node *cmd, bool is_or, json_t *final, bool has_final, json_t **out)
{
  json_t *v = NULL;
  for (size_t i = 1; i < cmd->kids.n; i++)
    {
      json_decref (v);
      if (eval_arg (x, dot, cmd->kids.v[i], &v) < 0)
        return -1;
      if (gt_truth (v) == is_or)
        {
          *out = v;
          return 0;
        }
    }
  if (has_final)
    {
      json_decref (v);
      v = json_incref (final);
    }
  *out = v;
  return 0;
}

static int
check_arity (gt_exec *x, gt_node *cmd, const gt_func *f, size_t n)
{
  if ((int)n >= f->min && (f->max < 0 || (int)n <= f->max))
    return 0;
  if (f->max < 0)
    return xerr (x, cmd, "wrong number of args for %s: want at least %d got %zu", f->name, f->min, n);
  return xerr (x, cmd, "wrong number of args for %s: want %d got %zu", f->name, f->min, n);
}

static int
call_function (gt_exec *x, json_t *dot, gt_node *cmd, json_t *final, bool has_final, json_t **out)
{
  gt_node *ident = cmd->kids.v[0];
  const gt_func *f = gt_func_lookup (ident->text);
  size_t n = cmd->kids.n - 1 + has_final, k = 0;
  json_t **args;
  int rc;
  if (f == NULL)
    return xerr (x, ident, "\"%s\" is not a defined function", ident->text);
  if (check_arity (x, cmd, f, n) < 0)
    return -1;
  if (f->fn == NULL)
    return call_and_or (x, dot, cmd, strcmp (f->name, "or") == 0, final, has_final, out);
  args = xcalloc (n + 1, sizeof (json_t *));
  for (size_t i = 1; i < cmd->kids.n; i++, k++)
    if (eval_arg (x, dot, cmd->kids.v[i], &args[k]) < 0)
      return free_args (args, k), -1;
  if (has_final)
    args[k] = json_incref (final);
  rc = f->fn (args, n, out, x->err);
  free_args (args, n);
  if (rc < 0)
    {
      char ctx[256];
      context (x, cmd, ctx, sizeof (ctx));
      return nook_error_prefix (x->err, "%serror calling %s", ctx, f->name);
    }
  return 0;
}

/* ---- commands and pipelines ---- */

static int
eval_cmd (gt_exec *x, json_t *dot, gt_node *cmd, json_t *final, bool has_final, json_t **out)
{
  gt_node *first = cmd->kids.v[0];
  *out = NULL;
  switch (first->type)
    {
    case GT_IDENT:
      return call_function (x, dot, cmd, final, has_final, out);
    case GT_FIELD:
    case GT_CHAIN:
    case GT_VAR:
      if (cmd->kids.n > 1 || has_final)
        {
          if (first->type == GT_VAR && first->n_idents == 0)
            return not_a_function (x, cmd, has_final);
          return xerr (x, first, "%s is not a method but has arguments",
                       first->n_idents ? first->idents[first->n_idents - 1] : first->text);
        }
      return eval_path (x, dot, first, out);
    case GT_NIL:
      return xerr (x, first, "nil is not a command");
    default:
      if (not_a_function (x, cmd, has_final) < 0)
        return -1;
      return eval_arg (x, dot, first, out);
    }
}

static int
eval_pipe (gt_exec *x, json_t *dot, gt_node *pipe, json_t **out)
{
  json_t *v = NULL;
  for (size_t i = 0; i < pipe->kids.n; i++)
    {
      json_t *next;
      if (eval_cmd (x, dot, pipe->kids.v[i], v, i > 0, &next) < 0)
        {
          json_decref (v);
          return -1;
        }
      json_decref (v);
      v = next;
    }
  for (size_t i = 0; i < pipe->n_decl; i++)
    {
      var *old = pipe->assign ? find_var (x, pipe->decl[i]) : NULL;
      if (old)
        set_var_at (x, old - x->vars, v);
      else if (pipe->assign)
        return json_decref (v), xerr (x, pipe, "undefined variable: %s", pipe->decl[i]);
      else
        push_var (x, pipe->decl[i], v);
    }
  *out = v;
  return 0;
}

static int
eval_arg (gt_exec *x, json_t *dot, gt_node *n, json_t **out)
{
  *out = NULL;
  switch (n->type)
    {
    case GT_DOT:
      *out = json_incref (dot);
      return 0;
    case GT_NIL:
      return 0;
    case GT_FIELD:
    case GT_VAR:
    case GT_CHAIN:
      return eval_path (x, dot, n, out);
    case GT_PIPE:
      return eval_pipe (x, dot, n, out);
    case GT_IDENT:
      {
        gt_node cmd = { .type = GT_CMD, .pos = n->pos, .end = n->end, .kids = { &n, 1, 1 } };
        return call_function (x, dot, &cmd, NULL, false, out);
      }
    case GT_BOOL:
    case GT_NUMBER:
    case GT_STRING:
      *out = json_incref (n->value);
      return 0;
    default:
      return xerr (x, n, "can't handle node of type %d", n->type);
    }
}

/* ---- control structures ---- */

static void
print_action (gt_exec *x, json_t *v)
{
  if (v == NULL)
    gt_buf_adds (x->out, "<no value>");
  else
    gt_fmt_value (x->out, v);
}

static int
walk_if (gt_exec *x, json_t *dot, gt_node *n)
{
  size_t mark = x->n_vars;
  json_t *v;
  int rc = 0;
  if (eval_pipe (x, dot, n->pipe, &v) < 0)
    return -1;
  if (gt_truth (v))
    rc = walk (x, n->type == GT_WITH ? v : dot, n->list);
  else if (n->else_list)
    rc = walk (x, dot, n->else_list);
  pop_vars (x, mark);
  json_decref (v);
  return rc;
}

/* One iteration: set the range variables ($v or $i, $v), walk the body.  Returns 1 to stop. */
static int
range_once (gt_exec *x, gt_node *n, size_t mark, json_t *index, json_t *elem)
{
  size_t nd = n->pipe->n_decl;
  var *vi = NULL, *ve = NULL;
  int rc;
  if (nd > 0 && n->pipe->assign)
    {
      ve = find_var (x, n->pipe->decl[nd - 1]);
      vi = nd > 1 ? find_var (x, n->pipe->decl[0]) : NULL;
    }
  else if (nd > 0)
    {
      ve = &x->vars[mark - 1];
      vi = nd > 1 ? &x->vars[mark - 2] : NULL;
    }
  if (ve)
    set_var_at (x, ve - x->vars, elem);
  if (vi)
    set_var_at (x, vi - x->vars, index);
  rc = walk (x, elem, n->list);
  pop_vars (x, mark);
  json_decref (index);
  if (rc < 0)
    return -1;
  if (x->flow == FLOW_BREAK)
    {
      x->flow = FLOW_NONE;
      return 1;
    }
  x->flow = FLOW_NONE;
  return 0;
}

static int
strcmp_p (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

static int
range_object (gt_exec *x, gt_node *n, size_t mark, json_t *v)
{
  size_t count = json_object_size (v), i = 0;
  const char **keys = xcalloc (count + 1, sizeof (char *));
  const char *key;
  json_t *elem;
  int rc = 0;
  json_object_foreach (v, key, elem) keys[i++] = key;
  qsort (keys, count, sizeof (char *), strcmp_p);
  for (i = 0; i < count && rc == 0; i++)
    {
      json_t *e = norm (json_object_get (v, keys[i]));
      rc = range_once (x, n, mark, json_string (keys[i]), e);
      json_decref (e);
    }
  free (keys);
  return rc < 0 ? -1 : 0;
}

static int
range_values (gt_exec *x, gt_node *n, json_t *v, size_t mark)
{
  int rc = 0;
  if (json_is_array (v))
    for (size_t i = 0; i < json_array_size (v) && rc == 0; i++)
      {
        json_t *e = norm (json_array_get (v, i));
        rc = range_once (x, n, mark, json_integer (i), e);
        json_decref (e);
      }
  else if (json_is_object (v))
    rc = range_object (x, n, mark, v);
  else if (v != NULL)
    return xerr (x, n->pipe, "range can't iterate over %s", gt_type_name (v));
  return rc < 0 ? -1 : 0;
}

static int
walk_range (gt_exec *x, json_t *dot, gt_node *n)
{
  size_t mark = x->n_vars;
  json_t *v;
  int rc = 0;
  if (eval_pipe (x, dot, n->pipe, &v) < 0)
    return -1;
  /* podman's Go (1.19) refuses ranging over an integer: no loop of 10^18 turns from a --format */
  if (json_is_integer (v))
    rc = xerr (x, n->pipe, "range can't iterate over %lld", (long long)json_integer_value (v));
  else if (!gt_truth (v))
    {
      if (json_is_string (v) || json_is_boolean (v) || json_is_real (v))
        rc = xerr (x, n->pipe, "range can't iterate over %s", gt_type_name (v));
      else if (n->else_list)
        rc = walk (x, dot, n->else_list);
    }
  else
    rc = range_values (x, n, v, x->n_vars);
  pop_vars (x, mark);
  json_decref (v);
  return rc;
}

static gt_node *
find_define (gt_exec *x, const char *name)
{
  for (size_t i = 0; i < x->tree->n_defs; i++)
    if (strcmp (x->tree->defs[i].name, name) == 0)
      return x->tree->defs[i].list;
  return NULL;
}

static int
walk_template (gt_exec *x, json_t *dot, gt_node *n)
{
  gt_node *list = find_define (x, n->text);
  json_t *v = NULL;
  var *saved_vars = x->vars;
  size_t saved_n = x->n_vars, saved_cap = x->cap_vars;
  const char *saved_name = x->name;
  int rc;
  if (list == NULL)
    return xerr (x, n, "template \"%s\" not defined", n->text);
  if (x->depth >= MAX_DEPTH)
    return xerr (x, n, "exceeded maximum template depth (%d)", MAX_DEPTH);
  if (n->pipe && eval_pipe (x, dot, n->pipe, &v) < 0)
    return -1;
  x->vars = NULL;
  x->n_vars = x->cap_vars = 0;
  push_var (x, "$", v);
  x->name = n->text;
  x->depth++;
  rc = walk (x, v, list);
  x->depth--;
  pop_vars (x, 0);
  free (x->vars);
  x->vars = saved_vars;
  x->n_vars = saved_n;
  x->cap_vars = saved_cap;
  x->name = saved_name;
  json_decref (v);
  return rc;
}

static int
walk (gt_exec *x, json_t *dot, gt_node *n)
{
  json_t *v;
  switch (n->type)
    {
    case GT_LIST:
      for (size_t i = 0; i < n->kids.n && x->flow == FLOW_NONE; i++)
        if (walk (x, dot, n->kids.v[i]) < 0)
          return -1;
      return 0;
    case GT_TEXT:
      gt_buf_add (x->out, n->text, n->len);
      return 0;
    case GT_ACTION:
      if (eval_pipe (x, dot, n->pipe, &v) < 0)
        return -1;
      if (n->pipe->n_decl == 0)
        print_action (x, v);
      json_decref (v);
      return 0;
    case GT_IF:
    case GT_WITH:
      return walk_if (x, dot, n);
    case GT_RANGE:
      return walk_range (x, dot, n);
    case GT_TEMPLATE:
      return walk_template (x, dot, n);
    case GT_BREAK:
      x->flow = FLOW_BREAK;
      return 0;
    case GT_CONTINUE:
      x->flow = FLOW_CONTINUE;
      return 0;
    default:
      return xerr (x, n, "unknown node");
    }
}

int
nook_tmpl_render (const char *tmpl, json_t *dot, char **out, nook_err *err)
{
  gt_tree tree;
  gt_buf b = { 0 };
  gt_exec x = { .tree = &tree, .name = "", .out = &b, .err = err };
  size_t old;
  int rc;
  if (gt_parse (tmpl, &tree, err) < 0)
    return -1;
  dot = json_is_null (dot) ? NULL : dot;
  push_var (&x, "$", dot);
  rc = walk (&x, dot, tree.root);
  pop_vars (&x, 0);
  free (x.vars);
  gt_tree_free (&tree);
  if (rc < 0)
    {
      free (b.s);
      return -1;
    }
  old = *out ? strlen (*out) : 0;
  *out = xrealloc (*out, old + b.len + 1);
  memcpy (*out + old, b.s ? b.s : "", b.len + 1);
  free (b.s);
  return 0;
}
