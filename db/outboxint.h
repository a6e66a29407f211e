/* Stockroom — queueing a message inside a transaction another db/ file has
 * open; shared by the db/ files that cause mail, nobody else. */
#ifndef STOCKROOM_OUTBOXINT_H
#define STOCKROOM_OUTBOXINT_H

#include <sqlite3.h>

#include "db.h"

/* Insert one queued message on connection c (inside the caller's
 * transaction). params NULL means "{}". */
int outbox__insert(sqlite3 *c, const char *kind, const char *user_id,
                   const char *to_addr, const char *params,
                   char err[DB_ERR_LEN]) DB_WUR;

#endif
