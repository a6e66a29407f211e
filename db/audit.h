/* Stockroom — the audit log: one append-only line per staff action (who,
 * what, on which object, why, when). The schema refuses UPDATE and DELETE
 * on it, as the ledger's does. */
#ifndef STOCKROOM_AUDIT_H
#define STOCKROOM_AUDIT_H

#include <stdint.h>

#include "db.h"

#define DB_AUDIT_ID_LEN 24
#define DB_AUDIT_SHORT 32
#define DB_AUDIT_REASON_MAX 1000 /* bytes of a reason kept */

struct db_audit_entry {
    int64_t seq; /* 1, 2, ... in the order written */
    int64_t at;  /* unix seconds */
    char actor_id[DB_AUDIT_ID_LEN];
    char action[DB_AUDIT_SHORT]; /* review_approve, takedown, ... */
    char object_type[DB_AUDIT_SHORT];
    char object_id[DB_AUDIT_ID_LEN];
    char *reason; /* heap, never NULL ("" when none) */
};

struct db_audit_list {
    struct db_audit_entry *items; /* heap; db_audit_list_release */
    int n;
    int64_t next_before; /* pass as before for the next page; 0 at the end */
};

/* Append one line in its own transaction, for actions whose own write
 * lives in another module (refunds, payouts, roles). DB_EINVAL for an
 * action the schema does not know. */
int db_audit_add(struct db *db, const char *actor_id, const char *action,
                 const char *object_type, const char *object_id,
                 const char *reason, char err[DB_ERR_LEN]) DB_WUR;

/* Newest first, lines with seq below before (0: from the newest), at most
 * limit (1..100), each filter applied when not NULL or "". The caller
 * releases *out with db_audit_list_release, also after an error. */
int db_audit_page(struct db *db, const char *action, const char *object_id,
                  const char *actor_id, int64_t before, int limit,
                  struct db_audit_list *out, char err[DB_ERR_LEN]) DB_WUR;

void db_audit_list_release(struct db_audit_list *l);

#endif
