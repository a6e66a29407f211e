/* Stockroom — periodic chores: one thread runs every sweep the store needs
 * (view counts, expired sessions, ...). A feature adds its own with one
 * line in the table below. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "app.h"
#include "payments.h"

#define TICK_S 1 /* the finest period a chore can have */

static const struct chore {
    const char *name;
    void (*run)(struct app *app);
    int every_s;
} chores[] = {
    {"views", views_flush, 5},
    {"sessions", sessions_purge, 5},
    {"briefs", briefs_sweep, 1},
    {"reconcile", checkout_chore, 5}, /* keeps its own 5-minute clock */
};
#define N_CHORES (sizeof chores / sizeof chores[0])

struct chores {
    pthread_mutex_t lock;
    pthread_cond_t stop_cv;
    pthread_t thread;
    int stopping;
    struct app *app;
};

static void *
chores_main(void *arg)
{
    struct chores *c = arg;
    int64_t ticks = 0;

    for (;;) {
        struct timespec until;
        int stop;

        pthread_mutex_lock(&c->lock);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += TICK_S;
        if (!c->stopping)
            pthread_cond_timedwait(&c->stop_cv, &c->lock, &until);
        stop = c->stopping;
        pthread_mutex_unlock(&c->lock);
        ticks++;
        /* On the way out every chore runs once more: counts in memory are
         * written before the process ends. */
        for (size_t i = 0; i < N_CHORES; i++) {
            if (stop || ticks % (chores[i].every_s / TICK_S) == 0)
                chores[i].run(c->app);
        }
        if (stop)
            break;
    }
    return NULL;
}

int
chores_start(struct app *app)
{
    struct chores *c = calloc(1, sizeof *c);

    if (!c)
        return -1;
    c->app = app;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->stop_cv, NULL);
    if (pthread_create(&c->thread, NULL, chores_main, c) != 0) {
        pthread_cond_destroy(&c->stop_cv);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return -1;
    }
    app->chores = c;
    return 0;
}

void
chores_stop(struct app *app)
{
    struct chores *c = app->chores;

    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->stopping = 1;
    pthread_cond_signal(&c->stop_cv);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->stop_cv);
    pthread_mutex_destroy(&c->lock);
    free(c);
    app->chores = NULL;
}
