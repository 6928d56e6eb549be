/* Internals of the Go text/template engine (lib/format/gotmpl*.c); not a contract for other code. */
#ifndef NOOK_UTIL_GOTMPL_INT_H
#define NOOK_UTIL_GOTMPL_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* Growable output buffer; s is always NUL-terminated once anything was added. */
typedef struct gt_buf
{
  char *s;
  size_t len, cap;
} gt_buf;

void gt_buf_add (gt_buf *b, const char *s, size_t n);
void gt_buf_adds (gt_buf *b, const char *s);
void gt_buf_addc (gt_buf *b, char c);
void gt_buf_addf (gt_buf *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* The buffer's string (allocated, "" when empty); the buffer is reset. */
char *gt_buf_steal (gt_buf *b);

enum gt_type
{
  GT_LIST,
  GT_TEXT,
  GT_ACTION,
  GT_IF,
  GT_RANGE,
  GT_WITH,
  GT_TEMPLATE,
  GT_BREAK,
  GT_CONTINUE,
  GT_PIPE,
  GT_CMD,
  GT_FIELD, /* .A.B: idents */
  GT_VAR,   /* $x.A.B: text = "$x", idents */
  GT_CHAIN, /* (pipe).A.B: node, idents */
  GT_DOT,
  GT_NIL,
  GT_BOOL,   /* value */
  GT_NUMBER, /* value */
  GT_STRING, /* value */
  GT_IDENT,  /* function name in text */
  GT_ELSE,   /* parser markers only */
  GT_END,
};

typedef struct gt_node gt_node;
typedef struct gt_nodes
{
  gt_node **v;
  size_t n, cap;
} gt_nodes;

struct gt_node
{
  enum gt_type type;
  size_t pos, end; /* byte range in the source, for error messages */
  char *text;      /* TEXT (len bytes), IDENT, VAR and TEMPLATE names */
  size_t len;
  json_t *value; /* BOOL, NUMBER, STRING */
  char **idents; /* FIELD, VAR, CHAIN */
  size_t n_idents;
  gt_nodes kids; /* LIST items, PIPE commands, CMD arguments */
  char **decl;   /* PIPE: declared or assigned variables */
  size_t n_decl;
  bool assign;   /* PIPE: `=` rather than `:=` */
  gt_node *pipe; /* ACTION IF RANGE WITH TEMPLATE (may be NULL for TEMPLATE) */
  gt_node *list, *else_list;
  gt_node *node; /* CHAIN: the parenthesized pipe */
};

typedef struct gt_define
{
  char *name;
  gt_node *list;
} gt_define;

typedef struct gt_tree
{
  const char *src;
  gt_node *root;
  gt_nodes all; /* every node, owned here */
  gt_define *defs;
  size_t n_defs;
} gt_tree;

/* gotmpl_parse.c */
int gt_parse (const char *src, gt_tree *tree, nook_err *err);
void gt_tree_free (gt_tree *tree);
void gt_line_col (const char *src, size_t pos, size_t *line, size_t *col);

/* gotmpl_funcs.c: builtins.  ARGS are borrowed (NULL is nil); *OUT is a new reference or NULL. */
typedef int (*gt_fn) (json_t **args, size_t n, json_t **out, nook_err *err);
typedef struct gt_func
{
  const char *name;
  int min, max; /* argument count; max -1: variadic */
  gt_fn fn;     /* NULL for and/or: evaluated lazily by the executor */
} gt_func;
const gt_func *gt_func_lookup (const char *name);

/* gotmpl_fmt.c: Go's fmt over JSON values. */
bool gt_truth (json_t *v);
const char *gt_type_name (json_t *v);
void gt_fmt_value (gt_buf *b, json_t *v);                     /* %v; nil is "<nil>" */
void gt_fmt_float (gt_buf *b, double d);                      /* %v of a float64 */
void gt_fmt_quote (gt_buf *b, const char *s, size_t n);       /* strconv.Quote */
void gt_sprint (gt_buf *b, json_t **args, size_t n, bool ln); /* fmt.Sprint / Sprintln */
void gt_sprintf (gt_buf *b, const char *fmt, size_t flen, json_t **args, size_t n);
/* D holds an integer that fits a long long (no libm needed). */
static inline bool
gt_integral (double d)
{
  return d > -9e18 && d < 9e18 && d == (double)(long long)d;
}

/* Shortest digits that read back as D (D finite, > 0): digits without dot, decimal exponent of the
   first digit. */
void gt_shortest (double d, char *digits, size_t size, int *exp10);

#endif
