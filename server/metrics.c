/* Stockroom — request metrics: counts by route and status and a latency
 * histogram, lock-free, in the Prometheus text format. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "httpint.h"

static const unsigned statuses[] = {
    200, 201, 202, 204, 206, 304, 400, 401, 402, 403, 404,
    405, 409, 410, 413, 415, 422, 429, 431, 500, 503, 0 /* any other */
};
#define N_STATUS (sizeof statuses / sizeof statuses[0])

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

struct srv__stats {
    _Atomic uint64_t by_status[N_STATUS];
    _Atomic uint64_t hist[N_BUCKETS + 1]; /* last: above every bucket */
    _Atomic uint64_t micros;              /* sum of durations */
};

struct srv__stats *
srv__stats_new(int n_routes)
{
    return calloc((size_t)n_routes + 1, sizeof(struct srv__stats));
}

void
srv__metrics_count(struct srv_http *h, struct srv_req *r, double secs)
{
    struct srv__stats *st = &h->stats[r->route_ix];
    size_t i = 0, b = 0;

    while (statuses[i] && statuses[i] != r->status)
        i++;
    atomic_fetch_add(&st->by_status[i], 1);
    while (b < N_BUCKETS && secs > buckets[b])
        b++;
    atomic_fetch_add(&st->hist[b], 1);
    atomic_fetch_add(&st->micros, (uint64_t)(secs * 1e6));
}

char *
srv_http_metrics(struct srv_http *h)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    fprintf(f, "# HELP stockroom_http_requests_total Requests answered, by "
               "route and status.\n"
               "# TYPE stockroom_http_requests_total counter\n");
    for (int i = 0; i <= h->n_routes; i++) {
        const char *name = i < h->n_routes ? h->routes[i].name : "unmatched";

        for (size_t s = 0; s < N_STATUS; s++) {
            uint64_t n = atomic_load(&h->stats[i].by_status[s]);

            if (!n)
                continue;
            if (statuses[s])
                fprintf(f,
                        "stockroom_http_requests_total{route=\"%s\","
                        "status=\"%u\"} %llu\n",
                        name, statuses[s], (unsigned long long)n);
            else
                fprintf(f,
                        "stockroom_http_requests_total{route=\"%s\","
                        "status=\"other\"} %llu\n",
                        name, (unsigned long long)n);
        }
    }
    fprintf(f, "# HELP stockroom_http_request_duration_seconds Time from "
               "request line to reply.\n"
               "# TYPE stockroom_http_request_duration_seconds histogram\n");
    for (int i = 0; i <= h->n_routes; i++) {
        const char *name = i < h->n_routes ? h->routes[i].name : "unmatched";
        uint64_t cum = 0;

        for (size_t b = 0; b <= N_BUCKETS; b++) {
            cum += atomic_load(&h->stats[i].hist[b]);
            if (b < N_BUCKETS)
                fprintf(f,
                        "stockroom_http_request_duration_seconds_bucket"
                        "{route=\"%s\",le=\"%g\"} %llu\n",
                        name, buckets[b], (unsigned long long)cum);
            else
                fprintf(f,
                        "stockroom_http_request_duration_seconds_bucket"
                        "{route=\"%s\",le=\"+Inf\"} %llu\n",
                        name, (unsigned long long)cum);
        }
        fprintf(f,
                "stockroom_http_request_duration_seconds_sum{route=\"%s\"}"
                " %.6f\n",
                name, (double)atomic_load(&h->stats[i].micros) / 1e6);
        fprintf(f,
                "stockroom_http_request_duration_seconds_count"
                "{route=\"%s\"} %llu\n",
                name, (unsigned long long)cum);
    }
    fprintf(f,
            "# HELP stockroom_http_open_connections Connections open now.\n"
            "# TYPE stockroom_http_open_connections gauge\n"
            "stockroom_http_open_connections %d\n"
            "# HELP stockroom_http_requests_in_flight Requests begun and "
            "not yet answered.\n"
            "# TYPE stockroom_http_requests_in_flight gauge\n"
            "stockroom_http_requests_in_flight %d\n",
            atomic_load(&h->open_conns), atomic_load(&h->inflight));
    fclose(f);
    return buf;
}
