/* Stockroom — model and property releases: a contributor's signed forms
 * (the documents live in the blob store under releases/<id>; this module
 * keeps their records), attached to the images they cover; and what an
 * image declares it shows (recognisable people, private property) and
 * whether it is for editorial use only. */
#ifndef STOCKROOM_CAT_RELEASE_H
#define STOCKROOM_CAT_RELEASE_H

#include <stdint.h>

#include "catalog.h"

#define CAT_RELEASE_NAME_MAX 200
#define CAT_CAPTION_MAX 500

struct cat_release {
    char id[CAT_ID_LEN];
    char owner_id[CAT_ID_LEN];
    char kind[16]; /* model, property */
    char name[CAT_RELEASE_NAME_MAX + 1];
    char mime[CAT_SHORT_LEN];
    int64_t size;
    int64_t created_at;
};

/* Record a release whose document is stored already under id (made by the
 * caller: "rel" and 16 hex digits). DB_EINVAL for an unknown kind. */
int cat_release_create(struct db *db, const char *id, const char *owner_id,
                       const char *kind, const char *name, const char *mime,
                       int64_t size, char err[DB_ERR_LEN]) DB_WUR;

/* One release; DB_ENOTFOUND if absent. Who may read it is the caller's to
 * check (the owner, reviewers and admins only). */
int cat_release_get(struct db *db, const char *id, struct cat_release *out,
                    char err[DB_ERR_LEN]) DB_WUR;

/* The owner's releases, newest first (up to CAT_LIST_MAX), or an image's
 * attached ones (image_id not NULL, owner_id NULL): a new array in *out
 * (free()), count in *n. */
int cat_releases_list(struct db *db, const char *owner_id, const char *image_id,
                      struct cat_release **out, int *n,
                      char err[DB_ERR_LEN]) DB_WUR;

/* Attach (attach != 0) or detach a release of owner_id's to an image of
 * theirs. DB_ENOTFOUND unless both exist and are theirs; attaching twice
 * or detaching what is not attached is fine. */
int cat_release_attach(struct db *db, const char *image_id,
                       const char *release_id, const char *owner_id, int attach,
                       char err[DB_ERR_LEN]) DB_WUR;

/* What an image says of itself. */
struct cat_image_flags {
    int people, property, editorial;
    char caption[CAT_CAPTION_MAX + 1];
};

int cat_image_flags_get(struct db *db, const char *id,
                        struct cat_image_flags *out,
                        char err[DB_ERR_LEN]) DB_WUR;

/* Set people and property (each -1 to leave) of owner_id's image (NULL:
 * anyone's, for staff). DB_ENOTFOUND unless it exists (and is theirs). */
int cat_image_flags_set(struct db *db, const char *id, const char *owner_id,
                        int people, int property, char err[DB_ERR_LEN]) DB_WUR;

/* Mark an image editorial with its caption, at once (it only narrows what
 * may be sold); owner_id NULL for a reviewer. Turning it off (editorial 0)
 * sends an approved image back to review. DB_ENOTFOUND as above. */
int cat_image_editorial(struct db *db, const char *id, const char *owner_id,
                        int editorial, const char *caption,
                        char err[DB_ERR_LEN]) DB_WUR;

/* The terms of licence_id: *editorial 1 when it was sold for editorial
 * use only. The first call fixes them from image_id's flag at that moment
 * (the sale calls it at once); later calls read what was fixed. */
int cat_licence_editorial(struct db *db, const char *licence_id,
                          const char *image_id, int *editorial,
                          char err[DB_ERR_LEN]) DB_WUR;

#endif
