// Labelled fields with their own error line, and the mapping of the
// server's error codes onto the field they are about.
import { h, fill } from './dom.js';

export function field(id, label, attrs = {}, hint) {
  const input = attrs.tag === 'textarea' ? h('textarea', { id, name: id, ...attrs, tag: null }) : h('input', { id, name: id, type: 'text', ...attrs });
  const err = h('div', { class: 'field-error', id: `${id}-error`, hidden: true });
  const desc = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' ');
  input.setAttribute('aria-describedby', desc);
  return h('div', { class: 'field' }, h('label', { for: id, text: label }),
    hint ? h('div', { class: 'hint', id: `${id}-hint`, text: hint }) : null, input, err);
}

export function clearErrors(form) {
  for (const e of form.querySelectorAll('.field-error')) { e.hidden = true; e.textContent = ''; }
  for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
  const s = form.querySelector('.form-error');
  if (s) fill(s);
}

export function setFieldError(form, name, message) {
  const input = form.querySelector(`[name="${name}"]`);
  const err = form.querySelector(`#${name}-error`);
  if (!input || !err) return false;
  input.setAttribute('aria-invalid', 'true');
  err.textContent = message;
  err.hidden = false;
  return true;
}

// codes: { error_code: field }. 422 missing_field/invalid_field name the
// field in their message ('email'), so those find their field too.
export function showError(form, err, codes = {}) {
  let name = codes[err.code];
  if (!name && (err.code === 'missing_field' || err.code === 'invalid_field')) {
    const m = /'([a-z_]+)'/.exec(err.message);
    if (m) name = m[1];
  }
  let first = null;
  if (name && setFieldError(form, name, err.message)) first = form.querySelector(`[name="${name}"]`);
  else {
    const s = form.querySelector('.form-error');
    if (s) fill(s, h('div', { class: 'notice error', role: 'alert', text: err.message }));
  }
  if (first) first.focus();
}
