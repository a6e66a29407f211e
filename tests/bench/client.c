/* client: the HTTP side of the Stockroom benchmarks, with libcurl.
 *
 *   client URL signup EMAIL PASSWORD       create (or reuse) and sign in:
 *                                          prints the token
 *   client URL login EMAIL PASSWORD        sign in: prints the token
 *   client URL upload TOKEN FILE           prints the new image id
 *   client URL wait TOKEN [SECONDS]        until none of the user's images
 *                                          is processing: prints counts
 *   client URL approve TOKEN ID            review decision "approve"
 *   client URL get PATH OUTFILE            save a response body
 *   client URL buy TOKEN N TAG             N purchases of the 100-pack
 *   client URL uploads TOKEN FILE COUNT CONC TAG
 *                                          COUNT uploads of FILE, each with
 *                                          distinct trailing bytes after
 *                                          EOI, CONC at a time, then wait
 *                                          until processed
 *   client URL licences IMAGE CONC PER_THREAD TAG TOKEN...
 *                                          CONC threads buying PER_THREAD
 *                                          S licences each, thread i as
 *                                          TOKEN[i % n]
 *   client URL search QUERIES RUNS         each line of QUERIES (a query
 *                                          string) as GET /api/v1/images?,
 *                                          once to warm up, then RUNS times
 *
 * The benchmark commands print "key=value" lines for tests/bench/run.sh. */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <unistd.h>

#include "bench.h"

static const char *base;

struct buf {
    char *data;
    size_t len;
};

static size_t
on_data(char *p, size_t size, size_t n, void *user)
{
    struct buf *b = user;
    size_t add = size * n;
    char *d = realloc(b->data, b->len + add + 1);

    if (!d)
        return 0;
    memcpy(d + b->len, p, add);
    b->data = d;
    b->len += add;
    d[b->len] = '\0';
    return add;
}

/* One request on handle h (reused for keep-alive). Returns the status, or
 * -1 on a transport error; the body lands in *out (free it). */
static long
req(CURL *h, const char *method, const char *path, const char *token,
    const char *idem, const char *json, curl_mime *mime, struct buf *out)
{
    struct curl_slist *hd = NULL;
    char url[2048], line[512];
    long status = -1;

    out->data = NULL;
    out->len = 0;
    snprintf(url, sizeof url, "%s%s", base, path);
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
    if (token) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", token);
        hd = curl_slist_append(hd, line);
    }
    if (idem) {
        snprintf(line, sizeof line, "Idempotency-Key: %s", idem);
        hd = curl_slist_append(hd, line);
    }
    if (json) {
        hd = curl_slist_append(hd, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    }
    if (mime)
        curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    hd = curl_slist_append(hd, "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hd);
    return status;
}

static const char *
jstr(const char *body, const char *key, char *dst, size_t cap)
{
    json_t *j = json_loads(body ? body : "", 0, NULL);
    const char *s = json_string_value(json_object_get(j, key));

    snprintf(dst, cap, "%s", s ? s : "");
    json_decref(j);
    return s ? dst : NULL;
}

static int
die(const char *what, long status, const struct buf *b)
{
    fprintf(stderr, "client: %s: HTTP %ld %s\n", what, status,
            b->data ? b->data : "");
    return 1;
}

static int
login(CURL *h, const char *email, const char *pw, char *token, size_t cap)
{
    char body[512];
    struct buf b;
    long st;

    snprintf(body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\"}", email,
             pw);
    st = req(h, "POST", "/api/v1/sessions", NULL, NULL, body, NULL, &b);
    if (st != 201 || !jstr(b.data, "token", token, cap)) {
        die("sign in", st, &b);
        free(b.data);
        return -1;
    }
    free(b.data);
    return 0;
}

static int
signup(CURL *h, const char *email, const char *pw, char *token, size_t cap)
{
    char body[512];
    struct buf b;
    long st;

    snprintf(body, sizeof body,
             "{\"email\":\"%s\",\"password\":\"%s\","
             "\"name\":\"Bench %s\"}",
             email, pw, email);
    st = req(h, "POST", "/api/v1/users", NULL, NULL, body, NULL, &b);
    if (st != 201 && st != 409) {
        die("sign up", st, &b);
        free(b.data);
        return -1;
    }
    free(b.data);
    return login(h, email, pw, token, cap);
}

static char *
slurp(const char *path, size_t *len, size_t extra)
{
    FILE *f = fopen(path, "rb");
    char *d;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    d = malloc((size_t)n + extra);
    if (d && fread(d, 1, (size_t)n, f) != (size_t)n) {
        free(d);
        d = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return d;
}

/* POST /api/v1/images with data[0..len) as the file: 202 gives the id. */
static long
upload(CURL *h, const char *token, const char *data, size_t len,
       const char *title, char *id, size_t cap)
{
    curl_mime *m = curl_mime_init(h);
    curl_mimepart *p = curl_mime_addpart(m);
    struct buf b;
    long st;

    curl_mime_name(p, "file");
    curl_mime_filename(p, "photo.jpg");
    curl_mime_type(p, "image/jpeg");
    curl_mime_data(p, data, len);
    p = curl_mime_addpart(m);
    curl_mime_name(p, "title");
    curl_mime_data(p, title, CURL_ZERO_TERMINATED);
    p = curl_mime_addpart(m);
    curl_mime_name(p, "keywords");
    curl_mime_data(p, "benchmark, photo, test", CURL_ZERO_TERMINATED);
    st = req(h, "POST", "/api/v1/images", token, NULL, NULL, m, &b);
    if (st == 202)
        jstr(b.data, "id", id, cap);
    else
        die("upload", st, &b);
    free(b.data);
    curl_mime_free(m);
    return st;
}

/* Counts of the user's images by state; -1 on error. */
static int
census(CURL *h, const char *token, int *processing, int *ready, int *failed)
{
    char path[512], cursor[256] = "";

    *processing = *ready = *failed = 0;
    for (;;) {
        struct buf b;
        json_t *j, *items, *it, *nc;
        size_t i;
        long st;

        snprintf(path, sizeof path, "/api/v1/me/images?limit=100%s%s",
                 cursor[0] ? "&cursor=" : "", cursor);
        st = req(h, "GET", path, token, NULL, NULL, NULL, &b);
        if (st != 200) {
            die("my images", st, &b);
            free(b.data);
            return -1;
        }
        j = json_loads(b.data, 0, NULL);
        free(b.data);
        items = json_object_get(j, "items");
        json_array_foreach(items, i, it)
        {
            const char *s = json_string_value(json_object_get(it, "status"));

            if (s && !strcmp(s, "processing"))
                (*processing)++;
            else if (s && !strcmp(s, "failed"))
                (*failed)++;
            else
                (*ready)++;
        }
        nc = json_object_get(j, "next_cursor");
        if (!json_is_string(nc)) {
            json_decref(j);
            return 0;
        }
        {
            char *esc = curl_easy_escape(h, json_string_value(nc), 0);

            snprintf(cursor, sizeof cursor, "%s", esc);
            curl_free(esc);
        }
        json_decref(j);
    }
}

static int
wait_processed(CURL *h, const char *token, double timeout_s, int *ready,
               int *failed)
{
    double t0 = bench_now();
    int processing;

    for (;;) {
        if (census(h, token, &processing, ready, failed) < 0)
            return -1;
        if (!processing)
            return 0;
        if (bench_now() - t0 > timeout_s) {
            fprintf(stderr,
                    "client: %d image(s) still processing after "
                    "%.0f s\n",
                    processing, timeout_s);
            return -1;
        }
        usleep(20000);
    }
}

/* ---- concurrent uploads ------------------------------------------------ */

struct up_ctx {
    const char *token, *tag;
    const char *file;
    size_t len;
    int count, next, errors;
    pthread_mutex_t lock;
};

static void *
up_thread(void *arg)
{
    struct up_ctx *c = arg;
    CURL *h = curl_easy_init();
    char *data = malloc(c->len + 64);

    memcpy(data, c->file, c->len);
    for (;;) {
        char id[64], title[64];
        size_t n;
        int i;

        pthread_mutex_lock(&c->lock);
        i = c->next++;
        pthread_mutex_unlock(&c->lock);
        if (i >= c->count)
            break;
        /* Trailing bytes after EOI make each upload a distinct file. */
        n = c->len +
            (size_t)snprintf(data + c->len, 64, "bench %s %d", c->tag, i);
        snprintf(title, sizeof title, "Bench upload %d", i);
        if (upload(h, c->token, data, n, title, id, sizeof id) != 202) {
            pthread_mutex_lock(&c->lock);
            c->errors++;
            pthread_mutex_unlock(&c->lock);
        }
    }
    free(data);
    curl_easy_cleanup(h);
    return NULL;
}

static int
cmd_uploads(CURL *h, char **av)
{
    struct up_ctx c = {.token = av[0], .count = atoi(av[2]), .tag = av[4]};
    int conc = atoi(av[3]), ready = 0, failed = 0;
    pthread_t th[64];
    double t0, t1, t2;

    pthread_mutex_init(&c.lock, NULL);
    c.file = slurp(av[1], &c.len, 0);
    if (!c.file || conc < 1 || conc > 64)
        return 2;
    t0 = bench_now();
    for (int i = 0; i < conc; i++)
        pthread_create(&th[i], NULL, up_thread, &c);
    for (int i = 0; i < conc; i++)
        pthread_join(th[i], NULL);
    t1 = bench_now();
    if (wait_processed(h, c.token, 600, &ready, &failed) < 0)
        return 1;
    t2 = bench_now();
    printf("uploaded=%d upload_errors=%d ready=%d failed=%d\n",
           c.count - c.errors, c.errors, ready, failed);
    printf("accept_s=%.3f total_s=%.3f images_per_s=%.3f\n", t1 - t0, t2 - t0,
           (c.count - c.errors) / (t2 - t0));
    return c.errors || failed ? 1 : 0;
}

/* ---- concurrent licences ---------------------------------------------- */

struct lic_ctx {
    const char *image, *tag;
    char **tokens;
    int n_tokens, per_thread, errors;
    double *lat; /* per_thread per thread */
    pthread_mutex_t lock;
};

struct lic_arg {
    struct lic_ctx *c;
    int index;
};

static void *
lic_thread(void *arg)
{
    struct lic_arg *a = arg;
    struct lic_ctx *c = a->c;
    CURL *h = curl_easy_init();
    const char *token = c->tokens[a->index % c->n_tokens];
    char body[256], key[128];

    snprintf(body, sizeof body,
             "{\"image_id\":\"%s\",\"size\":\"S\","
             "\"type\":\"standard\"}",
             c->image);
    for (int i = 0; i < c->per_thread; i++) {
        struct buf b;
        double t;
        long st;

        snprintf(key, sizeof key, "lic-%s-%d-%d", c->tag, a->index, i);
        t = bench_now();
        st = req(h, "POST", "/api/v1/licences", token, key, body, NULL, &b);
        c->lat[a->index * c->per_thread + i] = (bench_now() - t) * 1000;
        if (st != 201) {
            pthread_mutex_lock(&c->lock);
            if (!c->errors++)
                die("licence", st, &b);
            pthread_mutex_unlock(&c->lock);
        }
        free(b.data);
    }
    curl_easy_cleanup(h);
    return NULL;
}

static int
cmd_licences(char **av, int ac)
{
    struct lic_ctx c = {.image = av[0],
                        .per_thread = atoi(av[2]),
                        .tag = av[3],
                        .tokens = av + 4,
                        .n_tokens = ac - 4};
    int conc = atoi(av[1]), n;
    struct lic_arg args[64];
    pthread_t th[64];
    double t0, wall;

    if (conc < 1 || conc > 64 || c.n_tokens < 1 || c.per_thread < 1)
        return 2;
    n = conc * c.per_thread;
    c.lat = calloc((size_t)n, sizeof *c.lat);
    pthread_mutex_init(&c.lock, NULL);
    t0 = bench_now();
    for (int i = 0; i < conc; i++) {
        args[i] = (struct lic_arg){&c, i};
        pthread_create(&th[i], NULL, lic_thread, &args[i]);
    }
    for (int i = 0; i < conc; i++)
        pthread_join(th[i], NULL);
    wall = bench_now() - t0;
    printf("ops=%d errors=%d wall_s=%.3f ops_per_s=%.1f p50_ms=%.2f "
           "p99_ms=%.2f max_ms=%.2f\n",
           n, c.errors, wall, n / wall, bench_pct(c.lat, n, 50),
           bench_pct(c.lat, n, 99), bench_pct(c.lat, n, 100));
    return c.errors ? 1 : 0;
}

/* ---- search ------------------------------------------------------------- */

static int
cmd_search(CURL *h, const char *file, int runs)
{
    FILE *f = fopen(file, "r");
    char line[1024], (*qs)[1024] = NULL;
    int nq = 0, n = 0, errors = 0;
    double *lat, worst = -1;
    long items = 0;
    int slowest = 0;

    if (!f)
        return 2;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        qs = realloc(qs, (size_t)(nq + 1) * sizeof *qs);
        snprintf(qs[nq++], sizeof *qs, "%s", line);
    }
    fclose(f);
    lat = calloc((size_t)(nq * runs), sizeof *lat);
    for (int r = -1; r < runs; r++) {
        for (int i = 0; i < nq; i++) {
            char path[1200];
            struct buf b;
            double t;
            long st;

            snprintf(path, sizeof path, "/api/v1/images?%s", qs[i]);
            t = bench_now();
            st = req(h, "GET", path, NULL, NULL, NULL, NULL, &b);
            t = (bench_now() - t) * 1000;
            if (st != 200) {
                if (!errors++)
                    die(path, st, &b);
            } else if (r >= 0) {
                json_t *j = json_loads(b.data, 0, NULL);

                items += (long)json_array_size(json_object_get(j, "items"));
                json_decref(j);
            }
            if (r >= 0) {
                lat[n++] = t;
                if (t > worst) {
                    worst = t;
                    slowest = i;
                }
            }
            free(b.data);
        }
    }
    printf("queries=%d errors=%d avg_items=%.1f p50_ms=%.2f p99_ms=%.2f "
           "max_ms=%.2f slowest=%s\n",
           n, errors, n ? (double)items / n : 0, bench_pct(lat, n, 50),
           bench_pct(lat, n, 99), bench_pct(lat, n, 100),
           nq ? qs[slowest] : "-");
    return errors ? 1 : 0;
}

int
main(int argc, char **argv)
{
    char token[256], id[64];
    const char *cmd;
    struct buf b;
    CURL *h;
    long st;
    int rc = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: client URL COMMAND ARGS... (see the source)\n");
        return 2;
    }
    base = argv[1];
    cmd = argv[2];
    argv += 3;
    argc -= 3;
    curl_global_init(CURL_GLOBAL_ALL);
    h = curl_easy_init();
    if (!strcmp(cmd, "signup") && argc == 2) {
        rc = signup(h, argv[0], argv[1], token, sizeof token) ? 1 : 0;
        if (!rc)
            puts(token);
    } else if (!strcmp(cmd, "login") && argc == 2) {
        rc = login(h, argv[0], argv[1], token, sizeof token) ? 1 : 0;
        if (!rc)
            puts(token);
    } else if (!strcmp(cmd, "upload") && argc == 2) {
        size_t len;
        char *d = slurp(argv[1], &len, 0);

        if (!d ||
            upload(h, argv[0], d, len, "Bench photo", id, sizeof id) != 202)
            rc = 1;
        else
            puts(id);
        free(d);
    } else if (!strcmp(cmd, "wait") && argc >= 1) {
        int ready, failed;

        rc = wait_processed(h, argv[0], argc > 1 ? atof(argv[1]) : 300, &ready,
                            &failed) < 0;
        if (!rc)
            printf("ready=%d failed=%d\n", ready, failed);
    } else if (!strcmp(cmd, "approve") && argc == 2) {
        char path[256];

        snprintf(path, sizeof path, "/api/v1/images/%s/review", argv[1]);
        st = req(h, "POST", path, argv[0], NULL, "{\"decision\":\"approve\"}",
                 NULL, &b);
        if (st != 200)
            rc = die("approve", st, &b);
        free(b.data);
    } else if (!strcmp(cmd, "get") && argc == 2) {
        st = req(h, "GET", argv[0], NULL, NULL, NULL, NULL, &b);
        if (st != 200) {
            rc = die(argv[0], st, &b);
        } else {
            FILE *f = fopen(argv[1], "wb");

            rc = !f || fwrite(b.data, 1, b.len, f) != b.len;
            if (f)
                fclose(f);
        }
        free(b.data);
    } else if (!strcmp(cmd, "buy") && argc == 3) {
        for (int i = 0; i < atoi(argv[1]) && !rc; i++) {
            char key[128];

            snprintf(key, sizeof key, "pack-%s-%d", argv[2], i);
            st = req(h, "POST", "/api/v1/credits/purchases", argv[0], key,
                     "{\"pack\":\"100\"}", NULL, &b);
            if (st != 201)
                rc = die("purchase", st, &b);
            free(b.data);
        }
    } else if (!strcmp(cmd, "uploads") && argc == 5) {
        rc = cmd_uploads(h, argv);
    } else if (!strcmp(cmd, "licences") && argc >= 5) {
        rc = cmd_licences(argv, argc);
    } else if (!strcmp(cmd, "search") && argc == 2) {
        rc = cmd_search(h, argv[0], atoi(argv[1]));
    } else {
        fprintf(stderr, "client: bad command '%s'\n", cmd);
        rc = 2;
    }
    curl_easy_cleanup(h);
    curl_global_cleanup();
    return rc;
}
