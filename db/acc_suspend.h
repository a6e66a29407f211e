/* Stockroom — suspending an account: it cannot sign in, its sessions end
 * and its approved images are off sale ('taken_down', held by the
 * suspension) until it is lifted. Money already earned stays in the books:
 * nothing here touches the ledger. */
#ifndef STOCKROOM_ACC_SUSPEND_H
#define STOCKROOM_ACC_SUSPEND_H

#include <stdint.h>

#include "db.h"

/* Suspend user_id, in one transaction with its sessions, its images and
 * the audit line 'suspend'. DB_ENOTFOUND if no such user; DB_ECONFLICT
 * when suspended already. */
int acc_user_suspend(struct db *db, const char *user_id, const char *admin_id,
                     const char *reason, char err[DB_ERR_LEN]) DB_WUR;

/* Lift it: the images it held go back on sale; audit line 'unsuspend'.
 * DB_ECONFLICT when not suspended. */
int acc_user_unsuspend(struct db *db, const char *user_id, const char *admin_id,
                       char err[DB_ERR_LEN]) DB_WUR;

/* *since gets the unix time of user_id's suspension, 0 when none. */
int acc_user_suspended(struct db *db, const char *user_id, int64_t *since,
                       char err[DB_ERR_LEN]) DB_WUR;

/* A user as the admin console lists them. */
struct acc_user_row {
    char id[24];
    char email[256];
    char name[128];
    unsigned roles;
    int64_t created_at, suspended_at; /* 0: not suspended */
};

/* Users whose email starts with q or whose name contains it (any case),
 * newest first, at most 50, into a new array (*out, free()) and *n; every
 * user when q is NULL or "". */
int acc_users_search(struct db *db, const char *q, struct acc_user_row **out,
                     int *n, char err[DB_ERR_LEN]) DB_WUR;

#endif
