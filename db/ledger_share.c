/* Stockroom — certificate share tokens: a licensee chooses to let others
 * see a certificate, which names them, by handing out a link. */
#include <stdio.h>
#include <string.h>

#include "ledgerint.h"

/* Kept apart from licences, whose rows are fixed by trigger: a share
 * token is the licensee's choice, not a figure of the sale. */
const char db_schema_licence_shares[] =
    "CREATE TABLE licence_shares ("
    "  licence_id TEXT PRIMARY KEY REFERENCES licences(id),"
    "  token TEXT NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL"
    ") STRICT, WITHOUT ROWID;";

int
ledger_licence_share(struct db *db, const char *licence_id,
                     const char *buyer_id, const char *token,
                     char out[LEDGER_SHARE_LEN], char err[DB_ERR_LEN])
{
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    int rc;

    if (ledger__bad_str(licence_id, LEDGER_ID_LEN) ||
        ledger__bad_str(buyer_id, LEDGER_ID_LEN) ||
        ledger__bad_str(token, LEDGER_SHARE_LEN))
        return ledger__invalid(err, "bad licence, buyer or token");
    c = db_conn_get(db);
    /* The first token stays: sharing twice gives the link already sent. */
    rc = db_prepare(c,
                    "INSERT INTO licence_shares (licence_id, token, created_at)"
                    " SELECT id, ?3, unixepoch() FROM licences"
                    " WHERE id = ?1 AND buyer_id = ?2"
                    " ON CONFLICT (licence_id) DO NOTHING",
                    &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, licence_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, buyer_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, token, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        rc = db_fail(c, rc, "licence share", err);
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    rc = db_prepare(c,
                    "SELECT s.token FROM licence_shares s"
                    " JOIN licences l ON l.id = s.licence_id"
                    " WHERE s.licence_id = ?1 AND l.buyer_id = ?2",
                    &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, licence_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, buyer_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        db_col_copy(st, 0, out, LEDGER_SHARE_LEN);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such licence of this buyer");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "licence share", err);
    }
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
ledger_licence_share_get(struct db *db, const char *licence_id,
                         char out[LEDGER_SHARE_LEN], char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(
        c, "SELECT token FROM licence_shares WHERE licence_id = ?1", &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, licence_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        db_col_copy(st, 0, out, LEDGER_SHARE_LEN);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "licence not shared");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "licence share", err);
    }
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}
