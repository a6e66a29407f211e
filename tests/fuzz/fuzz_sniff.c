/* Stockroom fuzz target: the format sniffer and the whole-file scan
 * (imaging/sniff.c) on the raw bytes of an upload. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy, so that ASan sees any read past the file's end. */
    unsigned char *p = malloc(size ? size : 1);
    char err[IMG_ERR_LEN] = "";
    uint64_t w = 0, h = 0;
    enum img_format f;
    int rc;

    if (!p)
        return 0;
    memcpy(p, data, size);
    f = img__sniff(p, size);
    if (f) {
        if (!img__mime(p, size, f))
            abort();
        rc = img__scan(p, size, f, &w, &h, err);
        if (rc != 0 && rc != IMG_EEMBEDDED && rc != IMG_EUNSUPPORTED)
            abort();
        if (rc != 0 && !err[0])
            abort();
    }
    free(p);
    return 0;
}
