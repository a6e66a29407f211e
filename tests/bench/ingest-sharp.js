// The sharp reference for the ingest benchmark: the same two outputs as
// Stockroom (240 px thumbnail, 800 px preview with a tiled diagonal text
// watermark, upright, sRGB, no metadata), written the way a sharp user
// would: metadata(), then one pipeline per output, the watermark an SVG
// composited over the preview. sharp ships its own prebuilt libvips.
//
//   node ingest-sharp.js [--shard K/N] [--passes P] FILE...
'use strict';
const sharp = require('sharp');

sharp.cache(false);
sharp.concurrency(1);   // one thread per image: processes share the cores

function fit(w, h, edge) {
    const s = Math.min(1, edge / Math.max(w, h));
    return [Math.max(1, Math.floor(w * s)), Math.max(1, Math.floor(h * s))];
}

function watermarkSvg(w, h, seed) {
    const px = Math.max(12, Math.min(40, Math.floor(Math.max(w, h) / 32)));
    const angle = -(20 + (seed % 25));
    const text = 'Stockroom \u00b7 Bench Contributor   \u2022   ';
    const tile = Math.round(px * text.length * 0.62);
    return Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">` +
        `<defs><pattern id="p" width="${tile}" height="${3 * px}" ` +
        `patternUnits="userSpaceOnUse" patternTransform="rotate(${angle})">` +
        `<text x="0" y="${px}" font-family="DejaVu Sans" font-weight="bold" ` +
        `font-size="${px}" fill="white" fill-opacity="0.55">${text.replace(/&/g, '&amp;')}</text>` +
        `</pattern></defs><rect width="100%" height="100%" fill="url(#p)"/></svg>`);
}

async function one(path, seed) {
    const meta = await sharp(path).metadata();
    let w = meta.width, h = meta.height;
    if (meta.orientation >= 5)
        [w, h] = [h, w];
    const [pw, ph] = fit(w, h, 800);
    const preview = await sharp(path).rotate()
        .resize(800, 800, { fit: 'inside', withoutEnlargement: true })
        .toColourspace('srgb')
        .composite([{ input: watermarkSvg(pw, ph, seed), gravity: 'northwest' }])
        .jpeg({ quality: 82 }).toBuffer();
    const thumb = await sharp(path).rotate()
        .resize(240, 240, { fit: 'inside', withoutEnlargement: true })
        .toColourspace('srgb')
        .jpeg({ quality: 80 }).toBuffer();
    return preview.length + thumb.length;
}

async function main() {
    const args = process.argv.slice(2);
    let k = 0, n = 1, passes = 1;
    while (args.length && args[0].startsWith('--')) {
        const a = args.shift();
        if (a === '--shard')
            [k, n] = args.shift().split('/').map(Number);
        else if (a === '--passes')
            passes = Number(args.shift());
        else if (a === '--versions') {
            console.log(`sharp ${require('sharp/package.json').version} libvips ${sharp.versions.vips}`);
            return 0;
        } else
            throw new Error('bad argument ' + a);
    }
    let done = 0, failed = 0;
    for (let p = 0; p < passes; p++) {
        for (let i = 0; i < args.length; i++) {
            if ((i + p) % n !== k)
                continue;
            try {
                await one(args[i], i * 7919 + p);
                done++;
            } catch (e) {
                console.error(`ingest-sharp: ${args[i]}: ${e.message}`);
                failed++;
            }
        }
    }
    console.log(`images=${done} failed=${failed}`);
    return failed ? 1 : 0;
}

main().then((rc) => { process.exitCode = rc; },
            (e) => { console.error(e); process.exitCode = 1; });
