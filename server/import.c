/* Stockroom — `stockroom import`: a folder of photos through the same
 * checks and pipeline as an upload, with a progress bar on a terminal. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
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

int
cmd_import(struct app *app, int argc, char **argv)
{
    const char *email = NULL;
    struct files f = {0};
    struct acc_user u;
    char err[DB_ERR_LEN], (*ids)[24] = NULL;
    int tty = isatty(2), accepted = 0, refused = 0, rc = 1, n_paths = 0;

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
    /* The same workers as the server's make the previews here, so an
     * import is finished when this command ends. */
    if (!ids || workers_start(app) < 0)
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
    printf("%d accepted, %d refused\n", accepted, refused);
    rc = refused ? 1 : 0;
out:
    workers_stop(app);
    app_close(app);
    for (int i = 0; i < f.n; i++)
        free(f.paths[i]);
    free(f.paths);
    free(ids);
    return rc;
}
