/* Stockroom — the one table per status enum that maps it to the text the
 * database stores and back. */
#include <string.h>

#include "status.h"

static const char *const img_names[DB_IMG_N] = {
    [DB_IMG_PROCESSING] = "processing",
    [DB_IMG_PENDING_REVIEW] = "pending_review",
    [DB_IMG_APPROVED] = "approved",
    [DB_IMG_REJECTED] = "rejected",
    [DB_IMG_FAILED] = "failed",
    [DB_IMG_DRAFT] = "draft",
    [DB_IMG_WITHDRAWN] = "withdrawn",
    [DB_IMG_TAKEN_DOWN] = "taken_down",
};

static const char *const job_names[DB_JOB_N] = {
    [DB_JOB_QUEUED] = "queued",
    [DB_JOB_RUNNING] = "running",
    [DB_JOB_DONE] = "done",
    [DB_JOB_FAILED] = "failed",
};

static const char *const purchase_names[DB_PURCHASE_N] = {
    [DB_PURCHASE_PENDING] = "pending",
    [DB_PURCHASE_SETTLED] = "settled",
    [DB_PURCHASE_REFUNDED] = "refunded",
};

static const char *const payout_names[DB_PAYOUT_N] = {
    [DB_PAYOUT_REQUESTED] = "requested",
    [DB_PAYOUT_PAID] = "paid",
    [DB_PAYOUT_FAILED] = "failed",
};

/* The index of s in names[0..n), or -1. */
static int
lookup(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

const char *
db_status_img_str(enum db_img_status s)
{
    return (unsigned)s < DB_IMG_N ? img_names[s] : NULL;
}

const char *
db_status_job_str(enum db_job_state s)
{
    return (unsigned)s < DB_JOB_N ? job_names[s] : NULL;
}

const char *
db_status_purchase_str(enum db_purchase_status s)
{
    return (unsigned)s < DB_PURCHASE_N ? purchase_names[s] : NULL;
}

const char *
db_status_payout_str(enum db_payout_status s)
{
    return (unsigned)s < DB_PAYOUT_N ? payout_names[s] : NULL;
}

int
db_status_img_parse(const char *s, enum db_img_status *out)
{
    int i = lookup(img_names, DB_IMG_N, s);

    if (i < 0)
        return DB_EINVAL;
    *out = (enum db_img_status)i;
    return DB_OK;
}

int
db_status_job_parse(const char *s, enum db_job_state *out)
{
    int i = lookup(job_names, DB_JOB_N, s);

    if (i < 0)
        return DB_EINVAL;
    *out = (enum db_job_state)i;
    return DB_OK;
}

int
db_status_purchase_parse(const char *s, enum db_purchase_status *out)
{
    int i = lookup(purchase_names, DB_PURCHASE_N, s);

    if (i < 0)
        return DB_EINVAL;
    *out = (enum db_purchase_status)i;
    return DB_OK;
}

int
db_status_payout_parse(const char *s, enum db_payout_status *out)
{
    int i = lookup(payout_names, DB_PAYOUT_N, s);

    if (i < 0)
        return DB_EINVAL;
    *out = (enum db_payout_status)i;
    return DB_OK;
}
