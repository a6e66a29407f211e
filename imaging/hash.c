/* Stockroom imaging: difference hashes and dominant colour of a thumbnail.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <string.h>

#include "internal.h"

#define HASH_W 9
#define HASH_H 8

/* Where pixel (x, y) of the dihedral variant v of a w x h image comes
 * from, in the order of the IMG_DHASH_* indices. */
static void
variant_src(int v, int w, int h, int x, int y, int *sx, int *sy)
{
    switch (v) {
    case IMG_DHASH_ROT90:
        *sx = y;
        *sy = h - 1 - x;
        break;
    case IMG_DHASH_ROT180:
        *sx = w - 1 - x;
        *sy = h - 1 - y;
        break;
    case IMG_DHASH_ROT270:
        *sx = w - 1 - y;
        *sy = x;
        break;
    case IMG_DHASH_FLIP_H:
        *sx = w - 1 - x;
        *sy = y;
        break;
    case IMG_DHASH_FLIP_V:
        *sx = x;
        *sy = h - 1 - y;
        break;
    case IMG_DHASH_TRANSPOSE:
        *sx = y;
        *sy = x;
        break;
    case IMG_DHASH_TRANSVERSE:
        *sx = w - 1 - y;
        *sy = h - 1 - x;
        break;
    default:
        *sx = x;
        *sy = y;
        break;
    }
}

/* Box-average the variant down to 9 x 8 and set a bit wherever a cell is
 * brighter than its right-hand neighbour. Working on the 240 px grey
 * thumbnail makes the 8 variants cost one decode in all. */
static uint64_t
dhash_variant(const float *grey, int w, int h, int v)
{
    int swap = v == IMG_DHASH_ROT90 || v == IMG_DHASH_ROT270 ||
               v == IMG_DHASH_TRANSPOSE || v == IMG_DHASH_TRANSVERSE;
    int vw = swap ? h : w, vh = swap ? w : h;
    double cell[HASH_H][HASH_W];
    uint64_t hash = 0;
    int cx, cy, x, y, sx, sy;

    for (cy = 0; cy < HASH_H; cy++) {
        int y0 = cy * vh / HASH_H, y1 = (cy + 1) * vh / HASH_H;

        if (y1 <= y0)
            y1 = y0 + 1;
        for (cx = 0; cx < HASH_W; cx++) {
            int x0 = cx * vw / HASH_W, x1 = (cx + 1) * vw / HASH_W;
            double sum = 0;

            if (x1 <= x0)
                x1 = x0 + 1;
            for (y = y0; y < y1; y++)
                for (x = x0; x < x1; x++) {
                    variant_src(v, w, h, x, y, &sx, &sy);
                    sum += grey[(size_t)sy * w + sx];
                }
            cell[cy][cx] = sum / ((double)(x1 - x0) * (y1 - y0));
        }
    }
    for (cy = 0; cy < HASH_H; cy++)
        for (cx = 0; cx < HASH_W - 1; cx++)
            hash = hash << 1 | (cell[cy][cx] > cell[cy][cx + 1]);
    return hash;
}

void
img__dhash8(VipsImage *mem, uint64_t dhash[8])
{
    int w = vips_image_get_width(mem), h = vips_image_get_height(mem);
    float *grey = g_new(float, (size_t)w *h);
    int x, y, v;

    for (y = 0; y < h; y++) {
        const VipsPel *p = VIPS_IMAGE_ADDR(mem, 0, y);

        for (x = 0; x < w; x++, p += 3)
            grey[(size_t)y * w + x] =
                0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
    }
    for (v = 0; v < 8; v++)
        dhash[v] = dhash_variant(grey, w, h, v);
    g_free(grey);
}

int
img_dhash_distance(uint64_t a, uint64_t b)
{
    return __builtin_popcountll(a ^ b);
}

enum colour {
    RED,
    ORANGE,
    YELLOW,
    GREEN,
    TEAL,
    BLUE,
    PURPLE,
    PINK,
    BROWN,
    BLACK,
    WHITE,
    GREY,
    N_COLOURS
};

static const char *const colour_names[N_COLOURS] = {
    "red",    "orange", "yellow", "green", "teal",  "blue",
    "purple", "pink",   "brown",  "black", "white", "grey"};

/* The palette entry of one sRGB pixel, from its hue, saturation and value. */
static enum colour
classify(int r, int g, int b)
{
    int max = MAX(r, MAX(g, b)), min = MIN(r, MIN(g, b));
    double v = max / 255.0, s = max ? (double)(max - min) / max : 0, hue;

    if (v < 0.18)
        return BLACK;
    if (s < 0.18 || max - min < 24)
        return v > 0.85 ? WHITE : v < 0.3 ? BLACK : GREY;
    if (max == r)
        hue = fmod(60.0 * (g - b) / (max - min) + 360.0, 360.0);
    else if (max == g)
        hue = 60.0 * (b - r) / (max - min) + 120.0;
    else
        hue = 60.0 * (r - g) / (max - min) + 240.0;
    if (hue < 15 || hue >= 345)
        return v < 0.5 ? BROWN : s < 0.45 && v > 0.7 ? PINK : RED;
    if (hue < 45)
        return v < 0.6 ? BROWN : ORANGE;
    if (hue < 70)
        return YELLOW;
    if (hue < 160)
        return GREEN;
    if (hue < 200)
        return TEAL;
    if (hue < 260)
        return BLUE;
    if (hue < 290)
        return PURPLE;
    return PINK;
}

const char *
img__colour(VipsImage *mem)
{
    int w = vips_image_get_width(mem), h = vips_image_get_height(mem);
    unsigned long votes[N_COLOURS] = {0};
    int x, y, c, best = GREY;

    for (y = 0; y < h; y++) {
        const VipsPel *p = VIPS_IMAGE_ADDR(mem, 0, y);

        for (x = 0; x < w; x++, p += 3)
            votes[classify(p[0], p[1], p[2])]++;
    }
    for (c = 0; c < N_COLOURS; c++)
        if (votes[c] > votes[best])
            best = c;
    return colour_names[best];
}
