/* libmnl: rtnetlink for the root bridge.
 * Loaded with dlopen on first use (see util/dl.h); the function names below are mapped onto the table. */
#ifndef NOOK_NET_MNL_LIB_H
#define NOOK_NET_MNL_LIB_H

#include <libmnl/libmnl.h>

#include "util/error.h"

#define NOOK_MNL_FUNCS(X) \
  X (mnl_attr_get_payload) \
  X (mnl_attr_get_payload_len) \
  X (mnl_attr_get_type) \
  X (mnl_attr_nest_end) \
  X (mnl_attr_nest_start) \
  X (mnl_attr_parse) \
  X (mnl_attr_put) \
  X (mnl_attr_put_strz) \
  X (mnl_attr_put_u32) \
  X (mnl_cb_run) \
  X (mnl_nlmsg_get_payload_tail) \
  X (mnl_nlmsg_put_extra_header) \
  X (mnl_nlmsg_put_header) \
  X (mnl_socket_bind) \
  X (mnl_socket_close) \
  X (mnl_socket_get_portid) \
  X (mnl_socket_open2) \
  X (mnl_socket_recvfrom) \
  X (mnl_socket_sendto)

struct nook_mnl_fns
{
#define NOOK_MNL_SLOT(f) __typeof__ (f) *f;
  NOOK_MNL_FUNCS (NOOK_MNL_SLOT)
#undef NOOK_MNL_SLOT
};

/* Load libmnl.so.0: 0, or -1 with ERR naming it and its Debian package (libmnl0). */
int nook_mnl_load (nook_err *err);
/* The table; loads on first use, stops the process if the library is missing. */
const struct nook_mnl_fns *nook_mnl_fns (void);

#ifndef NOOK_MNL_LIB_IMPL
#define mnl_attr_get_payload (nook_mnl_fns ()->mnl_attr_get_payload)
#define mnl_attr_get_payload_len (nook_mnl_fns ()->mnl_attr_get_payload_len)
#define mnl_attr_get_type (nook_mnl_fns ()->mnl_attr_get_type)
#define mnl_attr_nest_end (nook_mnl_fns ()->mnl_attr_nest_end)
#define mnl_attr_nest_start (nook_mnl_fns ()->mnl_attr_nest_start)
#define mnl_attr_parse (nook_mnl_fns ()->mnl_attr_parse)
#define mnl_attr_put (nook_mnl_fns ()->mnl_attr_put)
#define mnl_attr_put_strz (nook_mnl_fns ()->mnl_attr_put_strz)
#define mnl_attr_put_u32 (nook_mnl_fns ()->mnl_attr_put_u32)
#define mnl_cb_run (nook_mnl_fns ()->mnl_cb_run)
#define mnl_nlmsg_get_payload_tail (nook_mnl_fns ()->mnl_nlmsg_get_payload_tail)
#define mnl_nlmsg_put_extra_header (nook_mnl_fns ()->mnl_nlmsg_put_extra_header)
#define mnl_nlmsg_put_header (nook_mnl_fns ()->mnl_nlmsg_put_header)
#define mnl_socket_bind (nook_mnl_fns ()->mnl_socket_bind)
#define mnl_socket_close (nook_mnl_fns ()->mnl_socket_close)
#define mnl_socket_get_portid (nook_mnl_fns ()->mnl_socket_get_portid)
#define mnl_socket_open2 (nook_mnl_fns ()->mnl_socket_open2)
#define mnl_socket_recvfrom (nook_mnl_fns ()->mnl_socket_recvfrom)
#define mnl_socket_sendto (nook_mnl_fns ()->mnl_socket_sendto)
#endif

#endif
