#ifndef CRM_CLIBPQ_SHIM_H
#define CRM_CLIBPQ_SHIM_H
#include <libpq-fe.h>

/// Discards server notices, which libpq would otherwise print on standard error.
static inline void crm_pq_ignore_notice(void *arg, const char *message) { (void)arg; (void)message; }

static inline void crm_pq_silence_notices(PGconn *conn) { PQsetNoticeProcessor(conn, crm_pq_ignore_notice, 0); }
#endif
