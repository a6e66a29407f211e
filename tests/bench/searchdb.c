/* searchdb: the search benchmark straight to SQLite, through cat_search()
 * of db/catalog.h, with the same query strings the HTTP client sends.
 *
 *   searchdb DBFILE QUERIES RUNS
 *
 * Each line of QUERIES is a query string (q=...&orientation=...&colour=...
 * &min_megapixels=...&contributor=...&sort=...&limit=...&deep=N), run once
 * to warm up, then RUNS times. contributor=@top names the contributor of
 * the newest image; deep=N follows next_cursor N pages deep and times
 * only the last page. Prints queries, p50_ms, p99_ms, max_ms. */
#include <ctype.h>

#include "bench.h"
#include "catalog.h"
#include "db.h"

static void
unescape(char *s)
{
    char *d = s;

    for (; *s; s++) {
        if (*s == '+') {
            *d++ = ' ';
        } else if (*s == '%' && isxdigit((unsigned char)s[1]) &&
                   isxdigit((unsigned char)s[2])) {
            char hex[3] = {s[1], s[2], 0};

            *d++ = (char)strtol(hex, NULL, 16);
            s += 2;
        } else {
            *d++ = *s;
        }
    }
    *d = '\0';
}

static char top[64]; /* contributor=@top */

/* Fill q from a query string; the strings point into line. *deep is the
 * page to time (1: the first). */
static void
parse(char *line, struct cat_query *q, int *deep)
{
    char *save = NULL;

    memset(q, 0, sizeof *q);
    *deep = 1;
    for (char *kv = strtok_r(line, "&", &save); kv;
         kv = strtok_r(NULL, "&", &save)) {
        char *v = strchr(kv, '=');

        if (!v)
            continue;
        *v++ = '\0';
        unescape(v);
        if (!strcmp(kv, "q"))
            q->text = v;
        else if (!strcmp(kv, "orientation"))
            q->orientation = v;
        else if (!strcmp(kv, "colour"))
            q->colour = v;
        else if (!strcmp(kv, "contributor"))
            q->contributor_id = strcmp(v, "@top") ? v : top;
        else if (!strcmp(kv, "deep"))
            *deep = atoi(v) > 1 ? atoi(v) : 1;
        else if (!strcmp(kv, "min_megapixels"))
            q->min_megapixels = atof(v);
        else if (!strcmp(kv, "limit"))
            q->limit = atoi(v);
        else if (!strcmp(kv, "sort"))
            q->sort = !strcmp(v, "newest")      ? CAT_SORT_NEWEST
                      : !strcmp(v, "popular")   ? CAT_SORT_POPULAR
                      : !strcmp(v, "relevance") ? CAT_SORT_RELEVANCE
                                                : CAT_SORT_DEFAULT;
    }
}

int
main(int argc, char **argv)
{
    char err[DB_ERR_LEN], line[1024], (*qs)[1024] = NULL;
    struct db *db = NULL;
    int nq = 0, n = 0, runs, errors = 0;
    long items = 0;
    double *lat, worst = -1;
    int slowest = 0;
    FILE *f;

    if (argc != 4) {
        fprintf(stderr, "usage: searchdb DBFILE QUERIES RUNS\n");
        return 2;
    }
    runs = atoi(argv[3]);
    f = fopen(argv[2], "r");
    if (!f || runs < 1)
        return 2;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        qs = realloc(qs, (size_t)(nq + 1) * sizeof *qs);
        snprintf(qs[nq++], sizeof *qs, "%s", line);
    }
    fclose(f);
    if (db_open(argv[1], &db, err) != DB_OK) {
        fprintf(stderr, "searchdb: %s\n", err);
        return 1;
    }
    {
        struct cat_query q = {.limit = 1};
        struct cat_list l = {0};

        if (cat_search(db, &q, &l, err) == DB_OK && l.n)
            snprintf(top, sizeof top, "%s", l.items[0].contributor_id);
        cat_list_release(&l);
    }
    lat = calloc((size_t)(nq * runs), sizeof *lat);
    for (int r = -1; r < runs; r++) {
        for (int i = 0; i < nq; i++) {
            struct cat_query q;
            struct cat_list l = {0};
            char cur[CAT_CURSOR_LEN] = "";
            double t = 0;
            int deep;

            snprintf(line, sizeof line, "%s", qs[i]);
            parse(line, &q, &deep);
            for (int p = 1; p <= deep; p++) {
                q.cursor = cur;
                cat_list_release(&l);
                t = bench_now();
                if (cat_search(db, &q, &l, err) != DB_OK && !errors++)
                    fprintf(stderr, "searchdb: %s: %s\n", qs[i], err);
                t = (bench_now() - t) * 1000;
                snprintf(cur, sizeof cur, "%s", l.next_cursor);
                if (!cur[0])
                    break;
            }
            if (r >= 0) {
                lat[n++] = t;
                items += l.n;
                if (t > worst) {
                    worst = t;
                    slowest = i;
                }
            }
            cat_list_release(&l);
        }
    }
    printf("queries=%d errors=%d avg_items=%.1f p50_ms=%.2f p99_ms=%.2f "
           "max_ms=%.2f slowest=%s\n",
           n, errors, n ? (double)items / n : 0, bench_pct(lat, n, 50),
           bench_pct(lat, n, 99), bench_pct(lat, n, 100),
           nq ? qs[slowest] : "-");
    db_close(db);
    return errors ? 1 : 0;
}
