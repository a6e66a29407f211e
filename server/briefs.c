/* Stockroom — briefs: a buyer posts what they cannot find with a bounty in
 * escrow, edits or cancels it before the first answer, closes it or
 * awards it; anyone finds the open ones. Answers are in brief_subs.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "briefs.h"
#include "log.h"
#include "parse.h"
#include "text.h"

#define AWARD_DAYS 7    /* the buyer may award until deadline + this */
#define ABANDON_DAYS 14 /* the escrow returns by itself after this */
#define DEADLINE_MIN_DAYS 1
#define DEADLINE_MAX_DAYS 60

/* How each refusal of db/briefs.h is answered. */
static const struct {
    unsigned status;
    const char *code;
} whys[DB_BRIEF_WHY_N] = {
    [DB_BRIEF_WHY_NONE] = {500, "internal"},
    [DB_BRIEF_WHY_NOT_OPEN] = {409, "brief_not_open"},
    [DB_BRIEF_WHY_HAS_SUBMISSIONS] = {409, "has_submissions"},
    [DB_BRIEF_WHY_NO_SUBMISSIONS] = {409, "no_submissions"},
    [DB_BRIEF_WHY_DEADLINE_PASSED] = {409, "deadline_passed"},
    [DB_BRIEF_WHY_AWARD_WINDOW] = {409, "award_window_closed"},
    [DB_BRIEF_WHY_OWN_BRIEF] = {422, "own_brief"},
    [DB_BRIEF_WHY_TOO_MANY] = {422, "submission_limit"},
    [DB_BRIEF_WHY_NOT_YOUR_IMAGE] = {422, "not_your_image"},
    [DB_BRIEF_WHY_IMAGE_NOT_ELIGIBLE] = {422, "image_not_eligible"},
    [DB_BRIEF_WHY_DOES_NOT_FIT] = {422, "does_not_fit"},
    [DB_BRIEF_WHY_ALREADY_SUBMITTED] = {409, "already_submitted"},
    [DB_BRIEF_WHY_BAD_PICK] = {422, "invalid_submission"},
    [DB_BRIEF_WHY_ALREADY_AWARDED] = {409, "already_awarded"},
};

int
briefs_reply_db(struct srv_req *r, int rc, int why, const char *err,
                const char *what)
{
    if (rc != DB_OK && why > DB_BRIEF_WHY_NONE && why < DB_BRIEF_WHY_N) {
        srv_error(r, whys[why].status, whys[why].code, "%s", err);
        return -1;
    }
    return srv_reply_db(r, rc, err, what);
}

int64_t
briefs_now(void)
{
    return (int64_t)time(NULL);
}

/* "2026-12-24T18:00:00Z" or with an offset and fractions: 0, or -1. */
static int
parse_rfc3339(const char *s, int64_t *out)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0, sign = 0;
    time_t t;

    if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
               &sec, &n) != 6 ||
        n != 19)
        return -1;
    s += n;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return -1;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if ((*s == 'Z' || *s == 'z') && s[1] == 0) {
        sign = 0;
    } else if ((*s == '+' || *s == '-') &&
               sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && n == 5 &&
               s[6] == 0 && oh < 24 && om < 60) {
        sign = *s == '+' ? 1 : -1;
    } else {
        return -1;
    }
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
        h > 23 || mi > 59 || sec > 60)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (int64_t)t - sign * (oh * 3600 + om * 60);
    return 0;
}

/* Keywords as an array of strings or one comma-separated string, trimmed,
 * lower-cased, without repeats, joined by commas into out. */
static int
keywords_field(struct srv_req *r, int optional, char *out, size_t len,
               int *given)
{
    json_t *v = json_object_get(srv_req_json(r), "keywords");
    char all[BRIEF_KEYWORDS_MAX + 1] = "";
    size_t used = 0;

    *given = v && !json_is_null(v);
    out[0] = 0;
    if (!*given) {
        if (optional)
            return 0;
        srv_error(r, 422, "missing_field", "The field 'keywords' is required.");
        return -1;
    }
    if (json_is_string(v)) {
        snprintf(all, sizeof all, "%s", json_string_value(v));
    } else if (json_is_array(v)) {
        size_t i;
        json_t *k;

        json_array_foreach(v, i, k)
        {
            if (!json_is_string(k))
                goto bad;
            used += (size_t)snprintf(all + used, sizeof all - used, "%s,",
                                     json_string_value(k));
            if (used >= sizeof all)
                goto bad;
        }
    } else {
        goto bad;
    }
    if (!text_one_line(all) || strlen(all) >= BRIEF_KEYWORDS_MAX)
        goto bad;
    for (char *save = NULL, *w = strtok_r(all, ",", &save); w;
         w = strtok_r(NULL, ",", &save)) {
        char low[BRIEF_KEYWORDS_MAX + 1], probe[BRIEF_KEYWORDS_MAX + 3],
            in[BRIEF_KEYWORDS_MAX + 3], *e;
        size_t ol = strlen(out);

        while (*w == ' ')
            w++;
        e = w + strlen(w);
        while (e > w && e[-1] == ' ')
            *--e = 0;
        if (!*w)
            continue;
        text_lower_copy(low, sizeof low, w);
        snprintf(probe, sizeof probe, ",%s,", low);
        snprintf(in, sizeof in, ",%s,", out);
        if (strstr(in, probe))
            continue;
        snprintf(out + ol, len - ol, "%s%s", ol ? "," : "", low);
    }
    return 0;
bad:
    srv_error(r, 422, "invalid_field",
              "'keywords' must be a list of words or a comma-separated "
              "string of at most %d characters.",
              BRIEF_KEYWORDS_MAX);
    return -1;
}

/* The keywords "a,b" as a JSON array. */
static json_t *
keywords_json(const char *kw)
{
    json_t *a = json_array();
    char buf[BRIEF_KEYWORDS_MAX + 1];

    snprintf(buf, sizeof buf, "%s", kw);
    for (char *save = NULL, *w = strtok_r(buf, ",", &save); w;
         w = strtok_r(NULL, ",", &save))
        json_array_append_new(a, json_string(w));
    return a;
}

json_t *
briefs_json(struct app *app, const struct db_brief *b, const char *viewer)
{
    int64_t now = briefs_now(), day = app->cfg.brief_day_s;
    int mine = viewer && strcmp(viewer, b->buyer_id) == 0;
    char created[32], deadline[32], award_until[32], closed[32];
    json_t *j;

    app_iso_time(b->created_at, created);
    app_iso_time(b->deadline, deadline);
    app_iso_time(b->deadline + AWARD_DAYS * day, award_until);
    app_iso_time(b->closed_at, closed);
    j = json_pack(
        "{s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:I,s:i,s:s,s:i,s:s,s:b,s:I,s:s,s:s,"
        "s:o,s:b,s:{s:I,s:I,s:I,s:I,s:I}}",
        "id", b->id, "title", b->title, "description", b->description,
        "keywords", keywords_json(b->keywords), "orientation",
        b->orientation[0] ? json_string(b->orientation) : json_null(),
        "min_megapixels",
        b->min_pixels ? json_real((double)b->min_pixels / 1e6) : json_null(),
        "deadline", deadline, "bounty_credits", (json_int_t)b->bounty_credits,
        "winners", b->winners, "licence_type", b->licence_type,
        "royalty_rate_bp", b->royalty_bp, "status",
        db_brief_status_str(b->status), "accepting_submissions",
        b->status == DB_BRIEF_OPEN && now < b->deadline, "submission_count",
        (json_int_t)b->submissions, "award_until", award_until, "created_at",
        created, "closed_at", b->closed_at ? json_string(closed) : json_null(),
        "mine", mine, "buyer_record", "awarded", (json_int_t)b->record.awarded,
        "closed_without_award", (json_int_t)b->record.closed, "expired",
        (json_int_t)b->record.expired, "abandoned",
        (json_int_t)b->record.abandoned, "ended",
        (json_int_t)(b->record.awarded + b->record.closed + b->record.expired +
                     b->record.abandoned));
    if (!j)
        return NULL;
    if (b->status == DB_BRIEF_CLOSED)
        json_object_set_new(j, "close_reason", json_string(b->close_reason));
    if (mine)
        json_object_set_new(j, "escrow_credits",
                            json_integer(b->escrow_credits));
    return j;
}

/* Reply with brief id as the viewer sees it. */
static void
brief_reply(struct srv_req *r, const char *id, unsigned status)
{
    struct app *app = srv_req_app(r);
    const struct acc_user *u = srv_req_user(r);
    struct db_brief b = {0};
    char err[DB_ERR_LEN];
    json_t *j;

    if (srv_reply_db(r, db_brief_get(app->db, id, &b, err), err, "brief") < 0)
        return;
    j = briefs_json(app, &b, u ? u->id : NULL);
    db_brief_release(&b);
    if (!j) {
        srv_reply_internal(r, "brief", "out of memory");
        return;
    }
    srv_json(r, status, j);
}

/* The text fields of a post or an edit; NULL where absent (optional). */
static int
text_fields(struct srv_req *r, int optional, const char **title,
            const char **desc)
{
    if (srv_field_str(r, "title", 3, BRIEF_TITLE_MAX, optional, title) < 0 ||
        srv_field_str(r, "description", 0, BRIEF_TEXT_MAX, 1, desc) < 0)
        return -1;
    if ((*title && !text_one_line(*title)) || (*desc && !text_ok(*desc))) {
        srv_error(r, 422, "invalid_field",
                  "Title and description must be plain text.");
        return -1;
    }
    return 0;
}

/* orientation and min_megapixels of a post into req. */
static int
fit_fields(struct srv_req *r, struct db_brief_req *req)
{
    json_t *mp = json_object_get(srv_req_json(r), "min_megapixels");
    const char *o;

    if (srv_field_str(r, "orientation", 0, 12, 1, &o) < 0)
        return -1;
    if (o && *o && strcmp(o, "landscape") && strcmp(o, "portrait") &&
        strcmp(o, "square")) {
        srv_error(r, 422, "invalid_field",
                  "'orientation' is landscape, portrait or square.");
        return -1;
    }
    req->orientation = o ? o : "";
    if (mp && !json_is_null(mp)) {
        if (!json_is_number(mp) || json_number_value(mp) < 0 ||
            json_number_value(mp) > 1000) {
            srv_error(r, 422, "invalid_field",
                      "'min_megapixels' is a number from 0 to 1000.");
            return -1;
        }
        req->min_pixels = (int64_t)(json_number_value(mp) * 1e6 + 0.5);
    }
    return 0;
}

void
briefs_create(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const struct acc_user *u = srv_req_user(r);
    const char *key = money_idem_key(r), *deadline, *type;
    struct db_brief_req req = {0};
    struct db_brief b = {0};
    char kw[BRIEF_KEYWORDS_MAX + 1], hash[65], err[DB_ERR_LEN];
    int64_t bounty = 0, winners = 0, day = app->cfg.brief_day_s,
            now = briefs_now();
    char *canon = NULL;
    int given, rc;
    json_t *j;

    if (!key || text_fields(r, 0, &req.title, &req.description) < 0 ||
        keywords_field(r, 0, kw, sizeof kw, &given) < 0 ||
        fit_fields(r, &req) < 0 ||
        srv_field_str(r, "deadline", 10, 40, 0, &deadline) < 0 ||
        srv_field_int(r, "bounty_credits", 1, BRIEF_MAX_CREDITS, 0, &bounty) <
            0 ||
        srv_field_int(r, "winners", 1, BRIEF_WINNERS_MAX, 0, &winners) < 0 ||
        srv_field_str(r, "licence_type", 1, 12, 0, &type) < 0)
        return;
    if (parse_rfc3339(deadline, &req.deadline) < 0) {
        srv_error(r, 422, "invalid_field",
                  "'deadline' must be an RFC 3339 time such as "
                  "2026-12-24T18:00:00Z.");
        return;
    }
    if (req.deadline < now + DEADLINE_MIN_DAYS * day ||
        req.deadline > now + DEADLINE_MAX_DAYS * day) {
        srv_error(r, 422, "invalid_deadline",
                  "The deadline must be %d to %d days ahead.",
                  DEADLINE_MIN_DAYS, DEADLINE_MAX_DAYS);
        return;
    }
    if (bounty < app->cfg.brief_min_credits) {
        srv_error(r, 422, "bounty_too_small",
                  "A bounty is at least %lld credits.",
                  (long long)app->cfg.brief_min_credits);
        return;
    }
    if (strcmp(type, "standard") && strcmp(type, "extended")) {
        srv_error(r, 422, "invalid_field",
                  "'licence_type' must be standard or extended.");
        return;
    }
    if (!kw[0]) {
        srv_error(r, 422, "invalid_field", "Give at least one keyword.");
        return;
    }
    canon = json_dumps(srv_req_json(r), JSON_SORT_KEYS | JSON_COMPACT);
    if (!canon) {
        srv_reply_internal(r, "brief", "out of memory");
        return;
    }
    money_request_hash(canon, hash);
    free(canon);
    req.buyer_id = u->id;
    req.keywords = kw;
    req.bounty_credits = bounty;
    req.winners = (int)winners;
    req.licence_type = type;
    req.royalty_bp = app->cfg.brief_royalty_bp;
    req.idem_key = key;
    req.request_hash = hash;
    rc = ledger_brief_post(app->db, &req, now, &b, err);
    if (srv_reply_db(r, rc, err, "brief") < 0)
        return;
    j = briefs_json(app, &b, u->id);
    log_info("brief %s posted, %lld credits in escrow", b.id,
             (long long)b.bounty_credits);
    db_brief_release(&b);
    srv_json(r, 201, j);
}

void
briefs_list(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const struct acc_user *u = srv_req_user(r);
    struct db_brief_query q = {0};
    struct db_brief_list l = {0};
    char err[DB_ERR_LEN], next[24];
    int64_t limit, offset;
    json_t *a;
    int rc;

    const char *cursor = srv_req_query(r, "cursor");

    if (srv_query_int(r, "limit", 1, 100, 24, &limit) < 0)
        return;
    offset = 0;
    if (cursor && *cursor && (srv_parse_int(cursor, 1, 1000000, &offset) < 0)) {
        srv_error(r, 422, "invalid_cursor", "The cursor is not valid.");
        return;
    }
    q.q = srv_req_query(r, "q");
    q.keyword = srv_req_query(r, "keyword");
    q.sort = srv_req_query(r, "sort");
    if ((q.q && (!text_one_line(q.q) || strlen(q.q) > 200)) ||
        (q.keyword && (!text_one_line(q.keyword) || strlen(q.keyword) > 100))) {
        srv_error(r, 422, "invalid_parameter", "Search text is one line.");
        return;
    }
    q.limit = (size_t)limit;
    q.offset = offset;
    q.now = briefs_now();
    rc = db_brief_search(app->db, &q, &l, err);
    if (srv_reply_db(r, rc, err, "briefs") < 0)
        return;
    a = json_array();
    for (size_t i = 0; i < l.n; i++)
        json_array_append_new(a,
                              briefs_json(app, &l.items[i], u ? u->id : NULL));
    snprintf(next, sizeof next, "%lld", (long long)l.next_offset);
    srv_json(r, 200,
             json_pack("{s:o,s:o}", "items", a, "next_cursor",
                       l.next_offset ? json_string(next) : json_null()));
    db_brief_list_release(&l);
}

void
briefs_mine(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const struct acc_user *u = srv_req_user(r);
    struct db_brief_list l = {0};
    char err[DB_ERR_LEN];
    json_t *a;

    if (srv_reply_db(r, db_brief_mine(app->db, u->id, 100, &l, err), err,
                     "briefs") < 0)
        return;
    a = json_array();
    for (size_t i = 0; i < l.n; i++)
        json_array_append_new(a, briefs_json(app, &l.items[i], u->id));
    db_brief_list_release(&l);
    srv_json(r, 200, json_pack("{s:o,s:n}", "items", a, "next_cursor"));
}

void
briefs_get(struct srv_req *r)
{
    brief_reply(r, srv_req_param(r, 0), 200);
}

void
briefs_patch(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0), *title, *desc;
    enum db_brief_why why = DB_BRIEF_WHY_NONE;
    char kw[BRIEF_KEYWORDS_MAX + 1], err[DB_ERR_LEN];
    int given, rc;

    if (text_fields(r, 1, &title, &desc) < 0 ||
        keywords_field(r, 1, kw, sizeof kw, &given) < 0)
        return;
    if (given && !kw[0]) {
        srv_error(r, 422, "invalid_field", "Give at least one keyword.");
        return;
    }
    rc = db_brief_edit(app->db, id, srv_req_user(r)->id, title, desc,
                       given ? kw : NULL, &why, err);
    if (briefs_reply_db(r, rc, why, err, "brief") < 0)
        return;
    brief_reply(r, id, 200);
}

/* Cancel (DELETE) or close (POST .../close) without an award. */
static void
brief_end(struct srv_req *r, enum ledger_brief_end how)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0), *reason = NULL;
    enum db_brief_why why = DB_BRIEF_WHY_NONE;
    char err[DB_ERR_LEN];
    int rc;

    if (how == LEDGER_BRIEF_CLOSE) {
        if (srv_field_str(r, "reason", 3, BRIEF_REASON_MAX, 0, &reason) < 0)
            return;
        if (!text_ok(reason)) {
            srv_error(r, 422, "invalid_field", "The reason is plain text.");
            return;
        }
    }
    rc = ledger_brief_end(app->db, id, srv_req_user(r)->id, how, reason,
                          briefs_now(), &why, err);
    if (briefs_reply_db(r, rc, why, err, "brief") < 0)
        return;
    log_info("brief %s %s, escrow returned", id,
             how == LEDGER_BRIEF_CANCEL ? "cancelled" : "closed");
    brief_reply(r, id, 200);
}

void
briefs_delete(struct srv_req *r)
{
    brief_end(r, LEDGER_BRIEF_CANCEL);
}

void
briefs_close(struct srv_req *r)
{
    brief_end(r, LEDGER_BRIEF_CLOSE);
}

/* The brief with its winners and their licences. */
static void
award_reply(struct srv_req *r, const char *id, unsigned status)
{
    struct app *app = srv_req_app(r);
    struct db_brief b = {0};
    char err[DB_ERR_LEN];
    json_t *j;

    if (srv_reply_db(r, db_brief_get(app->db, id, &b, err), err, "brief") < 0)
        return;
    j = briefs_json(app, &b, srv_req_user(r)->id);
    db_brief_release(&b);
    if (!j) {
        srv_reply_internal(r, "brief", "out of memory");
        return;
    }
    json_object_set_new(j, "awards", brief_subs_awards_json(app, id));
    srv_json(r, status, j);
}

void
briefs_award(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0);
    const char *sids[BRIEF_WINNERS_MAX];
    json_t *list = json_object_get(srv_req_json(r), "submission_ids"), *v;
    enum db_brief_why why = DB_BRIEF_WHY_NONE;
    char err[DB_ERR_LEN];
    int replayed = 0, rc;
    size_t n = 0, i;

    if (!json_is_array(list) || json_array_size(list) < 1 ||
        json_array_size(list) > BRIEF_WINNERS_MAX) {
        srv_error(r, 422, "invalid_field",
                  "'submission_ids' is a list of 1 to %d submission ids.",
                  BRIEF_WINNERS_MAX);
        return;
    }
    json_array_foreach(list, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) < 1 ||
            json_string_length(v) >= BRIEF_ID_LEN) {
            srv_error(r, 422, "invalid_field",
                      "'submission_ids' holds submission ids.");
            return;
        }
        sids[n++] = json_string_value(v);
    }
    rc = ledger_brief_award(app->db, id, srv_req_user(r)->id, sids, n,
                            briefs_now(), AWARD_DAYS * app->cfg.brief_day_s,
                            &replayed, &why, err);
    if (briefs_reply_db(r, rc, why, err, "brief") < 0)
        return;
    if (!replayed)
        log_info("brief %s awarded to %zu submissions", id, n);
    award_reply(r, id, replayed ? 200 : 201);
}

int
briefs_account_check(struct srv_req *r, const char *user_id)
{
    char err[DB_ERR_LEN];
    int open = 0;

    if (srv_reply_db(
            r, ledger_brief_has_open(srv_req_app(r)->db, user_id, &open, err),
            err, "briefs") < 0)
        return -1;
    if (open) {
        srv_error(r, 409, "brief_open",
                  "You have a brief still open: award, close or cancel it "
                  "before closing your account.");
        return -1;
    }
    return 0;
}

/* The chore: bounties of briefs that expired or were abandoned go back. */
void
briefs_sweep(struct app *app)
{
    char err[DB_ERR_LEN];
    int ended = 0;
    int rc =
        ledger_brief_sweep(app->db, briefs_now(),
                           ABANDON_DAYS * app->cfg.brief_day_s, &ended, err);

    if (rc != DB_OK)
        log_warn("brief sweep: %s", err);
    if (ended)
        log_info("brief sweep: %d briefs ended, escrow returned", ended);
}
