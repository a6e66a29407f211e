/* Stockroom — trust and safety over HTTP: drafts and the submission rules,
 * withdrawal and restore, reports and take-downs with a buyer still
 * downloading, counter-notices, appeals to another reviewer, suspensions
 * ending sessions, and the append-only audit log. Every refusal names its
 * status and code, for every role that may not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"
#include "imgutil.h"
#include "kit.h"
#include "util.h"

#define PROCESS_MS 120000 /* one image's processing, ASan build */
#define PW "correct horse battery"

static struct th_server srv;
static char owner[128], other[128], buyer[128];
static char reviewer[128], reviewer2[128], admin[128];
static char scratch[256];
static int seq;

/* The draft rules on, as shipped (the harness turns them off). */
static const char *const flags[] = {
    "--min-megapixels", "0.00005", "--workers", "2",
    "--min-keywords",   "5",       NULL};

static int
setup(void **state)
{
    (void)state;
    if (tu_tmpdir(scratch, sizeof scratch) < 0 || th_start(&srv, flags) < 0)
        return -1;
    kit_use(&srv);
    kit_new_user("owner", owner);
    kit_new_user("other", other);
    kit_new_user("buyer", buyer);
    kit_staff("reviewer", "reviewer", reviewer);
    kit_staff("reviewer2", "reviewer", reviewer2);
    kit_staff("admin", "admin", admin);
    return 0;
}

static int
teardown(void **state)
{
    int rc = th_stop(&srv);

    (void)state;
    th_cleanup(&srv);
    tu_rmtree(scratch);
    return rc;
}

/* ---- helpers ---------------------------------------------------------- */

/* Upload a unique copy of a corpus photo as token with the form fields
 * (NULL-terminated pairs, may be NULL); wait until processed and expect
 * status. The id into id (64 bytes). */
static void
upload(const char *token, const char *const *fields, const char *want, char *id)
{
    char src[512], path[512], tag[32], status[32];
    struct th_resp r;

    snprintf(tag, sizeof tag, "safety-%d", ++seq);
    iu_unique_corpus(scratch, "real/35-skimage-hubble_deep_field.jpg", tag,
                     path, sizeof path);
    (void)src;
    assert_int_equal(
        th_upload(&srv, "/api/v1/images", token, path, "photo.jpg", fields, &r),
        0);
    kit_expect(&r, 202, NULL, "upload");
    snprintf(id, 64, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
    iu_wait_processed(&srv, token, id, PROCESS_MS, status);
    assert_string_equal(status, want);
}

static const char *const described[] = {
    "title", "Stars over the field", "keywords",
    "stars, galaxies, night, space, deep field", NULL};

/* An approved photo of owner's. */
static void
approved(char *id)
{
    upload(owner, described, "pending_review", id);
    kit_approve(owner, reviewer, id);
}

static const char *
ipath(char *buf, const char *id, const char *tail)
{
    snprintf(buf, 160, "/api/v1/images/%s%s", id, tail);
    return buf;
}

/* A licence of id bought by buyer; its id into lic (64 bytes). */
static void
buy_licence(const char *id, char *lic)
{
    struct th_resp r;

    kit_buy(buyer, "10", NULL);
    kit_licence(buyer, id, "XL", "standard", &r);
    kit_expect(&r, 201, NULL, "licence");
    snprintf(lic, 64, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
}

static void
download_ok(const char *lic, const char *what)
{
    char path[160];

    snprintf(path, sizeof path, "/api/v1/licences/%s/download", lic);
    kit_check("GET", path, buyer, NULL, 200, NULL, what);
}

/* The newest audit line for object id with action, as admin; NULL when
 * none (the caller decrefs). */
static json_t *
audit_line(const char *action, const char *id)
{
    char path[200];
    json_t *j, *items, *e;

    snprintf(path, sizeof path, "/api/v1/admin/audit?action=%s&object=%s",
             action, id);
    j = kit_want("GET", path, admin, NULL, 200, NULL);
    items = json_object_get(j, "items");
    e = json_array_size(items) ? json_incref(json_array_get(items, 0)) : NULL;
    json_decref(j);
    return e;
}

/* ---- drafts ----------------------------------------------------------- */

static void
test_drafts(void **state)
{
    char id[64], full[64], p[160];
    json_t *j;

    (void)state;
    upload(owner, NULL, "draft", id);
    j = kit_want("GET", ipath(p, id, ""), owner, NULL, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "missing")), 2);
    json_decref(j);
    /* Nobody but the owner sees or sends a draft. */
    kit_check("GET", ipath(p, id, ""), NULL, NULL, 404, "not_found", "anon");
    kit_check("POST", ipath(p, id, "/submit"), NULL, NULL, 401,
              "unauthenticated", "anon submit");
    kit_check("POST", ipath(p, id, "/submit"), other, NULL, 404, "not_found",
              "other submit");
    kit_check("POST", ipath(p, id, "/submit"), reviewer, NULL, 404, "not_found",
              "reviewer submit");
    j = kit_want("POST", ipath(p, id, "/submit"), owner, NULL, 422,
                 "incomplete");
    assert_int_equal(json_array_size(json_object_get(
                         json_object_get(j, "error"), "missing")),
                     2);
    json_decref(j);
    /* A title alone is not enough. */
    kit_check("PATCH", ipath(p, id, ""), owner,
              "{\"title\":\"Deep field\",\"keywords\":\"a, b, c, d\"}", 200,
              NULL, "describe");
    j = kit_want("POST", ipath(p, id, "/submit"), owner, NULL, 422,
                 "incomplete");
    assert_string_equal(
        json_string_value(json_array_get(
            json_object_get(json_object_get(j, "error"), "missing"), 0)),
        "keywords");
    json_decref(j);
    kit_check("PATCH", ipath(p, id, ""), owner,
              "{\"keywords\":\"a, b, c, d, e\"}", 200, NULL, "describe");
    j = kit_want("POST", ipath(p, id, "/submit"), owner, NULL, 200, NULL);
    assert_string_equal(kit_jstr(j, "status"), "pending_review");
    json_decref(j);
    kit_check("POST", ipath(p, id, "/submit"), owner, NULL, 409, "not_draft",
              "twice");
    /* Described at upload: straight to review. */
    upload(owner, described, "pending_review", full);
}

static void
test_submit_batch(void **state)
{
    char a[64], b[64], p[160], body[256];
    json_t *j;

    (void)state;
    upload(owner, NULL, "draft", a);
    upload(owner, NULL, "draft", b);
    kit_check("PATCH", ipath(p, a, ""), owner,
              "{\"title\":\"Field\",\"keywords\":\"a,b,c,d,e\"}", 200, NULL,
              "describe");
    snprintf(body, sizeof body, "{\"ids\":[\"%s\",\"%s\",\"inope\"]}", a, b);
    kit_check("POST", "/api/v1/images/submit", buyer, "{\"ids\":[]}", 422,
              "invalid_field", "empty batch");
    kit_check("POST", "/api/v1/images/submit", NULL, body, 401,
              "unauthenticated", "anon batch");
    j = kit_want("POST", "/api/v1/images/submit", owner, body, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "submitted")), 1);
    assert_int_equal(json_array_size(json_object_get(j, "refused")), 2);
    assert_string_equal(
        kit_jstr(json_array_get(json_object_get(j, "refused"), 0), "code"),
        "incomplete");
    assert_string_equal(
        kit_jstr(json_array_get(json_object_get(j, "refused"), 1), "code"),
        "not_found");
    json_decref(j);
}

/* `stockroom import`: a file without embedded words gets a title from its
 * name (not the camera's IMG_1234) and, lacking keywords, waits as a
 * draft; the count of drafts is reported. */
static void
test_import_drafts(void **state)
{
    char email[128], tok[128], csrf[64], path[512], named[512];
    char out[2048], errb[2048];
    const char *argv[16];
    json_t *j, *items;
    int n = 0;

    (void)state;
    tu_email("importer", email, sizeof email);
    assert_int_equal(th_signup(&srv, email, PW, "Ida"), 201);
    assert_int_equal(th_login(&srv, email, PW, tok, csrf), 201);
    iu_unique_corpus(scratch, "real/35-skimage-hubble_deep_field.jpg", "import",
                     path, sizeof path);
    snprintf(named, sizeof named, "%s/sunset_over-the-lake_IMG_1234.jpg",
             scratch);
    assert_int_equal(rename(path, named), 0);
    argv[n++] = tu_bin();
    argv[n++] = "import";
    argv[n++] = "--data";
    argv[n++] = srv.dir;
    argv[n++] = "--min-megapixels";
    argv[n++] = "0.00005";
    argv[n++] = "--min-keywords";
    argv[n++] = "5";
    argv[n++] = "--contributor";
    argv[n++] = email;
    argv[n++] = named;
    argv[n] = NULL;
    assert_int_equal(
        tu_run(argv, NULL, out, sizeof out, errb, sizeof errb, PROCESS_MS), 0);
    assert_non_null(strstr(out, "1 accepted, 0 refused, 1 drafts"));
    j = kit_want("GET", "/api/v1/me/images", tok, NULL, 200, NULL);
    items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(kit_jstr(json_array_get(items, 0), "title"),
                        "Sunset over the lake");
    assert_string_equal(kit_jstr(json_array_get(items, 0), "status"), "draft");
    json_decref(j);
}

/* ---- withdrawal ------------------------------------------------------- */

static void
test_withdraw_restore(void **state)
{
    char id[64], lic[64], p[160], thumb[160];
    json_t *j, *e;

    (void)state;
    approved(id);
    buy_licence(id, lic);
    snprintf(thumb, sizeof thumb, "/images/%s/thumbnail.jpg", id);
    kit_check("GET", thumb, NULL, NULL, 200, NULL, "thumbnail on sale");
    kit_check("DELETE", ipath(p, id, ""), NULL, NULL, 401, "unauthenticated",
              "anon");
    kit_check("DELETE", ipath(p, id, ""), other, NULL, 404, "not_found",
              "other");
    kit_check("DELETE", ipath(p, id, ""), reviewer, NULL, 404, "not_found",
              "reviewer");
    j = kit_want("DELETE", ipath(p, id, ""), owner, NULL, 200, NULL);
    assert_string_equal(kit_jstr(j, "status"), "withdrawn");
    json_decref(j);
    kit_check("DELETE", ipath(p, id, ""), owner, NULL, 409, "not_withdrawable",
              "twice");
    /* Gone for the public, the thumbnail too (no cached copy). */
    kit_check("GET", ipath(p, id, ""), NULL, NULL, 410, "gone", "page");
    kit_check("GET", ipath(p, id, ""), buyer, NULL, 410, "gone", "buyer page");
    kit_check("GET", thumb, NULL, NULL, 410, "gone", "thumbnail");
    /* Not for sale; but the licence sold stays good. */
    {
        struct th_resp r;

        kit_licence(buyer, id, "S", "standard", &r);
        kit_expect(&r, 404, "not_found", "new licence");
        th_resp_free(&r);
    }
    download_ok(lic, "download after withdrawal");
    e = audit_line("withdraw", id);
    assert_non_null(e);
    json_decref(e);
    /* Restore: others may not; the owner sends it back to review. */
    kit_check("POST", ipath(p, id, "/restore"), other, NULL, 404, "not_found",
              "other restore");
    kit_check("POST", ipath(p, id, "/restore"), reviewer, NULL, 404,
              "not_found", "reviewer restore");
    kit_check("POST", ipath(p, id, "/restore"), NULL, NULL, 401,
              "unauthenticated", "anon restore");
    j = kit_want("POST", ipath(p, id, "/restore"), owner, NULL, 200, NULL);
    assert_string_equal(kit_jstr(j, "status"), "pending_review");
    json_decref(j);
    kit_check("POST", ipath(p, id, "/restore"), owner, NULL, 409,
              "not_off_sale", "restore twice");
}

/* Past 30 days the owner can no longer restore (the clock moved back in
 * the database: the server reads the time it was withdrawn). */
static void
test_restore_window(void **state)
{
    char id[64], p[160], db[600], sql[300], err[200];

    (void)state;
    upload(owner, described, "pending_review", id);
    kit_check("DELETE", ipath(p, id, ""), owner, NULL, 200, NULL, "withdraw");
    snprintf(db, sizeof db, "%s/stockroom.db", srv.dir);
    snprintf(sql, sizeof sql,
             "UPDATE images SET off_sale_at = off_sale_at - 31 * 86400"
             " WHERE id = '%s'",
             id);
    assert_int_equal(tu_sql_exec(db, sql, err, sizeof err), 0);
    kit_check("POST", ipath(p, id, "/restore"), owner, NULL, 409,
              "restore_expired", "late restore");
    kit_check("POST", ipath(p, id, "/restore"), admin, NULL, 200, NULL,
              "admin restore");
}

/* ---- reports and take-downs ------------------------------------------- */

static void
test_report_takedown(void **state)
{
    char id[64], pend[64], lic[64], p[160], rp[160];
    const char *report;
    json_t *j, *e;

    (void)state;
    approved(id);
    buy_licence(id, lic);
    upload(owner, described, "pending_review", pend);
    kit_check("POST", ipath(p, id, "/reports"), NULL, "{\"reason\":\"spam\"}",
              422, "invalid_reason", "bad reason");
    kit_check("POST", ipath(p, pend, "/reports"), NULL,
              "{\"reason\":\"other\"}", 404, "not_found", "pending image");
    j = kit_want("POST", ipath(p, id, "/reports"), NULL,
                 "{\"reason\":\"copyright\",\"details\":\"My photo.\","
                 "\"contact_email\":\"me@example.com\"}",
                 201, NULL);
    kit_jstr(j, "id");
    json_decref(j);
    j = kit_want("POST", ipath(p, id, "/reports"), buyer,
                 "{\"reason\":\"other\"}", 201, NULL);
    snprintf(rp, sizeof rp, "/api/v1/admin/reports/%s/dismiss",
             kit_jstr(j, "id"));
    json_decref(j);
    /* Only admins see and close reports. */
    kit_check("GET", "/api/v1/admin/reports", NULL, NULL, 401,
              "unauthenticated", "anon list");
    kit_check("GET", "/api/v1/admin/reports", owner, NULL, 403, "forbidden",
              "contributor list");
    kit_check("GET", "/api/v1/admin/reports", reviewer, NULL, 403, "forbidden",
              "reviewer list");
    j = kit_want("GET", "/api/v1/admin/reports", admin, NULL, 200, NULL);
    report = NULL;
    for (size_t i = 0; i < json_array_size(json_object_get(j, "items")); i++) {
        e = json_array_get(json_object_get(j, "items"), i);
        if (!strcmp(kit_jstr(e, "image_id"), id) &&
            !strcmp(kit_jstr(e, "reason"), "copyright"))
            report = kit_jstr(e, "contact_email");
    }
    assert_non_null(report);
    assert_string_equal(report, "me@example.com");
    json_decref(j);
    kit_check("POST", rp, reviewer, "{}", 403, "forbidden", "reviewer dismiss");
    kit_check("POST", rp, admin, "{\"reason\":\"not a problem\"}", 200, NULL,
              "dismiss");
    kit_check("POST", rp, admin, "{}", 409, "report_closed", "dismiss twice");
    kit_check("POST", "/api/v1/admin/reports/rnope/dismiss", admin, "{}", 404,
              "not_found", "dismiss unknown");
    /* The take-down. */
    kit_check("POST", ipath(p, id, "/takedown"), owner, "{\"reason\":\"x\"}",
              403, "forbidden", "owner takedown");
    kit_check("POST", ipath(p, id, "/takedown"), reviewer, "{\"reason\":\"x\"}",
              403, "forbidden", "reviewer takedown");
    kit_check("POST", ipath(p, id, "/takedown"), admin, "{}", 422,
              "missing_field", "no reason");
    kit_check("POST", "/api/v1/images/inope/takedown", admin,
              "{\"reason\":\"x\"}", 404, "not_found", "unknown image");
    j = kit_want("POST", ipath(p, id, "/takedown"), admin,
                 "{\"reason\":\"Copyright claim by the author.\"}", 200, NULL);
    assert_string_equal(kit_jstr(j, "status"), "taken_down");
    assert_string_equal(kit_jstr(j, "off_sale_reason"),
                        "Copyright claim by the author.");
    json_decref(j);
    kit_check("POST", ipath(p, id, "/takedown"), admin, "{\"reason\":\"x\"}",
              409, "not_on_sale", "twice");
    kit_check("GET", ipath(p, id, ""), NULL, NULL, 410, "gone", "public page");
    download_ok(lic, "download after take-down");
    /* The owner sees why and may answer once; only an admin restores. */
    j = kit_want("GET", ipath(p, id, ""), owner, NULL, 200, NULL);
    assert_string_equal(kit_jstr(j, "off_sale_reason"),
                        "Copyright claim by the author.");
    json_decref(j);
    kit_check("POST", ipath(p, id, "/counter-notice"), other,
              "{\"statement\":\"Mine.\"}", 404, "not_found", "other notice");
    kit_check("POST", ipath(p, id, "/counter-notice"), owner, "{}", 422,
              "missing_field", "empty notice");
    kit_check("POST", ipath(p, id, "/counter-notice"), owner,
              "{\"statement\":\"I took this photo myself.\"}", 200, NULL,
              "notice");
    kit_check("POST", ipath(p, id, "/counter-notice"), owner,
              "{\"statement\":\"Again.\"}", 409, "not_taken_down",
              "notice twice");
    kit_check("POST", ipath(p, id, "/restore"), owner, NULL, 409,
              "not_off_sale", "owner restore");
    j = kit_want("POST", ipath(p, id, "/restore"), admin, NULL, 200, NULL);
    assert_string_equal(kit_jstr(j, "status"), "approved");
    json_decref(j);
    kit_check("GET", ipath(p, id, ""), NULL, NULL, 200, NULL, "back on sale");
    e = audit_line("takedown", id);
    assert_non_null(e);
    assert_string_equal(kit_jstr(e, "reason"),
                        "Copyright claim by the author.");
    json_decref(e);
    e = audit_line("restore", id);
    assert_non_null(e);
    json_decref(e);
    /* Licences stay valid unless an admin also refunds them: logged. */
    snprintf(p, sizeof p, "/api/v1/licences/%s/refund", lic);
    kit_check("POST", p, admin, NULL, 200, NULL, "refund");
    e = audit_line("refund", lic);
    assert_non_null(e);
    json_decref(e);
}

/* ---- appeals ---------------------------------------------------------- */

static void
test_appeal(void **state)
{
    char id[64], p[160];
    json_t *j;

    (void)state;
    upload(owner, described, "pending_review", id);
    kit_check("POST", ipath(p, id, "/appeal"), owner, "{\"message\":\"Why?\"}",
              409, "not_appealable", "not rejected");
    kit_check("POST", ipath(p, id, "/review"), reviewer,
              "{\"decision\":\"reject\",\"reason_code\":\"poor_quality\"}", 200,
              NULL, "reject");
    kit_check("POST", ipath(p, id, "/appeal"), other, "{\"message\":\"Why?\"}",
              404, "not_found", "other appeal");
    kit_check("POST", ipath(p, id, "/appeal"), reviewer,
              "{\"message\":\"Why?\"}", 404, "not_found", "reviewer appeal");
    kit_check("POST", ipath(p, id, "/appeal"), NULL, "{\"message\":\"Why?\"}",
              401, "unauthenticated", "anon appeal");
    kit_check("POST", ipath(p, id, "/appeal"), owner, "{}", 422,
              "missing_field", "empty appeal");
    j = kit_want("POST", ipath(p, id, "/appeal"), owner,
                 "{\"message\":\"It is sharp at full size.\"}", 200, NULL);
    assert_string_equal(kit_jstr(j, "status"), "pending_review");
    json_decref(j);
    kit_check("POST", ipath(p, id, "/review"), reviewer,
              "{\"decision\":\"approve\"}", 403, "same_reviewer",
              "same reviewer");
    kit_check("POST", ipath(p, id, "/review"), reviewer2,
              "{\"decision\":\"reject\",\"reason_code\":\"poor_quality\"}", 200,
              NULL, "upheld");
    kit_check("POST", ipath(p, id, "/appeal"), owner, "{\"message\":\"More\"}",
              409, "not_appealable", "appeal twice");
}

/* ---- suspensions ------------------------------------------------------ */

static void
test_suspension(void **state)
{
    char email[128], tok[128], csrf[64], uid[64], id[64], p[160], sp[160];
    json_t *j;
    const char *body = "{\"reason\":\"Repeated copyright claims.\"}";

    (void)state;
    tu_email("suspend", email, sizeof email);
    assert_int_equal(th_signup(&srv, email, PW, "Sam"), 201);
    assert_int_equal(th_login(&srv, email, PW, tok, csrf), 201);
    kit_my_id(tok, uid);
    upload(tok, described, "pending_review", id);
    kit_approve(tok, reviewer, id);
    snprintf(sp, sizeof sp, "/api/v1/admin/users/%s/suspension", uid);
    kit_check("POST", sp, NULL, body, 401, "unauthenticated", "anon");
    kit_check("POST", sp, owner, body, 403, "forbidden", "contributor");
    kit_check("POST", sp, reviewer, body, 403, "forbidden", "reviewer");
    kit_check("POST", sp, admin, "{}", 422, "missing_field", "no reason");
    kit_check("POST", "/api/v1/admin/users/unope/suspension", admin, body, 404,
              "not_found", "unknown user");
    kit_check("POST", sp, admin, body, 200, NULL, "suspend");
    kit_check("POST", sp, admin, body, 409, "already_suspended", "twice");
    /* Sessions ended, sign-in refused, photos off sale. */
    kit_check("GET", "/api/v1/me", tok, NULL, 401, "invalid_token",
              "old session");
    {
        struct th_resp r;
        char b[300];

        snprintf(b, sizeof b, "{\"email\":\"%s\",\"password\":\"%s\"}", email,
                 PW);
        kit_call("POST", "/api/v1/sessions", NULL, NULL, b, &r);
        kit_expect(&r, 403, "suspended", "sign in");
        th_resp_free(&r);
    }
    kit_check("GET", ipath(p, id, ""), NULL, NULL, 410, "gone", "photo");
    /* An admin cannot restore what a suspension holds. */
    kit_check("POST", ipath(p, id, "/restore"), admin, NULL, 409,
              "not_off_sale", "restore held");
    kit_check("DELETE", sp, reviewer, NULL, 403, "forbidden", "reviewer lift");
    kit_check("DELETE", sp, admin, NULL, 200, NULL, "lift");
    kit_check("DELETE", sp, admin, NULL, 409, "not_suspended", "lift twice");
    kit_check("GET", ipath(p, id, ""), NULL, NULL, 200, NULL, "back on sale");
    assert_int_equal(th_login(&srv, email, PW, tok, csrf), 201);
    j = audit_line("suspend", uid);
    assert_non_null(j);
    assert_string_equal(kit_jstr(j, "reason"), "Repeated copyright claims.");
    json_decref(j);
    j = audit_line("unsuspend", uid);
    assert_non_null(j);
    json_decref(j);
}

/* ---- the audit log ---------------------------------------------------- */

static void
test_audit_log(void **state)
{
    char id[64], db[600], sql[200], err[200];
    json_t *e;

    (void)state;
    upload(owner, described, "pending_review", id);
    kit_approve(owner, reviewer, id);
    e = audit_line("review_approve", id);
    assert_non_null(e);
    assert_string_equal(kit_jstr(json_object_get(e, "object"), "type"),
                        "image");
    json_decref(e);
    /* Staff made on the command line are recorded too. */
    e = audit_line("role_change", "");
    assert_non_null(e);
    assert_string_equal(kit_jstr(e, "actor_id"), "cli");
    json_decref(e);
    kit_check("GET", "/api/v1/admin/audit", NULL, NULL, 401, "unauthenticated",
              "anon");
    kit_check("GET", "/api/v1/admin/audit", owner, NULL, 403, "forbidden",
              "contributor");
    kit_check("GET", "/api/v1/admin/audit", reviewer, NULL, 403, "forbidden",
              "reviewer");
    kit_check("GET", "/api/v1/admin/audit?limit=0", admin, NULL, 422,
              "invalid_parameter", "bad limit");
    /* The schema refuses to change or remove a line, however asked. */
    snprintf(db, sizeof db, "%s/stockroom.db", srv.dir);
    assert_int_not_equal(
        tu_sql_exec(db, "UPDATE audit_log SET reason = 'x'", err, sizeof err),
        0);
    assert_non_null(strstr(err, "append-only"));
    assert_int_not_equal(
        tu_sql_exec(db, "DELETE FROM audit_log", err, sizeof err), 0);
    assert_non_null(strstr(err, "append-only"));
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO audit_log SELECT * FROM audit_log"
             " LIMIT 1");
    assert_int_not_equal(tu_sql_exec(db, sql, err, sizeof err), 0);
    assert_non_null(strstr(err, "append-only"));
    e = audit_line("review_approve", id);
    assert_non_null(e);
    json_decref(e);
}

/* What the console lists: users by email or name, photos in any state. */
static void
test_console_lists(void **state)
{
    char id[64];
    json_t *j, *items;
    int found = 0;

    (void)state;
    upload(owner, NULL, "draft", id);
    kit_check("GET", "/api/v1/admin/users", reviewer, NULL, 403, "forbidden",
              "reviewer users");
    kit_check("GET", "/api/v1/admin/users", NULL, NULL, 401, "unauthenticated",
              "anon users");
    kit_check("GET", "/api/v1/admin/images", owner, NULL, 403, "forbidden",
              "contributor images");
    kit_check("GET", "/api/v1/admin/images?status=nope", admin, NULL, 422,
              "invalid_parameter", "bad status");
    j = kit_want("GET", "/api/v1/admin/users?q=SUSPEND", admin, NULL, 200,
                 NULL);
    items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_true(json_is_boolean(
        json_object_get(json_array_get(items, 0), "suspended")));
    json_decref(j);
    j = kit_want("GET", "/api/v1/admin/images?status=draft&limit=100", admin,
                 NULL, 200, NULL);
    items = json_object_get(j, "items");
    for (size_t k = 0; k < json_array_size(items); k++) {
        assert_string_equal(kit_jstr(json_array_get(items, k), "status"),
                            "draft");
        found |= !strcmp(kit_jstr(json_array_get(items, k), "id"), id);
    }
    assert_true(found);
    json_decref(j);
}

/* Last: it uses up this client address's reports. */
static void
test_report_rate_limit(void **state)
{
    char id[64], p[160];
    struct th_resp r;
    long status = 0;
    int n;

    (void)state;
    approved(id);
    for (n = 0; n < 20; n++) {
        kit_call("POST", ipath(p, id, "/reports"), NULL, NULL,
                 "{\"reason\":\"other\"}", &r);
        status = r.status;
        if (status != 201)
            break;
        th_resp_free(&r);
    }
    kit_expect(&r, 429, "rate_limited", "report flood");
    th_resp_free(&r);
    assert_true(n <= 10);
    (void)status;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drafts),
        cmocka_unit_test(test_submit_batch),
        cmocka_unit_test(test_import_drafts),
        cmocka_unit_test(test_withdraw_restore),
        cmocka_unit_test(test_restore_window),
        cmocka_unit_test(test_report_takedown),
        cmocka_unit_test(test_appeal),
        cmocka_unit_test(test_suspension),
        cmocka_unit_test(test_audit_log),
        cmocka_unit_test(test_console_lists),
        cmocka_unit_test(test_report_rate_limit),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
