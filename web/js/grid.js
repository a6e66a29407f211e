// The justified grid of thumbnails used by search, similar images and
// lightboxes. Each tile's aspect ratio is a CSS variable, so rows fill the
// width without any inline style markup.
import { h, imageUrl } from './dom.js';

export function tile(item, { eager = false, onload } = {}) {
  const w = item.width || 3, hgt = item.height || 2;
  const r = Math.min(Math.max(w / hgt, 0.4), 3.5).toFixed(3);
  const title = item.title || 'Untitled photo';
  const img = h('img', {
    src: item.thumbnail_url || `/images/${item.id}/thumbnail.jpg`,
    alt: title, width: w >= hgt ? 240 : Math.round(240 * w / hgt), height: w >= hgt ? Math.round(240 * hgt / w) : 240,
    loading: eager ? 'eager' : 'lazy', decoding: 'async',
  });
  if (onload) {
    img.addEventListener('load', onload, { once: true });
    img.addEventListener('error', onload, { once: true });
  }
  return h('a', { class: 'tile', href: imageUrl(item.id), vars: { '--r': r }, dataset: { id: item.id } },
    img, item.editorial ? h('span', { class: 'badge editorial tile-label', text: 'Editorial' }) : null,
    h('span', { class: 'cap', 'aria-hidden': 'true' }, title,
      item.contributor && item.contributor.name ? ` · ${item.contributor.name}` : ''));
}
