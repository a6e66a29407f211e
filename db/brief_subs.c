/* Stockroom — answers to briefs: submissions, the buyer's shortlist and
 * comments, and a contributor's wins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "briefint.h"
#include "ledgerint.h"

/* Whether a w x h photo fits the brief's orientation and pixels; the
 * orientation rule is the search filter's (square within 2 %). */
static int
fits(const struct db_brief *b, int64_t w, int64_t h)
{
    if (b->min_pixels > 0 && w * h < b->min_pixels)
        return 0;
    if (strcmp(b->orientation, "landscape") == 0)
        return w > h && (w - h) * 50 > w;
    if (strcmp(b->orientation, "portrait") == 0)
        return h > w && (h - w) * 50 > h;
    if (strcmp(b->orientation, "square") == 0)
        return (w > h ? w - h : h - w) * 50 <= (w > h ? w : h);
    return 1;
}

#define SQL_SUB_COLS                                                           \
    "SELECT s.id, s.brief_id, s.image_id, s.contributor_id, i.status, "        \
    "i.width, i.height, s.shortlisted, s.created_at, "                         \
    "coalesce(a.licence_id, ''), coalesce(a.share_credits, 0) "                \
    "FROM brief_submissions s JOIN images i ON i.id = s.image_id "             \
    "LEFT JOIN brief_awards a ON a.submission_id = s.id "

static void
sub_row(sqlite3_stmt *st, struct db_brief_sub *s)
{
    memset(s, 0, sizeof *s);
    db_col_copy(st, 0, s->id, sizeof s->id);
    db_col_copy(st, 1, s->brief_id, sizeof s->brief_id);
    db_col_copy(st, 2, s->image_id, sizeof s->image_id);
    db_col_copy(st, 3, s->contributor_id, sizeof s->contributor_id);
    db_col_copy(st, 4, s->image_status, sizeof s->image_status);
    s->width = sqlite3_column_int(st, 5);
    s->height = sqlite3_column_int(st, 6);
    s->shortlisted = sqlite3_column_int(st, 7);
    s->created_at = sqlite3_column_int64(st, 8);
    db_col_copy(st, 9, s->licence_id, sizeof s->licence_id);
    s->share_credits = sqlite3_column_int64(st, 10);
}

/* In a transaction: the checks of a submission, then the row. */
static int
submit_tx(sqlite3 *c, const struct db_brief *b, const char *contributor_id,
          const char *image_id, int64_t now, struct db_brief_sub *out,
          enum db_brief_why *why, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    char owner[BRIEF_ID_LEN], status[20], id[LEDGER_ID_LEN];
    int64_t w = 0, h = 0, mine = 0;
    int rc;

    if (strcmp(b->buyer_id, contributor_id) == 0)
        return db__brief_refuse(why, DB_BRIEF_WHY_OWN_BRIEF, DB_EINVAL, err,
                                "You cannot answer your own brief.");
    if (now >= b->deadline)
        return db__brief_refuse(why, DB_BRIEF_WHY_DEADLINE_PASSED, DB_ELIMIT,
                                err, "The deadline of this brief has passed.");
    rc = db_prepare(c,
                    "SELECT contributor_id, status, width, height FROM images "
                    "WHERE id = ?1",
                    &st, err);
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, image_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        db_col_copy(st, 0, owner, sizeof owner);
        db_col_copy(st, 1, status, sizeof status);
        w = sqlite3_column_int64(st, 2);
        h = sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(c, rc, "image", err);
    /* Someone else's photo is, to this contributor, not there at all. */
    if (rc == SQLITE_DONE || strcmp(owner, contributor_id) != 0)
        return db__brief_refuse(why, DB_BRIEF_WHY_NOT_YOUR_IMAGE, DB_EINVAL,
                                err, "Submit one of your own photos.");
    if (strcmp(status, "approved") && strcmp(status, "pending_review") &&
        strcmp(status, "processing"))
        return db__brief_refuse(
            why, DB_BRIEF_WHY_IMAGE_NOT_ELIGIBLE, DB_EINVAL, err,
            "Only photos approved or waiting for review can be "
            "submitted.");
    if (!fits(b, w, h))
        return db__brief_refuse(
            why, DB_BRIEF_WHY_DOES_NOT_FIT, DB_EINVAL, err,
            "This photo does not meet the brief's orientation or "
            "size.");
    rc = db_prepare(c,
                    "SELECT count(*) FROM brief_submissions s JOIN images i "
                    "ON i.id = s.image_id WHERE s.brief_id = ?1 AND "
                    "s.contributor_id = ?2 AND " DB__BRIEF_LIVE,
                    &st, err);
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, b->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, contributor_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        mine = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return db_fail(c, rc, "submission count", err);
    if (mine >= BRIEF_PER_CONTRIB)
        return db__brief_refuse(
            why, DB_BRIEF_WHY_TOO_MANY, DB_ELIMIT, err,
            "You have sent this brief as many photos as allowed.");
    ledger__new_id('s', id);
    rc = db_prepare(c,
                    "INSERT INTO brief_submissions(id, brief_id, image_id, "
                    "contributor_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5) "
                    "ON CONFLICT(brief_id, image_id) DO NOTHING",
                    &st, err);
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, image_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, contributor_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    rc = db_step_change(c, st, "submission", err);
    sqlite3_finalize(st);
    if (rc == DB_ENOTFOUND)
        return db__brief_refuse(
            why, DB_BRIEF_WHY_ALREADY_SUBMITTED, DB_ECONFLICT, err,
            "This photo is already submitted to this brief.");
    if (rc != DB_OK)
        return rc;
    rc = db_prepare(c, SQL_SUB_COLS "WHERE s.id = ?1", &st, err);
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        sub_row(st, out);
        rc = DB_OK;
    } else {
        rc = db_fail(c, rc, "submission", err);
    }
    sqlite3_finalize(st);
    return rc;
}

int
db_brief_submit(struct db *db, const char *brief_id, const char *contributor_id,
                const char *image_id, int64_t now, struct db_brief_sub *out,
                enum db_brief_why *why, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    struct db_brief b = {0};
    int rc = db_begin(c, err);

    *why = DB_BRIEF_WHY_NONE;
    if (rc != DB_OK)
        goto out;
    rc = db__brief_own_open(c, brief_id, NULL, &b, why, err);
    if (rc == DB_OK)
        rc = submit_tx(c, &b, contributor_id, image_id, now, out, why, err);
    if (rc == DB_OK)
        rc = db_commit(c, err);
out:
    db_brief_release(&b);
    db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

int
db_brief_subs(struct db *db, const char *brief_id, const char *contributor_id,
              struct db_brief_sub_list *out, char err[DB_ERR_LEN])
{
    /* The buyer sees the counted ones, a contributor their live ones;
     * both keep seeing a winner whatever became of its photo. */
    static const char sql_all[] = SQL_SUB_COLS
        "WHERE s.brief_id = ?1 AND ((?2 IS NULL AND "
        "(" DB__BRIEF_COUNTED " OR a.licence_id IS NOT NULL)) OR "
        "(s.contributor_id = ?2 AND (" DB__BRIEF_LIVE " OR a.licence_id IS "
        "NOT NULL))) ORDER BY s.created_at, s.id";
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    struct db_brief_sub_list l = {0};
    size_t cap = 0;
    int rc = db_prepare(c, sql_all, &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, brief_id, -1, SQLITE_STATIC);
    if (contributor_id)
        sqlite3_bind_text(st, 2, contributor_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_brief_sub *g =
            ledger__grow(l.items, &cap, l.n, sizeof *l.items, err);

        if (!g) {
            rc = DB_EGENERIC;
            goto out;
        }
        l.items = g;
        sub_row(st, &l.items[l.n++]);
    }
    if (rc != SQLITE_DONE) {
        rc = db_fail(c, rc, "submissions", err);
        goto out;
    }
    *out = l;
    memset(&l, 0, sizeof l);
    rc = DB_OK;
out:
    db_brief_sub_list_release(&l);
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

/* In a transaction: the buyer's feedback on a counted submission of their
 * open brief before its deadline. */
static int
feedback_check(sqlite3 *c, const char *brief_id, const char *buyer_id,
               const char *sub_id, int64_t now, enum db_brief_why *why,
               char err[DB_ERR_LEN])
{
    struct db_brief b = {0};
    sqlite3_stmt *st = NULL;
    int rc = db__brief_own_open(c, brief_id, buyer_id, &b, why, err);

    if (rc == DB_OK && now >= b.deadline)
        rc = db__brief_refuse(why, DB_BRIEF_WHY_DEADLINE_PASSED, DB_ELIMIT, err,
                              "Feedback closes at the deadline.");
    db_brief_release(&b);
    if (rc != DB_OK)
        return rc;
    rc = db_prepare(c,
                    "SELECT 1 FROM brief_submissions s JOIN images i ON i.id "
                    "= s.image_id WHERE s.id = ?1 AND s.brief_id = ?2 "
                    "AND " DB__BRIEF_COUNTED,
                    &st, err);
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, sub_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, brief_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return DB_OK;
    if (rc != SQLITE_DONE)
        return db_fail(c, rc, "submission", err);
    snprintf(err, DB_ERR_LEN, "no such submission");
    return DB_ENOTFOUND;
}

int
db_brief_shortlist(struct db *db, const char *brief_id, const char *buyer_id,
                   const char *sub_id, int on, int64_t now,
                   enum db_brief_why *why, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    int rc = db_begin(c, err);

    *why = DB_BRIEF_WHY_NONE;
    if (rc != DB_OK)
        goto out;
    rc = feedback_check(c, brief_id, buyer_id, sub_id, now, why, err);
    if (rc == DB_OK)
        rc = db__brief_run4(c,
                            on ? "UPDATE brief_submissions SET shortlisted = 1 "
                                 "WHERE id = ?1"
                               : "UPDATE brief_submissions SET shortlisted = 0 "
                                 "WHERE id = ?1",
                            sub_id, NULL, NULL, NULL, "submission", err);
    if (rc == DB_OK)
        rc = db_commit(c, err);
out:
    db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

int
db_brief_comment(struct db *db, const char *brief_id, const char *buyer_id,
                 const char *sub_id, const char *text, int64_t now,
                 enum db_brief_why *why, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_begin(c, err);

    *why = DB_BRIEF_WHY_NONE;
    if (rc != DB_OK)
        goto out;
    rc = feedback_check(c, brief_id, buyer_id, sub_id, now, why, err);
    if (rc != DB_OK)
        goto out;
    rc = db_prepare(c,
                    "INSERT INTO brief_comments(submission_id, text, "
                    "created_at) VALUES (?1, ?2, ?3)",
                    &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, sub_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    rc = ledger__step_done(c, st, "comment insert", err);
    if (rc == DB_OK)
        rc = db_commit(c, err);
out:
    sqlite3_finalize(st);
    db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

int
db_brief_comments(struct db *db, const char *brief_id,
                  const char *contributor_id, struct db_brief_comment_list *out,
                  char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    struct db_brief_comment_list l = {0};
    size_t cap = 0;
    int rc = db_prepare(c,
                        "SELECT k.submission_id, k.text, k.created_at FROM "
                        "brief_comments k JOIN brief_submissions s ON s.id = "
                        "k.submission_id WHERE s.brief_id = ?1 AND (?2 IS "
                        "NULL OR s.contributor_id = ?2) ORDER BY k.id",
                        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, brief_id, -1, SQLITE_STATIC);
    if (contributor_id)
        sqlite3_bind_text(st, 2, contributor_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_brief_comment *g =
            ledger__grow(l.items, &cap, l.n, sizeof *l.items, err);

        if (!g) {
            rc = DB_EGENERIC;
            goto out;
        }
        l.items = g;
        db_col_copy(st, 0, l.items[l.n].submission_id, BRIEF_ID_LEN);
        l.items[l.n].created_at = sqlite3_column_int64(st, 2);
        l.items[l.n].text = db__brief_dup(st, 1);
        if (!l.items[l.n++].text) {
            snprintf(err, DB_ERR_LEN, "out of memory");
            rc = DB_EGENERIC;
            goto out;
        }
    }
    if (rc != SQLITE_DONE) {
        rc = db_fail(c, rc, "comments", err);
        goto out;
    }
    *out = l;
    memset(&l, 0, sizeof l);
    rc = DB_OK;
out:
    db_brief_comment_list_release(&l);
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
db_brief_wins(struct db *db, const char *contributor_id, size_t limit,
              struct db_brief_win_list *out, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    struct db_brief_win_list l = {0};
    size_t cap = 0;
    int rc = db_prepare(c,
                        "SELECT b.id, b.title, a.submission_id, s.image_id, "
                        "a.licence_id, a.share_credits, l.royalty_cents, "
                        "a.created_at FROM brief_awards a JOIN "
                        "brief_submissions s ON s.id = a.submission_id JOIN "
                        "briefs b ON b.id = a.brief_id JOIN licences l ON "
                        "l.id = a.licence_id WHERE s.contributor_id = ?1 "
                        "ORDER BY a.created_at DESC, a.position LIMIT ?2",
                        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, contributor_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_brief_win *g =
            ledger__grow(l.items, &cap, l.n, sizeof *l.items, err);
        struct db_brief_win *w;

        if (!g) {
            rc = DB_EGENERIC;
            goto out;
        }
        l.items = g;
        w = &l.items[l.n++];
        memset(w, 0, sizeof *w);
        db_col_copy(st, 0, w->brief_id, sizeof w->brief_id);
        db_col_copy(st, 2, w->submission_id, sizeof w->submission_id);
        db_col_copy(st, 3, w->image_id, sizeof w->image_id);
        db_col_copy(st, 4, w->licence_id, sizeof w->licence_id);
        w->share_credits = sqlite3_column_int64(st, 5);
        w->royalty_cents = sqlite3_column_int64(st, 6);
        w->created_at = sqlite3_column_int64(st, 7);
        w->title = db__brief_dup(st, 1);
        if (!w->title) {
            snprintf(err, DB_ERR_LEN, "out of memory");
            rc = DB_EGENERIC;
            goto out;
        }
    }
    if (rc != SQLITE_DONE) {
        rc = db_fail(c, rc, "wins", err);
        goto out;
    }
    *out = l;
    memset(&l, 0, sizeof l);
    rc = DB_OK;
out:
    db_brief_win_list_release(&l);
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}
