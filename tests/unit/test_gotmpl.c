/* Go text/template engine (format/gotmpl.h): parsing, execution, functions, podman tables. */
#include <jansson.h>
#include <string.h>

#include "harness.h"
#include "format/gotmpl.h"

/* A `podman inspect`-like container, as distrobox reads it. */
static const char *inspect_json
    = "{\"Id\":\"0123456789abcdef0123\",\"Name\":\"box\",\"Names\":[\"box\",\"alias\"],"
      "\"State\":{\"Status\":\"running\",\"Pid\":4242,\"Running\":true},"
      "\"Config\":{\"Image\":\"docker.io/library/debian:12\",\"Env\":[\"A=1\",\"B=x y\"],"
      "\"Labels\":{\"manager\":\"distrobox\",\"version\":\"1.8\"}},"
      "\"Mounts\":[{\"Source\":\"/home/u\",\"Destination\":\"/home/u\"},{\"Source\":\"/tmp\","
      "\"Destination\":\"/tmp\"}],"
      "\"Labels\":{\"b\":\"2\",\"a\":\"1\"},\"Size\":1.5,\"Count\":2.0,\"Null\":null,\"Empty\":[],"
      "\"Num\":7,\"Str\":\"hi\",\"Zero\":0,\"F\":false}";

/* Render; "ERR: message" on failure.  The caller frees. */
static char *
render (const char *tmpl, const char *json)
{
  json_error_t jerr;
  json_t *dot = json ? json_loads (json, JSON_DECODE_ANY, &jerr) : NULL;
  nook_err err = { 0 };
  char *out = NULL, *ret;
  if (nook_tmpl_render (tmpl, dot, &out, &err) < 0)
    {
      ret = malloc (strlen (err.msg) + 6);
      strcpy (ret, "ERR: ");
      strcat (ret, err.msg);
      free (out);
      out = ret;
    }
  json_decref (dot);
  return out;
}

static void
check_render (const char *tmpl, const char *json, const char *want, int line)
{
  char *got = render (tmpl, json);
  if (strcmp (got, want) != 0)
    {
      printf ("    line %d: %s\n      got  \"%s\"\n      want \"%s\"\n", line, tmpl, got, want);
      harness_failed_now = 1;
    }
  free (got);
}

static void
check_error (const char *tmpl, const char *json, const char *want_sub, int line)
{
  char *got = render (tmpl, json);
  if (strncmp (got, "ERR: ", 5) != 0 || strstr (got, want_sub) == NULL)
    {
      printf ("    line %d: %s\n      got  \"%s\"\n      want error with \"%s\"\n", line, tmpl, got, want_sub);
      harness_failed_now = 1;
    }
  free (got);
}

#define T(tmpl, want) check_render (tmpl, inspect_json, want, __LINE__)
#define TJ(tmpl, json, want) check_render (tmpl, json, want, __LINE__)
#define TE(tmpl, sub) check_error (tmpl, inspect_json, sub, __LINE__)

static void
test_text_and_fields (void)
{
  T ("", "");
  T ("plain text", "plain text");
  T ("{{.Name}}", "box");
  T ("{{.State.Status}}", "running");
  T ("{{.Config.Image}}", "docker.io/library/debian:12");
  T ("{{.Names}}", "[box alias]");
  T ("{{.Missing}}", "<no value>");
  T ("{{.Missing.Deeper}}", "<no value>");
  T ("{{.Null}}", "<no value>");
  T ("{{.State.Pid}} {{.Size}} {{.Count}} {{.State.Running}}", "4242 1.5 2 true");
  T ("{{.Labels}}", "map[a:1 b:2]");
  T ("{{.Empty}}", "[]");
  TJ ("{{.}}", "\"just a string\"", "just a string");
  TJ ("{{.}}", "[1,\"a\",null,true]", "[1 a <nil> true]");
  TJ ("{{.}}", NULL, "<no value>");
}

static void
test_trim_and_comments (void)
{
  T ("a  {{- .Name -}}  b", "aboxb");
  T ("a {{- .Name}} b", "abox b");
  T ("x\n  {{- /* a comment */ -}}\n  y", "xy");
  T ("{{/* only a comment */}}z", "z");
  T ("{{-3}}", "-3");
  T ("{{ .Name }}", "box");
  T ("{{\n.Name\n}}", "box");
}

static void
test_literals (void)
{
  T ("{{\"a\\tb\\n\\\"q\\\"\\u00e9\\x41\"}}", "a\tb\n\"q\"\xc3\xa9"
                                              "A");
  T ("{{`raw\\n`}}", "raw\\n");
  T ("{{42}} {{-7}} {{0x1F}} {{1.5}} {{2.0}} {{1e3}} {{'a'}}", "42 -7 31 1.5 2 1000 97");
  T ("{{true}} {{false}}", "true false");
  T ("{{print nil}}", "<nil>");
  T ("{{1000000.0}} {{0.0001}} {{0.00001}} {{123456.0}}", "1e+06 0.0001 1e-05 123456");
}

static void
test_variables (void)
{
  T ("{{$x := .Name}}{{$x}}", "box");
  T ("{{$x := 1}}{{$x = 2}}{{$x}}", "2");
  T ("{{range .Mounts}}{{$.Name}}:{{.Source}} {{end}}", "box:/home/u box:/tmp ");
  T ("{{$n := .State}}{{$n.Status}}", "running");
  T ("{{with $s := .State}}{{$s.Pid}}{{end}}", "4242");
  T ("{{$x := 1}}{{if true}}{{$x = 5}}{{end}}{{$x}}", "5");
}

static void
test_if_else (void)
{
  T ("{{if eq .State.Status \"running\"}}up{{else}}down{{end}}", "up");
  T ("{{if eq .State.Status \"exited\"}}up{{else}}down{{end}}", "down");
  T ("{{if .Missing}}a{{else if .Empty}}b{{else if .Num}}c{{else}}d{{end}}", "c");
  T ("{{if .Zero}}a{{end}}{{if .F}}b{{end}}{{if .Null}}c{{end}}{{if .Empty}}d{{end}}{{if \"\"}}e{{end}}", "");
  T ("{{if and .Num .Str}}{{and .Num .Str}}{{end}} {{or .Zero .Str}} {{or .Zero .F}}", "hi hi false");
  T ("{{if not .F}}yes{{end}}", "yes");
  T ("{{with .State}}{{.Status}}{{end}}", "running");
  T ("{{with .Missing}}x{{else}}none{{end}}", "none");
  T ("{{with .Missing}}x{{else with .State}}{{.Pid}}{{end}}", "4242");
}

static void
test_range (void)
{
  T ("{{ range .Mounts }}{{ .Source }}:{{ .Destination }} {{ end }}", "/home/u:/home/u /tmp:/tmp ");
  T ("{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}", "a=1;b=2;");
  T ("{{range $i, $e := .Names}}{{$i}}:{{$e}} {{end}}", "0:box 1:alias ");
  T ("{{range $e := .Config.Env}}[{{$e}}]{{end}}", "[A=1][B=x y]");
  T ("{{range .Empty}}x{{else}}empty{{end}}", "empty");
  T ("{{range .Null}}x{{else}}nil{{end}}", "nil");
  T ("{{range .Names}}{{if eq . \"alias\"}}{{break}}{{end}}{{.}}{{end}}", "box");
  T ("{{range .Names}}{{if eq . \"box\"}}{{continue}}{{end}}{{.}}{{end}}", "alias");
  T ("{{range .Config.Env}}{{.}}\n{{end}}", "A=1\nB=x y\n");
}

static void
test_define_template (void)
{
  T ("{{define \"m\"}}<{{.Source}}>{{end}}{{range .Mounts}}{{template \"m\" .}}{{end}}", "</home/u></tmp>");
  T ("{{block \"b\" .State}}{{.Status}}{{end}}", "running");
  T ("{{define \"x\"}}X{{end}}{{template \"x\"}}", "X");
  T ("{{define \"t\"}}{{$.Pid}}/{{.Status}}{{end}}{{template \"t\" .State}}", "4242/running");
}

static void
test_pipelines (void)
{
  T ("{{.Name | printf \"%s!\"}}", "box!");
  T ("{{.Name | upper | printf \"%q\"}}", "\"BOX\"");
  T ("{{(index .Names 1) | len}}", "5");
  T ("{{(.State).Status}}", "running");
  T ("{{len (print .Name .Str)}}", "5");
}

static void
test_functions (void)
{
  T ("{{index .Config.Labels \"manager\"}}", "distrobox");
  T ("{{index .Config.Labels \"nope\"}}", "");
  T ("{{index .Names 0}} {{index . \"Mounts\" 1 \"Source\"}}", "box /tmp");
  T ("{{json .Config.Env}}", "[\"A=1\",\"B=x y\"]");
  T ("{{json .State}}", "{\"Status\":\"running\",\"Pid\":4242,\"Running\":true}");
  T ("{{json .Size}} {{json .Null}} {{json .Name}}", "1.5 null \"box\"");
  T ("{{printf \"%q\" .Name}}", "\"box\"");
  T ("{{len .Names}} {{len .Name}} {{len .Labels}}", "2 3 2");
  T ("{{slice .Id 0 12}}", "0123456789ab");
  T ("{{slice .Id 18}} {{slice .Names 1}}", "23 [alias]");
  T ("{{eq .Num 7}} {{eq .Num 1 2 7}} {{ne .Str \"hi\"}} {{eq .Missing .Null}}", "true true false true");
  T ("{{lt 1 2}} {{le 2 2}} {{gt 1.5 2}} {{ge \"b\" \"a\"}} {{lt .Size 2}}", "true true false true true");
  T ("{{print 1 2 \"a\" \"b\" 3}}|{{println 1 \"a\"}}", "1 2ab3|1 a\n");
  T ("{{upper .Name}} {{lower \"ABC\"}} {{title \"hello big-world\"}}", "BOX abc Hello Big-World");
  T ("{{join .Names \", \"}}", "box, alias");
  T ("{{split \"a:b:c\" \":\"}} {{len (split \"a:b\" \":\")}}", "[a b c] 2");
  T ("{{truncate .Id 4}} {{truncate .Name 10}}", "0123 box");
  T ("[{{pad .Name 1 2}}]", "[ box  ]");
}

static void
test_printf (void)
{
  T ("{{printf \"%s|%d|%v|%t|%x|%X|%o\" .Name .Num .Names .F 255 255 8}}", "box|7|[box alias]|false|ff|FF|10");
  T ("{{printf \"%-10s|%10s|%5d|%-5d|%05d\" \"ab\" \"cd\" 42 42 -42}}", "ab        |        cd|   42|42   |-0042");
  T ("{{printf \"%.2f %f %e %g %.3s\" 3.14159 1.5 1234.5 0.5 \"abcdef\"}}", "3.14 1.500000 1.234500e+03 0.5 abc");
  T ("{{printf \"%q %q\" \"a\\\"b\\n\" 'x'}}", "\"a\\\"b\\n\" 'x'");
  /* widths and precisions past 1e6 are refused as Go's fmt does, never allocated (issue 15) */
  T ("{{printf \"%0999999999d\" 1}}", "%!(NOVERB)%!(EXTRA int=1)");
  T ("{{printf \"%.999999999d\" 1}}", "%!(NOVERB)%!(EXTRA int=1)");
  T ("{{printf \"%*d\" 99999999 1}}", "%!(BADWIDTH)1");
  T ("{{printf \"%*d\" -99999999 1}}", "%!(BADWIDTH)1");
  T ("{{printf \"%.*d\" -1 5}}", "%!(BADPREC)5");
  T ("{{printf \"%.*d\" 9999999 5}}", "%!(BADPREC)5");
  T ("{{printf \"%*d\" \"x\" 5}}", "%!(BADWIDTH)5");
  T ("{{printf \"%-*d|\" -3 5}}", "5  |");
  T ("{{printf \"%*d|\" 3 5}}", "  5|");
  T ("{{printf \"%d%%\" 50}}", "50%");
  T ("{{printf \"%s\" 5}} {{printf \"%d\"}} {{printf \"x\" 1}}", "%!s(int=5) %!d(MISSING) x%!(EXTRA int=1)");
  T ("{{printf \"%v %s\" .Missing .Labels}}", "<nil> map[a:1 b:2]");
  T ("{{printf \"%x\" \"hi\"}} {{printf \"%c\" 233}} {{printf \"%T\" .Names}}", "6869 \xc3\xa9 []interface {}");
  T ("{{printf \"%d\" .Count}} {{printf \"%5.1f|\" 2.25}}", "2   2.2|");
}

static void
test_parse_errors (void)
{
  TE ("{{.Name", "template: :1:0: unclosed action");
  TE ("{{foo}}", "template: :1:2: function \"foo\" not defined");
  TE ("x\n {{ bar 1 }}", "template: :2:4: function \"bar\" not defined");
  TE ("{{html \"x\"}}", "template: :1:2: function \"html\" not defined"); /* not a podman template function */
  TE ("{{if .Name}}x", "unexpected EOF");
  TE ("{{end}}", "unexpected {{end}}");
  TE ("{{else}}", "unexpected {{else}}");
  TE ("{{$nope}}", "undefined variable \"$nope\"");
  TE ("{{\"abc}}", "unterminated quoted string");
  TE ("{{/* x }}", "unclosed comment");
  TE ("{{}}", "missing value for command");
  TE ("{{break}}", "{{break}} outside {{range}}");
  TE ("{{(.Name}}", "unclosed left paren");
  TE ("{{.Name | 3}}", "non executable command in pipeline stage 2");
  TE ("{{range .Names}}{{end}}{{$x}}", "undefined variable");
  TE ("{{3x}}", "bad number syntax");
}

static void
test_exec_errors (void)
{
  TE ("{{.Name.Foo}}", "template: :1:2: executing \"\" at <.Name.Foo>: can't evaluate field Foo in type string");
  TE ("{{.Names.First}}", "can't evaluate field First in type []interface {}");
  TE ("{{index .Names 5}}", "executing \"\" at <index .Names 5>: error calling index: index out of range: 5");
  TE ("{{upper .Num}}", "error calling upper: wrong type for value; expected string; got int");
  TE ("{{eq .Num \"7\"}}", "incompatible types for comparison");
  TE ("{{lt true false}}", "invalid type for comparison");
  TE ("{{len .Num}}", "len of type int");
  TE ("{{slice .Name 2 1}}", "invalid slice index: 2 > 1");
  TE ("{{not}}", "wrong number of args for not: want 1 got 0");
  TE ("{{.Name 1}}", "Name is not a method but has arguments");
  TE ("{{\"x\" 1}}", "can't give argument to non-function \"x\"");
  TE ("{{nil}}", "nil is not a command");
  TE ("{{range .Name}}{{end}}", "range can't iterate over string");
  /* unbounded work or memory from a --format (issue 15): refused as podman's Go does */
  TE ("{{range 3}}{{.}}{{end}}", "range can't iterate over 3");
  TE ("{{range 0}}x{{else}}e{{end}}", "range can't iterate over 0");
  TE ("{{range 9223372036854775807}}x{{end}}", "range can't iterate over 9223372036854775807");
  TE ("{{template \"nope\"}}", "executing \"\" at <template \"nope\">: template \"nope\" not defined");
  TE ("{{.Name}", "bad character U+007D '}'");
  TE ("{{define \"r\"}}{{template \"r\"}}{{end}}{{template \"r\"}}", "exceeded maximum template depth");
}

static void
test_append_output (void)
{
  nook_err err = { 0 };
  char *out = strdup ("pre:");
  json_t *dot = json_pack ("{s:s}", "A", "x");
  CHECK (nook_tmpl_render ("{{.A}}", dot, &out, &err) == 0);
  CHECK_STR (out, "pre:x");
  CHECK (nook_tmpl_render ("{{.A.B}}", dot, &out, &err) < 0);
  CHECK_STR (out, "pre:x");
  free (out);
  json_decref (dot);
}

static void
test_table (void)
{
  const char *body = NULL;
  const char *over[] = { "ID", "CONTAINER ID", NULL };
  char *h;
  CHECK (nook_tmpl_is_table ("table {{.Repository}}\\t{{.Tag}}", &body));
  CHECK_STR (body, "{{.Repository}}\\t{{.Tag}}");
  CHECK (nook_tmpl_is_table ("table", &body) && body[0] == '\0');
  CHECK (!nook_tmpl_is_table ("{{.ID}}", &body));
  CHECK (!nook_tmpl_is_table ("tables", &body));
  h = nook_tmpl_header ("{{.ID}}\t{{.Names}}\t{{.CreatedAt}}\t{{.ImageID}}\t{{.State.Status}}");
  CHECK_STR (h, "ID\tNAMES\tCREATED AT\tIMAGE ID\tSTATUS");
  free (h);
  h = nook_tmpl_header ("{{.Repository}}\\t{{truncate .ID 12}} x {{if .A}}{{.RunningFor}}{{end}}");
  CHECK_STR (h, "REPOSITORY\\tID x RUNNING FOR");
  free (h);
  h = nook_tmpl_header_with ("{{.ID}}\t{{.Image}}", over);
  CHECK_STR (h, "CONTAINER ID\tIMAGE");
  free (h);
  CHECK (nook_tmpl_header ("{{.ID") == NULL);
  h = nook_tmpl_normalize ("table {{.A}}\\t{{.B}}\\n");
  CHECK_STR (h, "table {{.A}}\t{{.B}}\n");
  free (h);
}

/* The whole `nook images --format 'table {{.Repository}}\t{{.Tag}}'` flow, as a command runs it. */
static void
test_table_flow (void)
{
  const char *rows[] = { "{\"Repository\":\"docker.io/library/debian\",\"Tag\":\"12\"}",
                         "{\"Repository\":\"quay.io/x/y\",\"Tag\":\"latest\"}" };
  char *format = nook_tmpl_normalize ("table {{.Repository}}\\t{{.Tag}}");
  const char *body = NULL;
  char *text, *table;
  nook_err err = { 0 };
  CHECK (nook_tmpl_is_table (format, &body));
  text = nook_tmpl_header (body);
  CHECK (text != NULL);
  for (size_t i = 0; text && i < 2; i++)
    {
      json_t *row = json_loads (rows[i], 0, NULL);
      size_t len = strlen (text);
      text = realloc (text, len + 2);
      strcpy (text + len, "\n");
      CHECK (nook_tmpl_render (body, row, &text, &err) == 0);
      json_decref (row);
    }
  table = nook_tmpl_tabulate (text ? text : "");
  CHECK_STR (table, "REPOSITORY                TAG\n"
                    "docker.io/library/debian  12\n"
                    "quay.io/x/y               latest");
  free (table);
  free (text);
  free (format);
}

static void
test_tabulate (void)
{
  char *t = nook_tmpl_tabulate ("REPOSITORY\tTAG\tID\ndocker.io/library/debian\t12\tabc\nx\ty\tz\n");
  CHECK_STR (t, "REPOSITORY                TAG         ID\n"
                "docker.io/library/debian  12          abc\n"
                "x                         y           z\n");
  free (t);
  /* A line without tabs ends a column block; the last cell of a line is never padded. */
  t = nook_tmpl_tabulate ("a\tb\nplain\nlongercell-thirteen\tc\tddd\n");
  CHECK_STR (t, "a           b\nplain\nlongercell-thirteen  c           ddd\n");
  free (t);
  t = nook_tmpl_tabulate ("\xc3\xa9t\xc3\xa9\tx\n");
  CHECK_STR (t, "\xc3\xa9t\xc3\xa9         x\n");
  free (t);
  t = nook_tmpl_tabulate ("");
  CHECK_STR (t, "");
  free (t);
}

int
main (void)
{
  RUN (test_text_and_fields);
  RUN (test_trim_and_comments);
  RUN (test_literals);
  RUN (test_variables);
  RUN (test_if_else);
  RUN (test_range);
  RUN (test_define_template);
  RUN (test_pipelines);
  RUN (test_functions);
  RUN (test_printf);
  RUN (test_parse_errors);
  RUN (test_exec_errors);
  RUN (test_append_output);
  RUN (test_table);
  RUN (test_tabulate);
  RUN (test_table_flow);
  return HARNESS_END ();
}
