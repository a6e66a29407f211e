/* Stockroom — catalogue search: user text made into a safe FTS5 query,
 * filters, three sorts with keyset cursors, similar images, contributor
 * profiles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catint.h"

#define WORD_MAX 64    /* bytes of one search word; longer is cut */
#define PHRASE_WORDS 8 /* words kept inside one quoted phrase */
#define PREFIX_MIN                                                             \
    3                  /* shorter last words expand to too many                \
                          terms to be worth a prefix query */
#define PREFIX_TERMS 8 /* vocabulary terms a prefix brings in */
#define MATCH_MAX                                                              \
    (CAT_QUERY_TERMS * (PHRASE_WORDS * (WORD_MAX + 1) + 32) +                  \
     (PREFIX_TERMS + 2) * (WORD_MAX + 16))
#define SIMILAR_DEFAULT 12
#define SIMILAR_KEYWORDS 16 /* keywords of the image used to find more */

/* From user text to an FTS5 expression. Everything user-typed ends up
 * inside "double quotes" (as FTS5 strings, where no character is an
 * operator), so no input can make MATCH fail. */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if it is
 * not one: overlong forms, surrogates and code points past U+10FFFF are
 * refused like stray bytes. */
static int
utf8_len(const unsigned char *s, size_t n)
{
    unsigned cp;
    int len;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if ((size_t)len > n)
        return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* ASCII letters and digits, and every valid non-ASCII character: the
 * unicode61 tokenizer splits the latter further by category, inside the
 * quotes, where that is harmless. */
static unsigned
utf8_cp(const unsigned char *s, int len)
{
    unsigned cp = s[0] & (0xff >> (len + 1));

    for (int i = 1; i < len; i++)
        cp = (cp << 6) | (s[i] & 0x3f);
    return cp;
}

/* Punctuation, symbols and emoji outside ASCII: the unicode61 tokenizer
 * makes no token of them, and a quoted term with no token in it matches
 * nothing, which would empty the whole search. The ranges are the blocks
 * made (almost) only of such characters. */
static int
symbol_cp(unsigned cp)
{
    static const struct {
        unsigned lo, hi;
    } ranges[] = {
        {0x80, 0xa9},     {0xab, 0xb1},       {0xb4, 0xb4},
        {0xb6, 0xb8},     {0xbb, 0xbb},       {0xbf, 0xbf},
        {0xd7, 0xd7},     {0xf7, 0xf7},       {0x2000, 0x206f},
        {0x20a0, 0x20ff}, {0x2100, 0x2101},   {0x2103, 0x2106},
        {0x2108, 0x2109}, {0x2114, 0x2114},   {0x2116, 0x2118},
        {0x211e, 0x2123}, {0x2125, 0x2125},   {0x2127, 0x2127},
        {0x2129, 0x2129}, {0x212e, 0x212e},   {0x213a, 0x213b},
        {0x2140, 0x2144}, {0x214a, 0x214d},   {0x214f, 0x214f},
        {0x2190, 0x245f}, {0x2500, 0x2775},   {0x2794, 0x2bff},
        {0x2e00, 0x2e7f}, {0x3000, 0x3004},   {0x3008, 0x3020},
        {0xfe00, 0xfe0f}, {0xfe30, 0xfe6f},   {0xff00, 0xff0f},
        {0xff1a, 0xff20}, {0xff3b, 0xff40},   {0xff5b, 0xff65},
        {0xfff0, 0xffff}, {0x1f000, 0x1faff}, {0xe0000, 0xe007f},
    };

    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        if (cp >= ranges[i].lo && cp <= ranges[i].hi)
            return 1;
    }
    return 0;
}

static int
word_char(const unsigned char *s, size_t n, int *len)
{
    *len = utf8_len(s, n);
    if (*len == 0) {
        *len = 1;
        return 0;
    }
    if (*len > 1)
        return !symbol_cp(utf8_cp(s, *len));
    return (s[0] >= '0' && s[0] <= '9') || (s[0] >= 'a' && s[0] <= 'z') ||
           (s[0] >= 'A' && s[0] <= 'Z');
}

static int
is_operator(const char *w, size_t n)
{
    return (n == 2 && memcmp(w, "OR", 2) == 0) ||
           (n == 3 && memcmp(w, "AND", 3) == 0) ||
           (n == 3 && memcmp(w, "NOT", 3) == 0) ||
           (n == 4 && memcmp(w, "NEAR", 4) == 0);
}

struct mbuf {
    char *p;
    size_t len, cap;
};

static void
put(struct mbuf *b, const char *s, size_t n)
{
    if (b->len + n < b->cap) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
    }
}

static void
puts_(struct mbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Build the MATCH expression for text into out (MATCH_MAX bytes). Returns
 * the number of terms, 0 when nothing searchable is left. When the text
 * ends in a bare word long enough for a prefix query, that word is left
 * out of out and copied to last (else last is ""). */
static int
match_build(const char *text, char *out, char last[WORD_MAX + 1])
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text), i = 0;
    struct mbuf b = {out, 0, MATCH_MAX};
    int terms = 0, in_phrase = 0, phrase_words = 0;
    size_t last_at = 0, last_len = 0; /* where the last bare word went */
    size_t phrase_at = 0;             /* where the open phrase began */

    out[0] = '\0';
    last[0] = '\0';
    while (i < n && terms < CAT_QUERY_TERMS) {
        size_t start = i, wlen;
        int len;

        if (s[i] == '"') {
            /* A phrase is one term; an unclosed one runs to the end. One
             * with no word in it is dropped: "" would match nothing. */
            if (in_phrase && phrase_words) {
                put(&b, "\"", 1);
                terms++;
            } else if (in_phrase) {
                b.len = phrase_at;
                out[b.len] = '\0';
            } else {
                phrase_at = b.len;
                put(&b, terms ? " \"" : "\"", terms ? 2 : 1);
                phrase_words = 0;
                last_len = 0;
            }
            in_phrase = !in_phrase;
            i++;
            continue;
        }
        if (!word_char(s + i, n - i, &len)) {
            i += (size_t)len;
            continue;
        }
        while (i < n && word_char(s + i, n - i, &len))
            i += (size_t)len;
        wlen = i - start;
        if (wlen > WORD_MAX) {
            /* Cut at a character boundary. */
            wlen = WORD_MAX;
            while (wlen > 0 && (s[start + wlen] & 0xc0) == 0x80)
                wlen--;
        }
        if (in_phrase) {
            if (phrase_words++ < PHRASE_WORDS) {
                if (phrase_words > 1)
                    put(&b, " ", 1);
                put(&b, text + start, wlen);
            }
            continue;
        }
        /* "title:" would be a column filter, AND/OR/NOT/NEAR operators:
         * a user means neither, and neither is a word to look for. */
        if ((i < n && s[i] == ':') || is_operator(text + start, wlen))
            continue;
        if (terms)
            put(&b, " ", 1);
        last_at = b.len;
        last_len = wlen;
        put(&b, "\"", 1);
        put(&b, text + start, wlen);
        put(&b, "\"", 1);
        terms++;
    }
    if (in_phrase && phrase_words) {
        put(&b, "\"", 1);
        terms++;
    } else if (in_phrase) {
        b.len = phrase_at;
        out[b.len] = '\0';
    } else if (last_len >= PREFIX_MIN && last_at + last_len + 2 == b.len) {
        /* Hand the last word back for prefix_group, which puts it last. */
        memcpy(last, out + last_at + 1, last_len);
        last[last_len] = '\0';
        b.len = last_at;
        out[b.len] = '\0';
    }
    return terms;
}

/* Append the last word as a prefix query: "word"*, and the indexed terms
 * that begin with it. The porter stemmer also rewrites a prefix ("bicy"
 * becomes "bici", which begins no stem of "bicycle"), so the terms are
 * looked up unstemmed in the vocabulary too. Both kinds cost: a prefix
 * merges the doclists of every term it covers, a term adds a phrase to
 * every bm25 score; hence PREFIX_TERMS. */
static int
prefix_group(sqlite3 *c, const char *word, struct mbuf *b, char err[DB_ERR_LEN])
{
    char lo[WORD_MAX + 1], hi[WORD_MAX + 1];
    size_t n = strlen(word);
    sqlite3_stmt *st = NULL;
    int rc = DB_OK, src, ascii = 1;

    for (size_t i = 0; i <= n; i++) {
        unsigned char ch = (unsigned char)word[i];

        ascii &= ch < 0x80;
        lo[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    puts_(b, b->len ? " AND (\"" : "(\"");
    put(b, word, n);
    puts_(b, "\"*");
    /* unicode61 folds more than ASCII case: other words keep the plain
     * prefix query only. */
    if (ascii) {
        memcpy(hi, lo, n + 1);
        hi[n - 1]++;
        rc = db_prepare(c,
                        "SELECT term FROM image_fts_terms"
                        " WHERE term >= ?1 AND term < ?2 LIMIT ?3",
                        &st, err);
    }
    if (ascii && rc == DB_OK) {
        sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, PREFIX_TERMS);
        while ((src = sqlite3_step(st)) == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(st, 0);

            puts_(b, " OR \"");
            for (; *t; t++)
                put(b, *t == '"' ? "\"\"" : t, *t == '"' ? 2 : 1);
            puts_(b, "\"");
        }
        if (src != SQLITE_DONE)
            rc = db_fail(c, src, "prefix terms", err);
    }
    puts_(b, ")");
    sqlite3_finalize(st);
    return rc;
}

/* Search. */

/* The sort a query really gets, and its cursor kind. */
static int
sort_kind(enum cat_sort sort, int has_text)
{
    if (sort == CAT_SORT_POPULAR)
        return CAT__CUR_POPULAR;
    if (sort == CAT_SORT_NEWEST || !has_text)
        return CAT__CUR_NEWEST;
    return CAT__CUR_RELEVANCE;
}

/* Append the filters of q to sql (named parameters, bound by bind_filters). */
static int
filters_sql(const struct cat_query *q, struct mbuf *sql, char err[DB_ERR_LEN])
{
    if (q->orientation && *q->orientation) {
        const char *f = cat__orientation_sql(q->orientation);

        if (!f) {
            snprintf(err, DB_ERR_LEN,
                     "orientation is landscape, portrait or square");
            return DB_EINVAL;
        }
        put(sql, f, strlen(f));
    }
    if (!(q->min_megapixels >= 0 && q->min_megapixels <= 1000)) {
        snprintf(err, DB_ERR_LEN, "min_megapixels out of range");
        return DB_EINVAL;
    }
    if (q->min_megapixels > 0) {
        const char *f = " AND i.width * i.height >= :pixels";

        put(sql, f, strlen(f));
    }
    if (q->colour && *q->colour) {
        const char *f = " AND i.colour = :colour";

        put(sql, f, strlen(f));
    }
    if (q->contributor_id && *q->contributor_id) {
        const char *f = " AND i.contributor_id = :contributor";

        put(sql, f, strlen(f));
    }
    if (q->editorial != CAT_EDITORIAL_ANY) {
        const char *f = q->editorial == CAT_EDITORIAL_ONLY
                            ? " AND i.editorial = 1"
                            : " AND i.editorial = 0";

        put(sql, f, strlen(f));
    }
    return DB_OK;
}

static int
has_filters(const struct cat_query *q)
{
    return (q->orientation && *q->orientation) || q->min_megapixels != 0 ||
           (q->colour && *q->colour) ||
           (q->contributor_id && *q->contributor_id) ||
           q->editorial != CAT_EDITORIAL_ANY;
}

static void
bind_named_text(sqlite3_stmt *st, const char *name, const char *v)
{
    int i = sqlite3_bind_parameter_index(st, name);

    if (i > 0)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void
bind_named_int(sqlite3_stmt *st, const char *name, int64_t v)
{
    int i = sqlite3_bind_parameter_index(st, name);

    if (i > 0)
        sqlite3_bind_int64(st, i, v);
}

/* Each sort's key expression, keyset condition and order. Relevance pages
 * inside the window (see search_sql), so its condition names the window's
 * columns. */
static const struct {
    int kind;
    const char *key, *after, *order;
} sorts[] = {
    {CAT__CUR_RELEVANCE, "w.rank",
     " AND (w0.rank > :key OR (w0.rank = :key AND w0.seq > :seq))",
     " ORDER BY w.rank, w.seq"},
    {CAT__CUR_NEWEST, "i.approved_at",
     " AND (i.approved_at, i.seq) < (:key, :seq)",
     " ORDER BY i.approved_at DESC, i.seq DESC LIMIT :limit"},
    {CAT__CUR_POPULAR, "i.licences_sold",
     " AND (i.licences_sold, i.seq) < (:key, :seq)",
     " ORDER BY i.licences_sold DESC, i.seq DESC LIMIT :limit"},
};

/* The statement of a search (sort s) into sql, its values left to named
 * parameters.
 *
 * With text, a window comes first: the newest CAT_TEXT_WINDOW matches, read
 * in FTS5's own rowid order (no sort), then filtered. So a common word
 * costs at most a window's worth of bm25 scores and row reads, whatever
 * the filters. FTS5 stays the outer loop: walking an index of every
 * approved image and probing FTS5 per row is far worse for any but the
 * commonest words. Relevance needs images only for the filters, so it
 * pages inside the window and reads the rows of one page only. */
static int
search_sql(const struct cat_query *q, int s, int terms, int has_cursor,
           struct mbuf *sql, char err[DB_ERR_LEN])
{
    int relevance = sorts[s].kind == CAT__CUR_RELEVANCE;
    int rc = DB_OK;

    puts_(sql, "SELECT " CAT__ITEM_COLS ", ");
    puts_(sql, sorts[s].key);
    puts_(sql, ", i.seq FROM ");
    if (!terms) {
        puts_(sql, "images i JOIN users u ON u.id = i.contributor_id"
                   " WHERE i.status = 'approved'");
        rc = filters_sql(q, sql, err);
    } else {
        puts_(sql, "(SELECT w0.seq AS seq, w0.rank AS rank FROM"
                   " (SELECT f.rowid AS seq, ");
        puts_(sql, relevance ? "f.rank" : "0");
        puts_(sql, " AS rank FROM image_fts f WHERE f.image_fts MATCH :match"
                   " ORDER BY f.rowid DESC LIMIT :window) w0");
        if (relevance && has_filters(q))
            puts_(sql, " CROSS JOIN images i ON i.seq = w0.seq");
        puts_(sql, " WHERE 1");
        if (relevance) {
            rc = filters_sql(q, sql, err);
            if (has_cursor)
                puts_(sql, sorts[s].after);
            puts_(sql, " ORDER BY w0.rank, w0.seq LIMIT :limit");
        }
        puts_(sql, ") w CROSS JOIN images i ON i.seq = w.seq"
                   " JOIN users u ON u.id = i.contributor_id WHERE 1");
        if (!relevance)
            rc = filters_sql(q, sql, err);
    }
    if (!relevance && has_cursor)
        puts_(sql, sorts[s].after);
    puts_(sql, sorts[s].order);
    return rc;
}

int
cat_search(struct db *db, const struct cat_query *q, struct cat_list *out,
           char err[DB_ERR_LEN])
{
    char match[MATCH_MAX], sqlbuf[2048], last[WORD_MAX + 1] = "";
    struct mbuf sql = {sqlbuf, 0, sizeof sqlbuf};
    struct mbuf mb = {match, 0, sizeof match};
    int terms = q->text ? match_build(q->text, match, last) : 0;
    int kind = sort_kind(q->sort, terms > 0), s = 0;
    int page = cat__page_size(q->limit);
    int64_t key = 0, seq = 0;
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    int rc, src, cur;

    while (sorts[s].kind != kind)
        s++;
    /* Read the cursor before emptying out: it may be out's own. */
    cur = cat__cursor_parse(q->cursor, kind, &key, &seq, err);
    memset(out, 0, sizeof *out);
    if (cur < 0)
        return cur;
    rc = search_sql(q, s, terms, cur == 0, &sql, err);
    if (rc != DB_OK)
        return rc;
    if (!terms)
        return cat__browse(db, q, kind, cur == 0, key, seq, page, out, err);

    c = db_conn_get(db);
    if (last[0]) {
        mb.len = strlen(match);
        rc = prefix_group(c, last, &mb, err);
        if (rc != DB_OK)
            goto out;
    }
    rc = db_prepare(c, sqlbuf, &st, err);
    if (rc != DB_OK)
        goto out;
    bind_named_text(st, ":match", match);
    bind_named_text(st, ":colour", q->colour);
    bind_named_text(st, ":contributor", q->contributor_id);
    bind_named_int(st, ":pixels", (int64_t)(q->min_megapixels * 1e6 + 0.5));
    bind_named_int(st, ":seq", seq);
    bind_named_int(st, ":limit", page + 1);
    bind_named_int(st, ":window", CAT_TEXT_WINDOW);
    if (kind == CAT__CUR_RELEVANCE) {
        double r;

        memcpy(&r, &key, sizeof r);
        sqlite3_bind_double(st, sqlite3_bind_parameter_index(st, ":key"), r);
    } else {
        bind_named_int(st, ":key", key);
    }
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        struct cat_item *it;

        if (out->n == page) {
            cat__cursor_make(out->next_cursor, kind, key, seq);
            break;
        }
        it = cat__list_push(out);
        if (!it) {
            snprintf(err, DB_ERR_LEN, "out of memory");
            rc = DB_EGENERIC;
            goto out;
        }
        cat__item_row(st, it);
        if (kind == CAT__CUR_RELEVANCE) {
            double r = sqlite3_column_double(st, CAT__ITEM_NCOLS);

            memcpy(&key, &r, sizeof key);
        } else {
            key = sqlite3_column_int64(st, CAT__ITEM_NCOLS);
        }
        seq = sqlite3_column_int64(st, CAT__ITEM_NCOLS + 1);
    }
    rc = src == SQLITE_ROW || src == SQLITE_DONE
             ? DB_OK
             : db_fail(c, src, "search", err);
out:
    sqlite3_finalize(st);
    if (c)
        db_conn_put(db, c);
    return rc;
}

/* Similar images. */

/* An FTS5 expression matching any of the comma-joined keywords in the
 * keywords column, each quoted with its quotes doubled. */
static void
keywords_match(const char *keywords, char *out)
{
    struct mbuf b = {out, 0, MATCH_MAX};
    const char *p = keywords;
    int n = 0;

    out[0] = '\0';
    put(&b, "keywords : (", 12);
    while (*p && n < SIMILAR_KEYWORDS) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);

        if (n++)
            put(&b, " OR ", 4);
        put(&b, "\"", 1);
        for (size_t i = 0; i < len; i++)
            put(&b, p[i] == '"' ? "\"\"" : p + i, p[i] == '"' ? 2 : 1);
        put(&b, "\"", 1);
        p = e ? e + 1 : p + len;
    }
    put(&b, ")", 1);
    if (n == 0)
        out[0] = '\0';
}

/* Append the rows of st not already in l, up to limit items. */
static int
similar_add(sqlite3 *c, sqlite3_stmt *st, int limit, struct cat_list *l,
            char err[DB_ERR_LEN])
{
    int src = SQLITE_DONE;

    while (l->n < limit && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        struct cat_item *it;
        int dup = 0;

        for (int i = 0; i < l->n && !dup; i++)
            dup = strcmp(l->items[i].id, id) == 0;
        if (dup)
            continue;
        it = cat__list_push(l);
        if (!it) {
            snprintf(err, DB_ERR_LEN, "out of memory");
            return DB_EGENERIC;
        }
        cat__item_row(st, it);
    }
    if (l->n < limit && src != SQLITE_DONE)
        return db_fail(c, src, "similar", err);
    return DB_OK;
}

int
cat_similar(struct db *db, const char *id, int limit, struct cat_list *out,
            char err[DB_ERR_LEN])
{
    char match[MATCH_MAX];
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    limit = limit <= 0 ? SIMILAR_DEFAULT : cat__page_size(limit);
    rc = db_prepare(c, "SELECT keywords FROM images WHERE id = ?1", &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        keywords_match((const char *)sqlite3_column_text(st, 0), match);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such image");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "similar", err);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != DB_OK)
        goto out;
    rc = db_prepare(c,
                    "SELECT " CAT__ITEM_COLS " FROM image_matches m"
                    " JOIN images i ON i.id = m.other_id"
                    " JOIN users u ON u.id = i.contributor_id"
                    " WHERE m.image_id = ?1 AND i.status = 'approved'"
                    " ORDER BY m.distance, i.seq LIMIT ?2",
                    &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit);
    rc = similar_add(c, st, limit, out, err);
    sqlite3_finalize(st);
    st = NULL;
    if (rc != DB_OK || out->n >= limit || !match[0])
        goto out;
    rc = db_prepare(c,
                    "SELECT " CAT__ITEM_COLS " FROM image_fts f"
                    " CROSS JOIN images i ON i.seq = f.rowid"
                    " JOIN users u ON u.id = i.contributor_id"
                    " WHERE f.image_fts MATCH ?1 AND i.id <> ?2"
                    " ORDER BY f.rank LIMIT ?3",
                    &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, 2 * limit);
    rc = similar_add(c, st, limit, out, err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
cat_contributor_profile(struct db *db, const char *contributor_id,
                        struct cat_profile *out, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(
        c,
        "SELECT u.id, u.name, u.created_at,"
        " (SELECT count(*) FROM images i WHERE i.contributor_id = u.id"
        "  AND i.status = 'approved'),"
        " (SELECT coalesce(sum(i.licences_sold), 0) FROM images i"
        "  WHERE i.contributor_id = u.id AND i.status = 'approved')"
        " FROM users u WHERE u.id = ?1",
        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, contributor_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        db_col_copy(st, 0, out->id, sizeof out->id);
        db_col_copy(st, 1, out->name, sizeof out->name);
        out->member_since = sqlite3_column_int64(st, 2);
        out->approved_images = sqlite3_column_int64(st, 3);
        out->licences_sold = sqlite3_column_int64(st, 4);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such contributor");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "profile", err);
    }
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}
