/* libcurl: the registry client (pull, push, login).
 * Loaded with dlopen on first use (see util/dl.h); the function names below are mapped onto the table. */
#ifndef NOOK_IMAGE_CURL_LIB_H
#define NOOK_IMAGE_CURL_LIB_H

#define CURL_DISABLE_TYPECHECK 1 /* curl_easy_setopt/getinfo stay plain functions we can table */
#include <curl/curl.h>
/* curl.h wraps these two in (identity or checking) macros; they become table entries below. */
#undef curl_easy_setopt
#undef curl_easy_getinfo

#include "util/error.h"

#define NOOK_CURL_FUNCS(X) \
  X (curl_easy_cleanup) \
  X (curl_easy_getinfo) \
  X (curl_easy_init) \
  X (curl_easy_perform) \
  X (curl_easy_reset) \
  X (curl_easy_setopt) \
  X (curl_easy_strerror) \
  X (curl_free) \
  X (curl_global_cleanup) \
  X (curl_global_init) \
  X (curl_multi_add_handle) \
  X (curl_multi_cleanup) \
  X (curl_multi_info_read) \
  X (curl_multi_init) \
  X (curl_multi_perform) \
  X (curl_multi_poll) \
  X (curl_multi_remove_handle) \
  X (curl_slist_append) \
  X (curl_slist_free_all) \
  X (curl_url) \
  X (curl_url_cleanup) \
  X (curl_url_get) \
  X (curl_url_set)

struct nook_curl_fns
{
#define NOOK_CURL_SLOT(f) __typeof__ (f) *f;
  NOOK_CURL_FUNCS (NOOK_CURL_SLOT)
#undef NOOK_CURL_SLOT
};

/* Load libcurl.so.4: 0, or -1 with ERR naming it and its Debian package (libcurl4). */
int nook_curl_load (nook_err *err);
/* The table; loads on first use, stops the process if the library is missing. */
const struct nook_curl_fns *nook_curl_fns (void);

#ifndef NOOK_CURL_LIB_IMPL
#define curl_easy_cleanup (nook_curl_fns ()->curl_easy_cleanup)
#define curl_easy_getinfo (nook_curl_fns ()->curl_easy_getinfo)
#define curl_easy_init (nook_curl_fns ()->curl_easy_init)
#define curl_easy_perform (nook_curl_fns ()->curl_easy_perform)
#define curl_easy_reset (nook_curl_fns ()->curl_easy_reset)
#define curl_easy_setopt (nook_curl_fns ()->curl_easy_setopt)
#define curl_easy_strerror (nook_curl_fns ()->curl_easy_strerror)
#define curl_free (nook_curl_fns ()->curl_free)
#define curl_global_cleanup (nook_curl_fns ()->curl_global_cleanup)
#define curl_global_init (nook_curl_fns ()->curl_global_init)
#define curl_multi_add_handle (nook_curl_fns ()->curl_multi_add_handle)
#define curl_multi_cleanup (nook_curl_fns ()->curl_multi_cleanup)
#define curl_multi_info_read (nook_curl_fns ()->curl_multi_info_read)
#define curl_multi_init (nook_curl_fns ()->curl_multi_init)
#define curl_multi_perform (nook_curl_fns ()->curl_multi_perform)
#define curl_multi_poll (nook_curl_fns ()->curl_multi_poll)
#define curl_multi_remove_handle (nook_curl_fns ()->curl_multi_remove_handle)
#define curl_slist_append (nook_curl_fns ()->curl_slist_append)
#define curl_slist_free_all (nook_curl_fns ()->curl_slist_free_all)
#define curl_url (nook_curl_fns ()->curl_url)
#define curl_url_cleanup (nook_curl_fns ()->curl_url_cleanup)
#define curl_url_get (nook_curl_fns ()->curl_url_get)
#define curl_url_set (nook_curl_fns ()->curl_url_set)
#endif

#endif
