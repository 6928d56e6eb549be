/* Minimal unit-test harness printing TAP: each test prints "ok - file: name", "not ok - file: name" (the
 * failed checks on the lines before it) or "ok - file: name # SKIP why" (a test that called SKIP_TEST);
 * tests/run counts those lines.  A test binary exits non-zero when any test failed. */
#ifndef NOOK_TEST_HARNESS_H
#define NOOK_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_failed_now;
static const char *harness_skip_why;
static int harness_passed, harness_failed;

#define CHECK(cond)                                                                                       \
  do                                                                                                      \
    {                                                                                                     \
      if (!(cond))                                                                                        \
        {                                                                                                 \
          printf ("    %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                          \
          harness_failed_now = 1;                                                                         \
        }                                                                                                 \
    }                                                                                                     \
  while (0)

#define CHECK_STR(a, b)                                                                                   \
  do                                                                                                      \
    {                                                                                                     \
      const char *_a = (a), *_b = (b);                                                                    \
      if (_a == NULL || _b == NULL || strcmp (_a, _b) != 0)                                               \
        {                                                                                                 \
          printf ("    %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, _a ? _a : "(null)",              \
                  _b ? _b : "(null)");                                                                    \
          harness_failed_now = 1;                                                                         \
        }                                                                                                 \
    }                                                                                                     \
  while (0)

#define RUN(fn)                                                                                           \
  do                                                                                                      \
    {                                                                                                     \
      harness_failed_now = 0;                                                                             \
      harness_skip_why = NULL;                                                                            \
      fn ();                                                                                              \
      if (harness_failed_now)                                                                             \
        {                                                                                                 \
          harness_failed++;                                                                               \
          printf ("not ok - %s: %s\n", __FILE__, #fn);                                                    \
        }                                                                                                 \
      else if (harness_skip_why)                                                                          \
        printf ("ok - %s: %s # SKIP %s\n", __FILE__, #fn, harness_skip_why);                              \
      else                                                                                                \
        {                                                                                                 \
          harness_passed++;                                                                               \
          printf ("ok - %s: %s\n", __FILE__, #fn);                                                        \
        }                                                                                                 \
      fflush (stdout);                                                                                    \
    }                                                                                                     \
  while (0)

/* Skip the rest of the current test (a void function), saying why. */
#define SKIP_TEST(why)                                                                                    \
  do                                                                                                      \
    {                                                                                                     \
      harness_skip_why = (why);                                                                           \
      return;                                                                                             \
    }                                                                                                     \
  while (0)

/* Skip a whole test file from main, saying why. */
#define SKIP_ALL(why)                                                                                     \
  do                                                                                                      \
    {                                                                                                     \
      printf ("ok - %s: all # SKIP %s\n", __FILE__, (why));                                               \
      return 0;                                                                                           \
    }                                                                                                     \
  while (0)

#define HARNESS_END() (harness_failed ? 1 : 0)

#endif
