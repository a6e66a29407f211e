/* Stockroom — `stockroom import`: a folder of photos through the same
 * checks and pipeline as an upload, with a progress bar on a terminal. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "cat_safety.h"
#include "catalog.h"
#include "log.h"

#define MAX_FILES 100000
#define WAIT_S 600 /* longest wait for processing to finish */

struct files {
    char **paths;
    int n;
};

static int
add_path(struct files *f, const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        fprintf(stderr, "stockroom: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        struct dirent **names;
        int n = scandir(path, &names, NULL, alphasort);

        if (n < 0) {
            fprintf(stderr, "stockroom: %s: %s\n", path, strerror(errno));
            return -1;
        }
        for (int i = 0; i < n; i++) {
            char sub[4096];

            /* Hidden files are the system's, not photos. */
            if (names[i]->d_name[0] != '.') {
                snprintf(sub, sizeof sub, "%s/%s", path, names[i]->d_name);
                add_path(f, sub);
            }
            free(names[i]);
        }
        free(names);
        return 0;
    }
    if (!S_ISREG(st.st_mode) || f->n == MAX_FILES)
        return 0;
    f->paths = realloc(f->paths, sizeof *f->paths * (size_t)(f->n + 1));
    if (!f->paths)
        return -1;
    f->paths[f->n++] = strdup(path);
    return 0;
}

/* The import must not move the user's file: copy it next to the store,
 * where the pipeline can move it in. */
static int
copy_in(struct app *app, const char *src, char *tmp, size_t len, int64_t *size)
{
    char buf[65536];
    int in = open(src, O_RDONLY | O_CLOEXEC), out;
    ssize_t n;

    if (in < 0)
        return -1;
    snprintf(tmp, len, "%s/import-XXXXXX", app->tmp_dir);
    out = mkostemp(tmp, O_CLOEXEC);
    if (out < 0) {
        close(in);
        return -1;
    }
    *size = 0;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            n = -1;
            break;
        }
        *size += n;
    }
    close(in);
    close(out);
    if (n < 0 || *size > app->cfg.upload_limit) {
        unlink(tmp);
        errno = n < 0 ? errno : EFBIG;
        return -1;
    }
    return 0;
}

static void
progress(int tty, int done, int total, const char *what)
{
    int width = 30, fill = total ? done * width / total : width;

    if (!tty)
        return;
    fprintf(stderr, "\r[");
    for (int i = 0; i < width; i++)
        fputc(i < fill ? '#' : ' ', stderr);
    fprintf(stderr, "] %d/%d %-32.32s", done, total, what);
    fflush(stderr);
}

static int
still_processing(struct app *app, char (*ids)[24], int n)
{
    int busy = 0;
    char err[DB_ERR_LEN];

    for (int i = 0; i < n; i++) {
        struct cat_image *img = NULL;

        if (cat_image_get(app->db, ids[i], &img, err) == DB_OK &&
            img->status == DB_IMG_PROCESSING)
            busy++;
        cat_image_free(img);
    }
    return busy;
}

/* A camera's file name ("IMG_1234", "DSC01234", "PXL_20240101") says
 * nothing: a word of up to five letters followed by digits, or digits. */
static int
camera_word(const char *w, size_t n)
{
    size_t letters = 0, digits;

    while (letters < n && isalpha((unsigned char)w[letters]))
        letters++;
    for (digits = letters; digits < n && isdigit((unsigned char)w[digits]);)
        digits++;
    if (digits != n)
        return 0;
    if (letters == n) {
        static const char *const tags[] = {"img", "dsc", "dscn", "dscf",
                                           "pxl", "dji", "gopr", "mvimg"};

        for (size_t k = 0; k < sizeof tags / sizeof tags[0]; k++)
            if (strlen(tags[k]) == n && !strncasecmp(w, tags[k], n))
                return 1;
        return 0;
    }
    return letters <= 5;
}

/* A title from the words of a file's name ("sunset_over-the-lake.jpg":
 * "Sunset over the lake"), or "" when it has none. */
static void
title_from_name(const char *path, char *out, size_t len)
{
    const char *base = strrchr(path, '/'), *dot, *p;
    size_t o = 0;

    base = base ? base + 1 : path;
    dot = strrchr(base, '.');
    if (!dot || dot == base)
        dot = base + strlen(base);
    for (p = base; p < dot && o + 1 < len;) {
        size_t n = 0;

        while (p < dot && strchr("_-. ", *p))
            p++;
        while (p + n < dot && !strchr("_-. ", p[n]))
            n++;
        if (!n || camera_word(p, n) || o + n + 2 >= len) {
            p += n;
            continue;
        }
        if (o)
            out[o++] = ' ';
        memcpy(out + o, p, n);
        if (!o)
            out[0] = (char)toupper((unsigned char)out[0]);
        o += n;
        p += n;
    }
    out[o] = '\0';
}

/* After processing: an image whose file carried no title gets one from its
 * name, and goes to review if that was all it lacked. Returns 1 when it
 * stays a draft. */
static int
describe_from_name(struct app *app, const char *id, const char *path)
{
    struct cat_image *img = NULL;
    char title[CAT_TITLE_MAX + 1], err[DB_ERR_LEN];
    unsigned missing = 0;
    int rc;

    if (cat_image_get(app->db, id, &img, err) != DB_OK)
        return 0;
    rc = img->status == DB_IMG_DRAFT ? DB_EINVAL : DB_OK;
    if (rc != DB_OK && !img->title[0]) {
        title_from_name(path, title, sizeof title);
        if (title[0] && cat_image_update_meta(app->db, id, img->contributor_id,
                                              title, NULL, NULL, err) == DB_OK)
            rc = cat_image_submit(app->db, id, img->contributor_id,
                                  app->cfg.min_keywords, &missing, err);
    }
    cat_image_free(img);
    return rc != DB_OK;
}

int
cmd_import(struct app *app, int argc, char **argv)
{
    const char *email = NULL;
    struct files f = {0};
    struct acc_user u;
    char err[DB_ERR_LEN], (*ids)[24] = NULL;
    int *from = NULL; /* the path each accepted id came from */
    int tty = isatty(2), accepted = 0, refused = 0, drafts = 0, rc = 1;
    int n_paths = 0;

    /* Flags and paths in any order: --contributor is the only flag. */
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--contributor") && i + 1 < argc)
            email = argv[++i];
        else if (!strncmp(argv[i], "--contributor=", 14))
            email = argv[i] + 14;
        else
            argv[n_paths++] = argv[i];
    }
    if (!email || n_paths == 0) {
        fprintf(stderr, "usage: stockroom import [--data DIR] --contributor "
                        "EMAIL PATH...\n");
        return 2;
    }
    for (int i = 0; i < n_paths; i++) {
        if (add_path(&f, argv[i]) < 0)
            goto out;
    }
    if (app_open(app) < 0)
        goto out;
    if (acc_user_find_email(app->db, email, &u, err) != DB_OK ||
        !(u.roles & ACC_ROLE_CONTRIBUTOR)) {
        fprintf(stderr, "stockroom: no contributor with email %s\n", email);
        rc = 2;
        goto out;
    }
    ids = calloc((size_t)f.n + 1, sizeof *ids);
    from = calloc((size_t)f.n + 1, sizeof *from);
    /* The same workers as the server's make the previews here, so an
     * import is finished when this command ends. */
    if (!ids || !from || workers_start(app) < 0)
        goto out;
    for (int i = 0; i < f.n; i++) {
        struct ingest res;
        char tmp[1300];
        int64_t size;
        int moved = 0;

        progress(tty, i, f.n, f.paths[i]);
        if (copy_in(app, f.paths[i], tmp, sizeof tmp, &size) < 0) {
            res.status = 400;
            snprintf(res.code, sizeof res.code, "unreadable");
            snprintf(res.message, sizeof res.message, "%s", strerror(errno));
        } else {
            images_ingest(app, u.id, tmp, size, NULL, NULL, NULL, &moved, &res);
            if (!moved)
                unlink(tmp);
        }
        if (res.status == 202) {
            from[accepted] = i;
            snprintf(ids[accepted++], 24, "%s", res.id);
            if (!tty)
                printf("accepted %s %s\n", f.paths[i], res.id);
        } else {
            refused++;
            if (tty)
                fprintf(stderr, "\r%-80s\r", "");
            printf("refused %s: %s (%s)\n", f.paths[i], res.message, res.code);
        }
    }
    for (time_t until = time(NULL) + WAIT_S; time(NULL) < until;) {
        struct timespec tick = {0, 200 * 1000 * 1000};
        int busy = still_processing(app, ids, accepted);

        progress(tty, accepted - busy, accepted, "processing");
        if (!busy)
            break;
        nanosleep(&tick, NULL);
    }
    if (tty)
        fprintf(stderr, "\n");
    for (int k = 0; k < accepted; k++)
        drafts += describe_from_name(app, ids[k], f.paths[from[k]]);
    printf("%d accepted, %d refused, %d drafts\n", accepted, refused, drafts);
    rc = refused ? 1 : 0;
out:
    workers_stop(app);
    app_close(app);
    for (int i = 0; i < f.n; i++)
        free(f.paths[i]);
    free(f.paths);
    free(ids);
    free(from);
    return rc;
}
