/* Minimal unit-test harness.  Each test prints "PASS: file: name" or "FAIL: file: name: why";
 * tests/run counts those lines.  A test binary exits non-zero when any test failed. */
#ifndef NOOK_TEST_HARNESS_H
#define NOOK_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_failed_now;
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
      fn ();                                                                                              \
      if (harness_failed_now)                                                                             \
        {                                                                                                 \
          harness_failed++;                                                                               \
          printf ("FAIL: %s: %s\n", __FILE__, #fn);                                                       \
        }                                                                                                 \
      else                                                                                                \
        {                                                                                                 \
          harness_passed++;                                                                               \
          printf ("PASS: %s: %s\n", __FILE__, #fn);                                                       \
        }                                                                                                 \
      fflush (stdout);                                                                                    \
    }                                                                                                     \
  while (0)

#define HARNESS_END() (harness_failed ? 1 : 0)

#endif
