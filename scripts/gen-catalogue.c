/* Stockroom — fills a data directory with a synthetic catalogue of
 * approved images for the benchmarks, and times cat_search on it. A tool
 * for benchmarks only: the server neither links nor calls it.
 *
 *   gen-catalogue --data DIR [--count N] [--seed S] [--words FILE]
 *   gen-catalogue --data DIR --bench [--cpu] [--queries N] [--seed S]
 *                 [--words FILE]
 *
 * --bench times cat_search on classes of 1-3 word queries (use the --seed
 * of the generation, so that "common" means the same words), then
 * cat_image_create, whose test uploads stay behind in 'processing'.
 *
 * Words come from FILE (default /usr/share/dict/words, Debian's wamerican)
 * or a small built-in list; they are shuffled by the seed and drawn with a
 * Zipf-like law, so a few words are common and most are rare. Every image
 * has thumb_etag and preview_etag "shared": whoever serves the catalogue
 * places one tiny shared thumbnail and preview for them. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "accounts.h"
#include "catalog.h"
#include "dbint.h"

#define CONTRIBUTORS 200
#define BATCH 50000 /* rows per transaction */
#define ZIPF_OFFSET                                                            \
    50.0 /* flattens the head: the commonest word is                           \
            in about 5 % of images, not 80 % */
#define WORDS_MAX 200000

static const char *const builtin_words[] = {
    "sunset",     "beach",    "mountain",   "city",      "street",
    "portrait",   "woman",    "man",        "child",     "family",
    "dog",        "cat",      "bird",       "flower",    "tree",
    "forest",     "river",    "lake",       "sea",       "ocean",
    "sky",        "cloud",    "snow",       "winter",    "summer",
    "autumn",     "spring",   "night",      "light",     "shadow",
    "food",       "coffee",   "bread",      "fruit",     "apple",
    "market",     "office",   "business",   "laptop",    "phone",
    "team",       "meeting",  "school",     "book",      "music",
    "guitar",     "dance",    "sport",      "football",  "bicycle",
    "car",        "train",    "road",       "bridge",    "building",
    "house",      "kitchen",  "garden",     "farm",      "horse",
    "cow",        "field",    "wheat",      "desert",    "island",
    "boat",       "harbour",  "lighthouse", "castle",    "church",
    "museum",     "art",      "paint",      "colour",    "red",
    "blue",       "green",    "yellow",     "black",     "white",
    "old",        "new",      "happy",      "smile",     "love",
    "wedding",    "party",    "holiday",    "travel",    "adventure",
    "hiking",     "camping",  "fire",       "water",     "rain",
    "storm",      "fog",      "morning",    "evening",   "vintage",
    "modern",     "abstract", "texture",    "pattern",   "background",
    "nature",     "wildlife", "insect",     "butterfly", "fish",
    "underwater", "coral",    "fashion",    "model",     "health",
    "doctor",     "science",  "technology", "industry",  "factory",
    "energy",     "solar",    "wind",       "planet",    "space",
    "star",       "moon",
};

static const char *const colours[] = {
    "blue",   "white",  "grey", "green", "black",  "brown",
    "orange", "yellow", "red",  "teal",  "purple", "pink",
};

static const int dims[][2] = {
    {6000, 4000}, {5472, 3648}, {4032, 3024}, {8256, 5504},
    {4000, 6000}, {3648, 5472}, {3024, 4032}, {4000, 4000},
    {7952, 5304}, {2448, 3264}, {3000, 3000}, {5184, 3456},
};

struct gen {
    uint64_t rng;
    char **words;
    int n_words;
    double *cdf; /* Zipf cumulative weights over words */
};

static uint64_t
next(struct gen *g)
{
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double
unit(struct gen *g)
{
    return (double)(next(g) >> 11) / 9007199254740992.0;
}

static int
below(struct gen *g, int n)
{
    return (int)(next(g) % (uint64_t)n);
}

/* A word index drawn with the Zipf-like law. */
static int
zipf_word(struct gen *g)
{
    double u = unit(g) * g->cdf[g->n_words - 1];
    int lo = 0, hi = g->n_words - 1;

    while (lo < hi) {
        int mid = (lo + hi) / 2;

        if (g->cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Plain lower-case words of 3 to 12 letters: no names, no possessives. */
static int
words_load(struct gen *g, const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[128];

    g->words = calloc(WORDS_MAX, sizeof *g->words);
    if (!g->words)
        return -1;
    while (fp && g->n_words < WORDS_MAX && fgets(line, sizeof line, fp)) {
        size_t n = strcspn(line, "\n");
        int ok = n >= 3 && n <= 12;

        for (size_t i = 0; i < n && ok; i++)
            ok = line[i] >= 'a' && line[i] <= 'z';
        line[n] = '\0';
        if (ok)
            g->words[g->n_words++] = strdup(line);
    }
    if (fp)
        fclose(fp);
    if (g->n_words < 100) {
        fprintf(stderr,
                "gen-catalogue: %s unusable, using the built-in "
                "list\n",
                path);
        for (int i = 0; i < g->n_words; i++)
            free(g->words[i]);
        g->n_words = 0;
        for (size_t i = 0; i < sizeof builtin_words / sizeof *builtin_words;
             i++)
            g->words[g->n_words++] = strdup(builtin_words[i]);
    }
    /* Shuffle, so the common words are not the alphabet's first. */
    for (int i = g->n_words - 1; i > 0; i--) {
        int j = below(g, i + 1);
        char *t = g->words[i];

        g->words[i] = g->words[j];
        g->words[j] = t;
    }
    g->cdf = malloc((size_t)g->n_words * sizeof *g->cdf);
    if (!g->cdf)
        return -1;
    for (int i = 0; i < g->n_words; i++)
        g->cdf[i] = (i ? g->cdf[i - 1] : 0) + 1.0 / (i + ZIPF_OFFSET);
    return 0;
}

/* n words drawn by the law, separated by sep, into buf. */
static void
words_pick(struct gen *g, int n, const char *sep, int distinct, char *buf,
           size_t cap)
{
    int picked[16];
    size_t used = 0;

    buf[0] = '\0';
    for (int k = 0; k < n; k++) {
        int w = zipf_word(g), dup = 0;

        for (int j = 0; j < k && distinct; j++)
            dup |= picked[j] == w;
        if (dup) {
            k--;
            continue;
        }
        picked[k] = w;
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", k ? sep : "",
                                 g->words[w]);
    }
}

static void
hex(struct gen *g, char *out, int digits)
{
    for (int i = 0; i < digits; i += 16)
        snprintf(out + i, (size_t)(digits - i + 1), "%016llx",
                 (unsigned long long)next(g));
}

/* --cpu: time by this thread's CPU clock, for a shared, busy machine where
 * wall-clock tails measure the neighbours. */
static clockid_t bench_clock = CLOCK_MONOTONIC;

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
generate(struct gen *g, struct db *db, long count)
{
    char err[DB_ERR_LEN];
    char ids[CONTRIBUTORS][ACC_ID_LEN];
    char title[256], desc[1024], kw[1024], id[20], sha[65];
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int64_t start = (int64_t)time(NULL) - 3 * 365 * 86400;
    double t0 = now_s();
    int rc;

    for (int i = 0; i < CONTRIBUTORS; i++) {
        struct acc_user u;
        char email[64], name[64];

        snprintf(email, sizeof email, "gen%03d.%llx@example.invalid", i,
                 (unsigned long long)next(g));
        snprintf(name, sizeof name, "%s %s", g->words[below(g, g->n_words)],
                 g->words[below(g, g->n_words)]);
        name[0] = (char)(name[0] - 32);
        /* "!" is no Argon2id string: nobody can sign in as these. */
        rc = acc_user_create(db, email, name, "!", ACC_ROLE_CONTRIBUTOR, &u,
                             err);
        if (rc != DB_OK)
            goto out;
        memcpy(ids[i], u.id, sizeof ids[i]);
    }
    /* A throw-away bulk load: losing it to a power cut costs a re-run. */
    rc = db_exec(c, "PRAGMA synchronous=OFF", err);
    if (rc == DB_OK)
        rc = db_prepare(
            c,
            "INSERT INTO images(id, contributor_id, status, title,"
            " description, keywords, width, height, format, mime, file_size,"
            " sha256, colour, dhash, watermark_seed, thumb_etag,"
            " preview_etag, created_at, reviewed_at, approved_at, views,"
            " licences_sold) VALUES (?1, ?2, 'approved', ?3, ?4, ?5, ?6, ?7,"
            " 'jpeg', 'image/jpeg', ?8, ?9, ?10, ?11, ?12, 'shared', 'shared',"
            " ?13, ?13, ?13, ?14, ?15)",
            &st, err);
    for (long i = 0; i < count && rc == DB_OK; i++) {
        const int *d = dims[below(g, sizeof dims / sizeof *dims)];
        /* Contributors: a few prolific, most occasional. */
        int who = (int)(CONTRIBUTORS * pow(unit(g), 2.5));
        /* Popularity: Pareto-tailed, most images never sell. */
        int64_t sold = (int64_t)pow(unit(g) + 1e-9, -1 / 1.2) - 1;
        int64_t at =
            start + (int64_t)((double)i * 3 * 365 * 86400 / (double)count);

        if (i % BATCH == 0)
            rc = db_begin(c, err);
        if (rc != DB_OK)
            break;
        words_pick(g, 3 + below(g, 4), " ", 0, title, sizeof title);
        title[0] = (char)(title[0] - 32);
        words_pick(g, 8 + below(g, 8), " ", 0, desc, sizeof desc);
        words_pick(g, 5 + below(g, 11), ",", 1, kw, sizeof kw);
        id[0] = 'i';
        hex(g, id + 1, 16);
        hex(g, sha, 64);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, ids[who], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, title, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, desc, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, kw, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, d[0]);
        sqlite3_bind_int(st, 7, d[1]);
        sqlite3_bind_int64(st, 8, 2000000 + below(g, 20000000));
        sqlite3_bind_text(st, 9, sha, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 10, colours[(int)(12 * pow(unit(g), 1.6))], -1,
                          SQLITE_STATIC);
        sqlite3_bind_int64(st, 11, (sqlite3_int64)next(g));
        sqlite3_bind_int64(st, 12, (sqlite3_int64)(next(g) >> 1));
        sqlite3_bind_int64(st, 13, at);
        sqlite3_bind_int64(st, 14, sold * 40 + below(g, 40));
        sqlite3_bind_int64(st, 15, sold > 100000 ? 100000 : sold);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "insert", err);
        if (rc == DB_OK && ((i + 1) % BATCH == 0 || i + 1 == count)) {
            rc = db_commit(c, err);
            fprintf(stderr, "\r%ld images, %.0f s", i + 1, now_s() - t0);
        }
    }
    fprintf(stderr, "\n");
    /* Merge the full-text segments and give the planner statistics, as a
     * long-running server gets through automerge and PRAGMA optimize. */
    if (rc == DB_OK)
        rc = db_exec(c,
                     "INSERT INTO image_fts(image_fts) VALUES"
                     " ('optimize'); ANALYZE;",
                     err);
    if (rc == DB_OK)
        fprintf(stderr, "done in %.1f s\n", now_s() - t0);
out:
    if (rc != DB_OK)
        fprintf(stderr, "gen-catalogue: %s\n", err);
    sqlite3_finalize(st);
    db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Time one class of queries: words drawn from ranks [lo, hi) of the law,
 * 1 to 3 per query, with or without filters. */
static int
bench_class(struct gen *g, struct db *db, const char *label, int lo, int hi,
            int filters, enum cat_sort sort, int n)
{
    double *ms = malloc((size_t)n * sizeof *ms), hits = 0;
    char err[DB_ERR_LEN], text[256];
    char contributor[ACC_ID_LEN] = "";
    int rc = DB_OK;

    if (!ms)
        return -1;
    if (hi > g->n_words)
        hi = g->n_words;
    if (filters) {
        /* The contributor of some image, for the contributor filter. */
        struct cat_query q = {.limit = 1};
        struct cat_list l = {0};

        rc = cat_search(db, &q, &l, err);
        if (rc == DB_OK && l.n)
            snprintf(contributor, sizeof contributor, "%s",
                     l.items[0].contributor_id);
        cat_list_release(&l);
    }
    for (int i = 0; i < n && rc == DB_OK; i++) {
        struct cat_query q = {.text = text, .sort = sort};
        struct cat_list l = {0};
        int words = 1 + below(g, 3);
        size_t used = 0;
        double t;

        text[0] = '\0';
        for (int k = 0; k < words; k++)
            used += (size_t)snprintf(text + used, sizeof text - used, "%s%s",
                                     k ? " " : "",
                                     g->words[lo + below(g, hi - lo)]);
        if (filters) {
            switch (i % 4) {
            case 0:
                q.colour = colours[below(g, 12)];
                break;
            case 1:
                q.orientation = i % 8 == 1 ? "portrait" : "square";
                break;
            case 2:
                q.min_megapixels = 20;
                break;
            default:
                q.contributor_id = contributor;
                break;
            }
        }
        t = now_s();
        rc = cat_search(db, &q, &l, err);
        ms[i] = (now_s() - t) * 1000;
        hits += l.n;
        cat_list_release(&l);
    }
    if (rc == DB_OK) {
        qsort(ms, (size_t)n, sizeof *ms, cmp_double);
        printf("%-34s n=%4d  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms"
               "  avg hits %.1f\n",
               label, n, ms[n / 2], ms[(int)(n * 0.99)], ms[n - 1], hits / n);
    } else {
        fprintf(stderr, "gen-catalogue: %s\n", err);
    }
    free(ms);
    return rc;
}

static int
bench(struct gen *g, struct db *db, int n)
{
    static const struct {
        const char *label;
        int lo, hi, filters;
        enum cat_sort sort;
    } classes[] = {
        {"no text, newest", 0, 1, -1, CAT_SORT_NEWEST},
        {"no text, popular, filters", 0, 1, -2, CAT_SORT_POPULAR},
        {"common words (rank <100)", 0, 100, 0, CAT_SORT_DEFAULT},
        {"common words + filters", 0, 100, 1, CAT_SORT_DEFAULT},
        {"common words, newest", 0, 100, 0, CAT_SORT_NEWEST},
        {"mid words (rank 100-5k)", 100, 5000, 0, CAT_SORT_DEFAULT},
        {"mid words + filters", 100, 5000, 1, CAT_SORT_DEFAULT},
        {"mid words, popular", 100, 5000, 0, CAT_SORT_POPULAR},
        {"rare words (rank >5k)", 5000, WORDS_MAX, 0, CAT_SORT_DEFAULT},
        {"rare words + filters", 5000, WORDS_MAX, 1, CAT_SORT_DEFAULT},
        {"any word (rank <20k)", 0, 20000, 0, CAT_SORT_DEFAULT},
        {"any word + filters", 0, 20000, 1, CAT_SORT_DEFAULT},
    };
    int rc = 0;

    for (size_t k = 0; k < sizeof classes / sizeof *classes && !rc; k++) {
        if (classes[k].filters < 0) {
            /* Browsing: no text at all, timed like the others. */
            double *ms = malloc((size_t)n * sizeof *ms);
            char err[DB_ERR_LEN];

            for (int i = 0; i < n && !rc; i++) {
                struct cat_query q = {.sort = classes[k].sort};
                struct cat_list l = {0};
                double t;

                if (classes[k].filters == -2)
                    q.colour = colours[below(g, 12)];
                if (classes[k].filters == -2 && i % 2)
                    q.orientation = "square";
                t = now_s();
                rc = cat_search(db, &q, &l, err);
                ms[i] = (now_s() - t) * 1000;
                cat_list_release(&l);
            }
            qsort(ms, (size_t)n, sizeof *ms, cmp_double);
            printf("%-34s n=%4d  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n",
                   classes[k].label, n, ms[n / 2], ms[(int)(n * 0.99)],
                   ms[n - 1]);
            free(ms);
            continue;
        }
        rc = bench_class(g, db, classes[k].label, classes[k].lo, classes[k].hi,
                         classes[k].filters, classes[k].sort, n);
    }
    return rc;
}

/* Time uploads: cat_image_create with its near-duplicate probe of 8
 * hashes against the whole catalogue. The images stay, in 'processing'. */
static int
bench_create(struct gen *g, struct db *db, int n)
{
    double *ms = malloc((size_t)n * sizeof *ms);
    char err[DB_ERR_LEN], owner[ACC_ID_LEN], sha[65], id[CAT_ID_LEN];
    struct cat_query q = {.limit = 1};
    struct cat_list l = {0};
    int rc = ms ? cat_search(db, &q, &l, err) : DB_EGENERIC;

    if (rc == DB_OK && l.n)
        snprintf(owner, sizeof owner, "%s", l.items[0].contributor_id);
    cat_list_release(&l);
    /* Another stream than the generation's and the last run's, or the
     * files would repeat. */
    g->rng ^= 0x5bd1e9955bd1e995ULL * (uint64_t)time(NULL);
    for (int i = 0; i < n && rc == DB_OK; i++) {
        struct cat_new_image in = {
            .contributor_id = owner,
            .title = "Bench upload",
            .keywords = "bench",
            .width = 6000,
            .height = 4000,
            .format = "jpeg",
            .mime = "image/jpeg",
            .file_size = 1,
            .sha256 = sha,
            .colour = "blue",
        };
        double t;

        hex(g, sha, 64);
        for (int v = 0; v < 8; v++)
            in.dhash[v] = next(g);
        t = now_s();
        rc = cat_image_create(db, &in, id, err);
        ms[i] = (now_s() - t) * 1000;
    }
    if (rc == DB_OK) {
        qsort(ms, (size_t)n, sizeof *ms, cmp_double);
        printf("%-34s n=%4d  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n",
               "upload (create + near-dup probe)", n, ms[n / 2],
               ms[(int)(n * 0.99)], ms[n - 1]);
    } else {
        fprintf(stderr, "gen-catalogue: %s\n", err);
    }
    free(ms);
    return rc;
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: gen-catalogue --data DIR [--count N] [--seed S]"
            " [--words FILE]\n"
            "       gen-catalogue --data DIR --bench [--cpu] [--queries N]"
            " [--seed S] [--words FILE]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    const char *data = NULL, *words = "/usr/share/dict/words";
    long count = 1000000;
    int queries = 500, do_bench = 0, rc;
    struct gen g = {.rng = 1};
    struct db *db = NULL;
    char path[4096], err[DB_ERR_LEN];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bench") == 0)
            do_bench = 1;
        else if (strcmp(argv[i], "--cpu") == 0)
            bench_clock = CLOCK_THREAD_CPUTIME_ID;
        else if (i + 1 >= argc)
            usage();
        else if (strcmp(argv[i], "--data") == 0)
            data = argv[++i];
        else if (strcmp(argv[i], "--count") == 0)
            count = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0)
            g.rng = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--words") == 0)
            words = argv[++i];
        else if (strcmp(argv[i], "--queries") == 0)
            queries = atoi(argv[++i]);
        else
            usage();
    }
    if (!data || count < 1 || queries < 1)
        usage();
    if (mkdir(data, 0755) != 0 && errno != EEXIST) {
        perror(data);
        return 1;
    }
    snprintf(path, sizeof path, "%s/stockroom.db", data);
    if (words_load(&g, words) != 0) {
        fprintf(stderr, "gen-catalogue: out of memory\n");
        return 1;
    }
    if (db_open(path, &db, err) != DB_OK) {
        fprintf(stderr, "gen-catalogue: %s\n", err);
        return 1;
    }
    rc = do_bench ? bench(&g, db, queries) : generate(&g, db, count);
    if (do_bench && rc == DB_OK)
        rc = bench_create(&g, db, queries);
    db_close(db);
    for (int i = 0; i < g.n_words; i++)
        free(g.words[i]);
    free(g.words);
    free(g.cdf);
    return rc == DB_OK ? 0 : 1;
}
