/* Stockroom — the catalogue's side of an outside blob store: which blobs
 * the rows name (for verify, gc and migrate), and a render job that waits
 * for the store instead of failing. Knows nothing of S3 or HTTP. */
#ifndef STOCKROOM_STORAGE_H
#define STOCKROOM_STORAGE_H

#include <stdint.h>

#include "db.h"

enum cat_ref_kind {
    CAT_REF_ORIGINAL, /* id: the image; sha256: the file's, in full */
    CAT_REF_THUMB,    /* sha256: the rendition's etag, its first 32 digits */
    CAT_REF_PREVIEW,
    CAT_REF_LICENSED /* id: the licence; sha256 in full */
};

/* One blob a row names. The strings live until the callback returns. */
struct cat_blob_ref {
    enum cat_ref_kind kind;
    const char *id;
    const char *sha256;
    int64_t size; /* known for originals, else -1 */
};

/* Call fn for every blob the database names, originals first; fn returns
 * 0 to go on, anything else stops the walk and is returned. A negative DB_
 * code on a database error. Rows come from one read transaction. */
int cat_blob_refs(struct db *db, int (*fn)(const struct cat_blob_ref *, void *),
                  void *arg, char err[DB_ERR_LEN]);

/* A running job could not reach the blob store: back to 'queued', not
 * claimable before not_before (unix seconds), and this claim does not
 * count against its attempts. DB_ENOTFOUND / DB_ECONFLICT as
 * cat_job_done. */
int cat_job_defer(struct db *db, const char *job_id, int64_t not_before,
                  const char *reason, char err[DB_ERR_LEN]) DB_WUR;

#endif
