/* podman's "table" formats: the table directive, header rows, and Go's tabwriter alignment. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "format/gotmpl.h"
#include "format/gotmpl_int.h"
#include "util/strutil.h"

#define TAB_MINWIDTH 12
#define TAB_PADDING 2

bool
nook_tmpl_is_table (const char *tmpl, const char **body)
{
  const char *p = tmpl;
  while (*p == ' ' || *p == '\t' || *p == '\n')
    p++;
  if (strncmp (p, "table", 5) != 0 || (p[5] != '\0' && !isspace ((unsigned char)p[5])))
    return false;
  p += 5;
  while (*p == ' ' || *p == '\t' || *p == '\n')
    p++;
  *body = p;
  return true;
}

char *
nook_tmpl_normalize (const char *format)
{
  gt_buf b = { 0 };
  gt_buf_add (&b, "", 0);
  for (const char *p = format; *p; p++)
    {
      if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n'))
        {
          gt_buf_addc (&b, p[1] == 't' ? '\t' : '\n');
          p++;
        }
      else
        gt_buf_addc (&b, *p);
    }
  return gt_buf_steal (&b);
}

/* ---- headers ---- */

enum cclass
{
  C_LOWER,
  C_UPPER,
  C_DIGIT,
  C_OTHER,
};

static enum cclass
cclass (char c)
{
  return islower ((unsigned char)c)   ? C_LOWER
         : isupper ((unsigned char)c) ? C_UPPER
         : isdigit ((unsigned char)c) ? C_DIGIT
                                      : C_OTHER;
}

/* fatih/camelcase.Split joined by spaces, upper-cased: "CreatedAt" -> "CREATED AT", "ImageID" ->
   "IMAGE ID".  Runs of one character class; an upper run followed by a lower run gives its last letter
   to the lower run. */
static void
camel_header (gt_buf *b, const char *name)
{
  size_t n = strlen (name), starts[256], count = 0;
  for (size_t i = 0; i < n && count < 255; i++)
    if (i == 0 || cclass (name[i]) != cclass (name[i - 1]))
      starts[count++] = i;
  starts[count] = n;
  for (size_t r = 0; r + 1 < count; r++)
    if (cclass (name[starts[r]]) == C_UPPER && cclass (name[starts[r + 1]]) == C_LOWER)
      starts[r + 1]--;
  for (size_t r = 0, words = 0; r < count; r++)
    {
      if (starts[r + 1] <= starts[r])
        continue;
      if (words++)
        gt_buf_addc (b, ' ');
      for (size_t i = starts[r]; i < starts[r + 1]; i++)
        gt_buf_addc (b, toupper ((unsigned char)name[i]));
    }
}

/* The last field name of the first field, variable path or chain in a pipeline. */
static const char *
first_field (gt_node *n)
{
  const char *f;
  switch (n->type)
    {
    case GT_FIELD:
    case GT_VAR:
    case GT_CHAIN:
      if (n->n_idents > 0)
        return n->idents[n->n_idents - 1];
      return n->type == GT_CHAIN ? first_field (n->node) : NULL;
    case GT_PIPE:
    case GT_CMD:
      for (size_t i = 0; i < n->kids.n; i++)
        if ((f = first_field (n->kids.v[i])) != NULL)
          return f;
      return NULL;
    default:
      return NULL;
    }
}

static void
header_list (gt_buf *b, gt_node *list, const char *const *overrides)
{
  for (size_t i = 0; i < list->kids.n; i++)
    {
      gt_node *n = list->kids.v[i];
      const char *field;
      const char *const *o;
      if (n->type == GT_TEXT)
        gt_buf_add (b, n->text, n->len);
      else if (n->type == GT_IF || n->type == GT_WITH || n->type == GT_RANGE)
        header_list (b, n->list, overrides);
      if (n->type != GT_ACTION || n->pipe->n_decl > 0 || (field = first_field (n->pipe)) == NULL)
        continue;
      for (o = overrides; o && o[0] && o[1]; o += 2)
        if (strcmp (o[0], field) == 0)
          break;
      if (o && o[0] && o[1])
        gt_buf_adds (b, o[1]);
      else
        camel_header (b, field);
    }
}

char *
nook_tmpl_header_with (const char *body, const char *const *overrides)
{
  gt_tree tree;
  gt_buf b = { 0 };
  nook_err err;
  if (gt_parse (body, &tree, &err) < 0)
    return NULL;
  gt_buf_add (&b, "", 0);
  header_list (&b, tree.root, overrides);
  gt_tree_free (&tree);
  return gt_buf_steal (&b);
}

char *
nook_tmpl_header (const char *body)
{
  return nook_tmpl_header_with (body, NULL);
}

/* ---- tabwriter ---- */

typedef struct cell
{
  const char *s;
  size_t len, width;
} cell;

typedef struct line
{
  cell *cells;
  size_t n;
} line;

typedef struct tabw
{
  line *lines;
  size_t n_lines;
  size_t widths[256];
  size_t n_widths;
  gt_buf out;
} tabw;

static size_t
runes (const char *s, size_t n)
{
  size_t c = 0;
  for (size_t i = 0; i < n; i++)
    c += ((unsigned char)s[i] & 0xc0) != 0x80;
  return c;
}

static void
split_cells (line *l, const char *s, size_t n)
{
  size_t start = 0;
  for (size_t i = 0; i <= n; i++)
    if (i == n || s[i] == '\t')
      {
        l->cells = xrealloc (l->cells, (l->n + 1) * sizeof (cell));
        l->cells[l->n++] = (cell){ s + start, i - start, runes (s + start, i - start) };
        start = i + 1;
      }
}

static void
write_lines (tabw *w, size_t line0, size_t line1)
{
  for (size_t i = line0; i < line1; i++)
    {
      line *l = &w->lines[i];
      for (size_t j = 0; j < l->n; j++)
        {
          gt_buf_add (&w->out, l->cells[j].s, l->cells[j].len);
          for (size_t k = l->cells[j].width; j < w->n_widths && k < w->widths[j]; k++)
            gt_buf_addc (&w->out, ' ');
        }
      if (i + 1 < w->n_lines)
        gt_buf_addc (&w->out, '\n');
    }
}

/* Go's tabwriter format(): a column block is the run of consecutive lines having a cell (tab-terminated)
   in the current column; its width is the widest cell plus padding, at least the minimum width. */
static void
format (tabw *w, size_t line0, size_t line1)
{
  size_t column = w->n_widths;
  for (size_t this = line0; this < line1; this ++)
    {
      size_t width = TAB_MINWIDTH;
      if (column + 1 >= w->lines[this].n)
        continue;
      write_lines (w, line0, this);
      line0 = this;
      for (; this < line1 && column + 1 < w->lines[this].n; this ++)
        if (w->lines[this].cells[column].width + TAB_PADDING > width)
          width = w->lines[this].cells[column].width + TAB_PADDING;
      if (w->n_widths < sizeof (w->widths) / sizeof (w->widths[0]))
        {
          w->widths[w->n_widths++] = width;
          format (w, line0, this);
          w->n_widths--;
        }
      else
        write_lines (w, line0, this);
      line0 = this;
      if (this == line1)
        return;
    }
  write_lines (w, line0, line1);
}

char *
nook_tmpl_tabulate (const char *text)
{
  tabw w = { 0 };
  size_t start = 0, n = strlen (text);
  for (size_t i = 0; i <= n; i++)
    if (i == n || text[i] == '\n')
      {
        w.lines = xrealloc (w.lines, (w.n_lines + 1) * sizeof (line));
        w.lines[w.n_lines] = (line){ NULL, 0 };
        split_cells (&w.lines[w.n_lines++], text + start, i - start);
        start = i + 1;
      }
  gt_buf_add (&w.out, "", 0);
  format (&w, 0, w.n_lines);
  for (size_t i = 0; i < w.n_lines; i++)
    free (w.lines[i].cells);
  free (w.lines);
  return gt_buf_steal (&w.out);
}
