/* Stockroom — image view counts: kept in memory and written in one
 * transaction by a chore, so a page view never waits for a write. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "catalog.h"
#include "log.h"

#define VIEW_SLOTS 1024 /* distinct images counted between flushes */

/* Stockroom — what buyers browse: search, similar images, view counts,
 * contributor portfolios and lightboxes. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "text.h"
#include "catalog.h"
#include "log.h"

#define VIEW_SLOTS 1024 /* distinct images counted between flushes */
#define FLUSH_S 5

/* Views are counted in memory and written in one transaction every few
 * seconds, so a page view never waits for a write. */
struct views {
    pthread_mutex_t lock;
    char ids[VIEW_SLOTS][CAT_ID_LEN];
    int counts[VIEW_SLOTS];
    int n;
    struct app *app;
};

int
views_open(struct app *app)
{
    struct views *v = calloc(1, sizeof *v);

    if (!v)
        return -1;
    v->app = app;
    pthread_mutex_init(&v->lock, NULL);
    app->views = v;
    return 0;
}

void
views_close(struct app *app)
{
    struct views *v = app->views;

    if (!v)
        return;
    pthread_mutex_destroy(&v->lock);
    free(v);
    app->views = NULL;
}

void
views_seen(struct app *app, const char *id)
{
    struct views *v = app->views;
    int i;

    if (!v)
        return;
    pthread_mutex_lock(&v->lock);
    for (i = 0; i < v->n && strcmp(v->ids[i], id) != 0; i++)
        ;
    if (i < v->n) {
        v->counts[i]++;
    } else if (v->n < VIEW_SLOTS) {
        snprintf(v->ids[v->n], CAT_ID_LEN, "%s", id);
        v->counts[v->n++] = 1;
    }
    /* A full table drops views until the next flush: counts are
     * statistics, not money. */
    pthread_mutex_unlock(&v->lock);
}

void
views_flush(struct app *app)
{
    struct views *v = app->views;
    char ids[VIEW_SLOTS][CAT_ID_LEN];
    int counts[VIEW_SLOTS];
    const char *ptrs[VIEW_SLOTS];
    char err[DB_ERR_LEN];
    int n;

    if (!v)
        return;
    pthread_mutex_lock(&v->lock);
    n = v->n;
    memcpy(ids, v->ids, sizeof ids[0] * (size_t)n);
    memcpy(counts, v->counts, sizeof counts[0] * (size_t)n);
    v->n = 0;
    pthread_mutex_unlock(&v->lock);
    for (int i = 0; i < n; i++)
        ptrs[i] = ids[i];
    if (n && cat_views_add(v->app->db, ptrs, counts, n, err) != DB_OK)
        log_warn("views: %s", err);
}
