/* Stockroom — the group-commit batcher that sells licences:
 * concurrent sales of one database share one transaction and one commit. */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledgerint.h"

/* Group commit. A durable commit waits for the disk (an fdatasync), and
 * SQLite commits one writer at a time, so sales that arrive while one is
 * being written queue here and the next of them to run takes the whole
 * queue into one transaction: one commit, one wait for the disk, for all.
 * Each sale runs under its own savepoint, so one that fails (short of
 * credits, a reused key) undoes only itself; nobody is answered before
 * the commit that holds their sale is durable, and a failed commit fails
 * every sale in it. Within a batch sales run in the order they arrived,
 * so racing sales still succeed exactly as far as the credits go. */

#define BATCH_MAX 64 /* sales in one transaction at most */
#define LANES 8      /* databases batching at the same time */

/* The queue of one open database. */
struct lane {
    struct db *db;
    struct ledger__job *head, *tail;
    int leading; /* a thread is running a batch */
};

static pthread_mutex_t batch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t batch_done = PTHREAD_COND_INITIALIZER;
static struct lane lanes[LANES];

static const char SQL_SAVEPOINT[] = "SAVEPOINT sale";
static const char SQL_RELEASE[] = "RELEASE sale";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO sale";

/* batch_lock is held, by this thread as the callers show; a trylock can
 * only tell that somebody holds it, which is what an assert can check. */
#define BATCH_LOCK_HELD() (pthread_mutex_trylock(&batch_lock) == EBUSY)

/* The lane of db, claiming an idle one; NULL when all are busy. Called
 * with batch_lock held. */
static struct lane *
lane_of(struct db *db)
{
    struct lane *idle = NULL;

    assert(BATCH_LOCK_HELD());

    for (int i = 0; i < LANES; i++) {
        if (lanes[i].db == db)
            return &lanes[i];
        if (!idle && !lanes[i].leading && !lanes[i].head)
            idle = &lanes[i];
    }
    if (idle)
        idle->db = db;
    return idle;
}

void
ledger__batch_run(struct db *db, struct ledger__job *jobs)
{
    sqlite3 *c = db_conn_get(db);
    int single = jobs->next == NULL;
    int rc;
    char err[DB_ERR_LEN];

    rc = ledger__tx_begin(db, c, err);
    for (struct ledger__job *j = jobs; j; j = j->next) {
        if (rc != DB_OK) {
            j->rc = rc;
            snprintf(j->err, DB_ERR_LEN, "%s", err);
            continue;
        }
        /* A lone sale needs no savepoint: its failure undoes it all. */
        j->rc = single ? DB_OK
                       : ledger__run_cached(db, c, SQL_SAVEPOINT, "savepoint",
                                            j->err);
        if (j->rc == DB_OK)
            j->rc = ledger__licence_one(db, c, j->req, j->out, j->err);
        if (single)
            continue;
        if (j->rc == DB_OK)
            rc = ledger__run_cached(db, c, SQL_RELEASE, "release", err);
        else if (ledger__run_cached(db, c, SQL_ROLLBACK_TO, "rollback to",
                                    err) == DB_OK)
            rc = ledger__run_cached(db, c, SQL_RELEASE, "release", err);
        else
            rc = DB_EGENERIC;
        /* rc != DB_OK: the transaction is in an unknown state, so it is
         * rolled back and every sale in it fails. */
    }
    /* A lone sale's failure may have ended the transaction (SQLite rolls
     * back by itself on I/O errors); otherwise it must still be open. */
    assert(rc != DB_OK || (single && jobs->rc != DB_OK) || LEDGER__IN_TX(c));
    if (rc == DB_OK && !(single && jobs->rc != DB_OK))
        rc = ledger__tx_commit(db, c, err);
    /* Nothing of this transaction stands: no sale in it succeeded. */
    for (struct ledger__job *j = jobs; rc != DB_OK && j; j = j->next) {
        if (j->rc == DB_OK) {
            j->rc = rc;
            snprintf(j->err, DB_ERR_LEN, "%s", err);
        }
    }
    db_rollback(c);
    db_conn_put(db, c);
}

/* Sell without batching (every lane busy). */
static int
licence_alone(struct db *db, const struct ledger_licence_req *req,
              struct ledger_licence *out, char err[DB_ERR_LEN])
{
    struct ledger__job j = {req, out, err, DB_OK, 0, NULL};

    ledger__batch_run(db, &j);
    return j.rc;
}

int
ledger_licence_create(struct db *db, const struct ledger_licence_req *req,
                      struct ledger_licence *out, char err[DB_ERR_LEN])
{
    struct ledger__job me = {req, out, err, DB_OK, 0, NULL};
    struct lane *ln;
    int rc = ledger__licence_req_check(req, err);

    if (rc != DB_OK)
        return rc;
    pthread_mutex_lock(&batch_lock);
    ln = lane_of(db);
    if (!ln) {
        pthread_mutex_unlock(&batch_lock);
        return licence_alone(db, req, out, err);
    }
    if (ln->tail)
        ln->tail->next = &me;
    else
        ln->head = &me;
    ln->tail = &me;
    while (!me.done) {
        struct ledger__job *batch, *last;
        int n = 1;

        if (ln->leading) {
            pthread_cond_wait(&batch_done, &batch_lock);
            continue;
        }
        /* Lead: take up to BATCH_MAX queued sales, ours among them. */
        ln->leading = 1;
        batch = last = ln->head;
        while (last->next && n < BATCH_MAX) {
            last = last->next;
            n++;
        }
        ln->head = last->next;
        if (!ln->head)
            ln->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&batch_lock);
        ledger__batch_run(db, batch);
        pthread_mutex_lock(&batch_lock);
        /* done is read by the waiters under the lock. */
        assert(BATCH_LOCK_HELD());
        for (struct ledger__job *j = batch; j; j = j->next)
            j->done = 1;
        ln->leading = 0;
        if (!ln->head)
            ln->db = NULL;
        pthread_cond_broadcast(&batch_done);
    }
    pthread_mutex_unlock(&batch_lock);
    return me.rc;
}

int
ledger__batch_idle(void)
{
    int idle = 1;

    pthread_mutex_lock(&batch_lock);
    for (int i = 0; i < LANES; i++)
        if (lanes[i].db || lanes[i].head || lanes[i].leading)
            idle = 0;
    pthread_mutex_unlock(&batch_lock);
    return idle;
}
