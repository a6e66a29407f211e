/* Stockroom benchmarks: small helpers shared by the C drivers in
 * tests/bench/. Header-only: each driver is one file built by run.sh. */
#ifndef STOCKROOM_BENCH_H
#define STOCKROOM_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double
bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The p-th percentile (0..100) of n values, nearest rank; sorts v. */
static inline double
bench_pct(double *v, int n, double p)
{
    int i;

    if (n <= 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    i = (int)(p / 100.0 * n + 0.999999) - 1;
    if (i < 0)
        i = 0;
    if (i >= n)
        i = n - 1;
    return v[i];
}

/* "K/N": this process's shard of a file list. */
static inline int
bench_shard(const char *s, int *k, int *n)
{
    if (sscanf(s, "%d/%d", k, n) != 2 || *n < 1 || *k < 0 || *k >= *n)
        return -1;
    return 0;
}

/* VmHWM or VmRSS (kB) of a process, from /proc/PID/status; -1 if gone. */
static inline long
bench_proc_kb(int pid, const char *field)
{
    char path[64], line[256];
    size_t flen = strlen(field);
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, field, flen) && line[flen] == ':') {
            kb = strtol(line + flen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

#endif
