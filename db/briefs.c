/* Stockroom — briefs apart from their money: reading and finding them,
 * editing, submissions, the shortlist, comments and a contributor's wins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "briefint.h"
#include "ledgerint.h"

static const char *const status_names[DB_BRIEF_N] = {
    "open", "cancelled", "awarded", "closed", "expired", "abandoned",
};

const char *
db_brief_status_str(enum db_brief_status s)
{
    return (unsigned)s < DB_BRIEF_N ? status_names[s] : NULL;
}

int
db__brief_status_parse(const char *s, enum db_brief_status *out)
{
    for (int i = 0; s && i < DB_BRIEF_N; i++) {
        if (strcmp(s, status_names[i]) == 0) {
            *out = (enum db_brief_status)i;
            return DB_OK;
        }
    }
    return DB_EINVAL;
}

void
db_brief_release(struct db_brief *b)
{
    if (!b)
        return;
    free(b->title);
    free(b->description);
    free(b->keywords);
    free(b->close_reason);
    memset(b, 0, sizeof *b);
}

void
db_brief_list_release(struct db_brief_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        db_brief_release(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void
db_brief_sub_list_release(struct db_brief_sub_list *l)
{
    if (!l)
        return;
    free(l->items);
    memset(l, 0, sizeof *l);
}

void
db_brief_comment_list_release(struct db_brief_comment_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].text);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void
db_brief_win_list_release(struct db_brief_win_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].title);
    free(l->items);
    memset(l, 0, sizeof *l);
}

char *
db__brief_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);

    return strdup(s ? (const char *)s : "");
}

int
db__brief_row(sqlite3_stmt *st, struct db_brief *b, char err[DB_ERR_LEN])
{
    memset(b, 0, sizeof *b);
    db_col_copy(st, 0, b->id, sizeof b->id);
    db_col_copy(st, 1, b->buyer_id, sizeof b->buyer_id);
    b->title = db__brief_dup(st, 2);
    b->description = db__brief_dup(st, 3);
    b->keywords = db__brief_dup(st, 4);
    db_col_copy(st, 5, b->orientation, sizeof b->orientation);
    b->min_pixels = sqlite3_column_int64(st, 6);
    b->deadline = sqlite3_column_int64(st, 7);
    b->bounty_credits = sqlite3_column_int64(st, 8);
    b->winners = sqlite3_column_int(st, 9);
    db_col_copy(st, 10, b->licence_type, sizeof b->licence_type);
    b->royalty_bp = sqlite3_column_int(st, 11);
    if (db__brief_status_parse((const char *)sqlite3_column_text(st, 12),
                               &b->status) != DB_OK)
        b->status = DB_BRIEF_OPEN;
    b->close_reason = db__brief_dup(st, 13);
    b->created_at = sqlite3_column_int64(st, 14);
    b->closed_at = sqlite3_column_int64(st, 15);
    b->escrow_credits = sqlite3_column_int64(st, 16);
    b->submissions = sqlite3_column_int64(st, 17);
    b->record.awarded = sqlite3_column_int64(st, 18);
    b->record.closed = sqlite3_column_int64(st, 19);
    b->record.expired = sqlite3_column_int64(st, 20);
    b->record.abandoned = sqlite3_column_int64(st, 21);
    if (!b->title || !b->description || !b->keywords || !b->close_reason) {
        db_brief_release(b);
        snprintf(err, DB_ERR_LEN, "out of memory");
        return DB_EGENERIC;
    }
    return DB_OK;
}

int
db__brief_load(sqlite3 *c, const char *id, struct db_brief *out,
               char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(
        c, "SELECT " DB__BRIEF_COLS " FROM briefs b WHERE b.id = ?1", &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = db__brief_row(st, out, err);
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such brief");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "brief", err);
    }
    sqlite3_finalize(st);
    return rc;
}

int
db__brief_counts(sqlite3 *c, const char *id, int64_t *live, int64_t *counted,
                 char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "SELECT count(*) FILTER (WHERE " DB__BRIEF_LIVE "), "
                        "count(*) FILTER (WHERE " DB__BRIEF_COUNTED ") "
                        "FROM brief_submissions s JOIN images i ON i.id = "
                        "s.image_id WHERE s.brief_id = ?1",
                        &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *live = sqlite3_column_int64(st, 0);
        *counted = sqlite3_column_int64(st, 1);
        rc = DB_OK;
    } else {
        rc = db_fail(c, rc, "submission counts", err);
    }
    sqlite3_finalize(st);
    return rc;
}

int
db_brief_get(struct db *db, const char *id, struct db_brief *out,
             char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    int rc = db__brief_load(c, id, out, err);

    db_conn_put(db, c);
    return rc;
}

/* Every row of st into a list of briefs. */
static int
brief_rows(sqlite3 *c, sqlite3_stmt *st, struct db_brief_list *out,
           char err[DB_ERR_LEN])
{
    struct db_brief_list l = {0};
    size_t cap = 0;
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_brief *g =
            ledger__grow(l.items, &cap, l.n, sizeof *l.items, err);

        if (!g) {
            rc = DB_EGENERIC;
            goto out;
        }
        l.items = g;
        rc = db__brief_row(st, &l.items[l.n], err);
        if (rc != DB_OK)
            goto out;
        l.n++;
    }
    if (rc != SQLITE_DONE) {
        rc = db_fail(c, rc, "briefs", err);
        goto out;
    }
    *out = l;
    memset(&l, 0, sizeof l);
    rc = DB_OK;
out:
    db_brief_list_release(&l);
    return rc;
}

int
db_brief_search(struct db *db, const struct db_brief_query *q,
                struct db_brief_list *out, char err[DB_ERR_LEN])
{
    /* One text per sort order: nothing built from input. */
#define SEARCH(order)                                                          \
    "SELECT " DB__BRIEF_COLS " FROM briefs b WHERE b.status = 'open' "         \
    "AND b.deadline > ?1 AND (?2 = '' OR instr(lower(b.title || ' ' || "       \
    "b.description || ' ' || b.keywords), lower(?2)) > 0) AND (?3 = '' OR "    \
    "instr(',' || b.keywords || ',', ',' || lower(?3) || ',') > 0) "           \
    "ORDER BY " order " LIMIT ?4 OFFSET ?5"
    static const char *const sqls[3][2] = {
        {"newest", SEARCH("b.created_at DESC, b.id")},
        {"bounty", SEARCH("b.bounty_credits DESC, b.created_at DESC, b.id")},
        {"deadline", SEARCH("b.deadline, b.id")},
    };
#undef SEARCH
    const char *sql = sqls[0][1];
    sqlite3 *c;
    sqlite3_stmt *st = NULL;
    int rc;

    for (int i = 0; q->sort && *q->sort && i < 3; i++) {
        sql = NULL;
        if (strcmp(q->sort, sqls[i][0]) == 0) {
            sql = sqls[i][1];
            break;
        }
    }
    if (!sql)
        return ledger__invalid(err, "sort is newest, bounty or deadline");
    c = db_conn_get(db);
    rc = db_prepare(c, sql, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_int64(st, 1, q->now);
    sqlite3_bind_text(st, 2, q->q ? q->q : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, q->keyword ? q->keyword : "", -1, SQLITE_STATIC);
    /* One more than asked: whether there is a next page. */
    sqlite3_bind_int64(st, 4, (int64_t)q->limit + 1);
    sqlite3_bind_int64(st, 5, q->offset);
    rc = brief_rows(c, st, out, err);
    if (rc == DB_OK && out->n > q->limit) {
        db_brief_release(&out->items[--out->n]);
        out->next_offset = q->offset + (int64_t)q->limit;
    }
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
db_brief_mine(struct db *db, const char *buyer_id, size_t limit,
              struct db_brief_list *out, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "SELECT " DB__BRIEF_COLS " FROM briefs b WHERE "
                        "b.buyer_id = ?1 ORDER BY b.created_at DESC, b.id "
                        "LIMIT ?2",
                        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, buyer_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)limit);
    rc = brief_rows(c, st, out, err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
db__brief_refuse(enum db_brief_why *why, enum db_brief_why w, int rc,
                 char err[DB_ERR_LEN], const char *msg)
{
    *why = w;
    snprintf(err, DB_ERR_LEN, "%s", msg);
    return rc;
}

/* In a transaction: load brief id for its buyer (DB_ENOTFOUND for anyone
 * else) and insist it is open. */
int
db__brief_own_open(sqlite3 *c, const char *id, const char *buyer_id,
                   struct db_brief *b, enum db_brief_why *why,
                   char err[DB_ERR_LEN])
{
    int rc = db__brief_load(c, id, b, err);

    if (rc == DB_OK && buyer_id && strcmp(b->buyer_id, buyer_id) != 0) {
        snprintf(err, DB_ERR_LEN, "no such brief");
        rc = DB_ENOTFOUND;
    }
    if (rc == DB_OK && b->status != DB_BRIEF_OPEN)
        rc = db__brief_refuse(why, DB_BRIEF_WHY_NOT_OPEN, DB_ECONFLICT, err,
                              "This brief is no longer open.");
    return rc;
}

/* Run sql (no rows) with up to four text parameters (NULL binds NULL). */
int
db__brief_run4(sqlite3 *c, const char *sql, const char *a, const char *b,
               const char *d, const char *e, const char *what,
               char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    const char *v[4] = {a, b, d, e};
    int rc = db_prepare(c, sql, &st, err);

    if (rc != DB_OK)
        return rc;
    for (int i = 0; i < 4; i++) {
        if (v[i])
            sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
    }
    rc = db_step_change(c, st, what, err);
    sqlite3_finalize(st);
    return rc;
}

int
db_brief_edit(struct db *db, const char *id, const char *buyer_id,
              const char *title, const char *description, const char *keywords,
              enum db_brief_why *why, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    struct db_brief b = {0};
    int64_t live = 0, counted = 0;
    int rc = db_begin(c, err);

    *why = DB_BRIEF_WHY_NONE;
    if (rc != DB_OK)
        goto out;
    rc = db__brief_own_open(c, id, buyer_id, &b, why, err);
    if (rc == DB_OK)
        rc = db__brief_counts(c, id, &live, &counted, err);
    if (rc != DB_OK)
        goto out;
    if (live > 0) {
        rc = db__brief_refuse(
            why, DB_BRIEF_WHY_HAS_SUBMISSIONS, DB_ELIMIT, err,
            "A brief cannot be edited once it has submissions.");
        goto out;
    }
    rc = db__brief_run4(
        c,
        "UPDATE briefs SET title = coalesce(?2, title), description = "
        "coalesce(?3, description), keywords = coalesce(?4, keywords) "
        "WHERE id = ?1",
        id, title, description, keywords, "brief", err);
    if (rc == DB_OK)
        rc = db_commit(c, err);
out:
    db_brief_release(&b);
    db_rollback(c);
    db_conn_put(db, c);
    return rc;
}
