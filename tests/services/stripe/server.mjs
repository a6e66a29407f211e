// Stockroom — a fake Stripe API and hosted checkout page for the HTTP and
// browser tests. It speaks the endpoints Stockroom calls, as Stripe
// documents them: form-encoded bodies with bracketed keys, the secret key as
// Bearer or Basic auth, Idempotency-Key replaying the first reply, and
// {"error": {type, code, message}} on failure. Webhooks are signed with the
// official stripe package, so Stockroom's check meets Stripe's own code.
//
//   node server.mjs --port-file FILE [--port N]
//   env: FAKE_STRIPE_KEY, FAKE_STRIPE_WEBHOOK_SECRET, FAKE_STRIPE_WEBHOOK_URL
//
// Under /_control (no auth) the tests steer it: see CONTROL below.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import Stripe from 'stripe';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) =>
    a.startsWith('--') ? acc.concat([[a.slice(2), all[i + 1]]]) : acc, []));
const KEY = process.env.FAKE_STRIPE_KEY || 'sk_test_fake';
let webhookSecret = process.env.FAKE_STRIPE_WEBHOOK_SECRET || 'whsec_fake';
let webhookUrl = process.env.FAKE_STRIPE_WEBHOOK_URL || '';
const stripe = new Stripe(KEY);

const sessions = new Map();  // cs_... -> checkout session
const intents = new Map();   // pi_... -> {id, amount, refunded, charge, session}
const accounts = new Map();  // acct_... -> account
const transfers = new Map(); // tr_... -> transfer
const refunds = new Map();
const idem = new Map();      // key -> {hash, status, body}
const log = [];              // every API request, for assertions
// What the tests asked for: fail the next n API requests with status, delay
// them, or drop the connection; and how checkout delivers its webhook.
const faults = {fail: 0, failStatus: 500, delay: 0, delayMs: 0, drop: 0};
let deliver = 'before'; // before | after | none: webhook vs redirect
let refuseTransfers = false;
let base = '';

const id = (p) => p + '_test_' + crypto.randomBytes(12).toString('hex');
const now = () => Math.floor(Date.now() / 1000);

// a[b][0][c]=v into nested objects; numeric keys stay object keys and are
// turned into arrays afterwards, as Stripe reads them.
function parseForm(body) {
  const out = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const parts = k.split(/\[|\]\[|\]/).filter((s, i) => i === 0 || s !== '');
    let o = out;
    parts.forEach((p, i) => {
      if (i === parts.length - 1) o[p] = v;
      else o = o[p] ??= {};
    });
  }
  const arrays = (o) => {
    if (typeof o !== 'object') return o;
    const ks = Object.keys(o);
    for (const k of ks) o[k] = arrays(o[k]);
    if (ks.length && ks.every((k, i) => k === String(i))) return ks.map((k) => o[k]);
    return o;
  };
  return arrays(out);
}

function authOk(req) {
  const h = req.headers.authorization || '';
  if (h.startsWith('Bearer ')) return h.slice(7) === KEY;
  if (h.startsWith('Basic ')) {
    const user = Buffer.from(h.slice(6), 'base64').toString().split(':')[0];
    return user === KEY;
  }
  return false;
}

class StripeError extends Error {
  constructor(status, type, code, message, param) {
    super(message);
    Object.assign(this, {status, type, code, param});
  }
}
const missing = (what, v) => new StripeError(404, 'invalid_request_error',
  'resource_missing', `No such ${what}: '${v}'`, 'id');
const need = (p, name) => {
  if (p[name] === undefined || p[name] === '')
    throw new StripeError(400, 'invalid_request_error', 'parameter_missing',
      `Missing required param: ${name}.`, name);
  return p[name];
};

async function sendEvent(type, object, extra = {}) {
  const event = {
    id: id('evt'), object: 'event', api_version: '2024-06-20',
    created: now(), type, livemode: false, data: {object}, ...extra,
  };
  const payload = JSON.stringify(event);
  if (!webhookUrl) return {event, status: 0};
  const header = stripe.webhooks.generateTestHeaderString({payload, secret: webhookSecret});
  try {
    const r = await fetch(webhookUrl, {
      method: 'POST', body: payload,
      headers: {'content-type': 'application/json', 'stripe-signature': header},
    });
    return {event, status: r.status};
  } catch (e) {
    return {event, status: 0};
  }
}

function sessionFromParams(p) {
  need(p, 'mode');
  need(p, 'success_url');
  need(p, 'cancel_url');
  const items = need(p, 'line_items');
  if (p.mode !== 'payment')
    throw new StripeError(400, 'invalid_request_error', 'parameter_invalid_enum',
      'Invalid mode: only payment is faked.', 'mode');
  let total = 0, currency = null;
  for (const it of items) {
    const pd = it.price_data || {};
    if (!pd.currency || !pd.unit_amount || !(pd.product_data || {}).name)
      throw new StripeError(400, 'invalid_request_error', 'parameter_missing',
        'Missing required param: line_items[0][price_data].', 'line_items');
    total += Number(pd.unit_amount) * Number(it.quantity || 1);
    currency = pd.currency;
  }
  const s = {
    id: id('cs'), object: 'checkout.session', mode: 'payment', status: 'open',
    payment_status: 'unpaid', amount_total: total, currency,
    client_reference_id: p.client_reference_id || null,
    customer_email: p.customer_email || null, metadata: p.metadata || {},
    success_url: p.success_url, cancel_url: p.cancel_url,
    payment_intent: null, created: now(), expires_at: now() + 86400,
    livemode: false,
  };
  s.url = `${base}/pay/${s.id}`;
  sessions.set(s.id, s);
  return s;
}

function listSessions(q) {
  const gte = Number(q.get('created[gte]') || 0);
  const limit = Math.min(Number(q.get('limit') || 10), 100);
  let all = [...sessions.values()].filter((s) => s.created >= gte).reverse();
  const after = q.get('starting_after');
  if (after) all = all.slice(all.findIndex((s) => s.id === after) + 1);
  return {object: 'list', url: '/v1/checkout/sessions',
    data: all.slice(0, limit), has_more: all.length > limit};
}

async function refund(p) {
  const pi = intents.get(need(p, 'payment_intent'));
  if (!pi) throw missing('payment_intent', p.payment_intent);
  const amount = p.amount === undefined ? pi.amount - pi.refunded : Number(p.amount);
  if (amount <= 0 || pi.refunded + amount > pi.amount)
    throw new StripeError(400, 'invalid_request_error', 'charge_already_refunded',
      `Charge ${pi.charge} has already been refunded.`);
  pi.refunded += amount;
  const r = {id: id('re'), object: 'refund', amount, currency: 'usd',
    charge: pi.charge, payment_intent: pi.id, status: 'succeeded',
    metadata: p.metadata || {}, created: now()};
  refunds.set(r.id, r);
  setImmediate(() => sendEvent('charge.refunded', chargeOf(pi)));
  return r;
}

function chargeOf(pi) {
  return {id: pi.charge, object: 'charge', amount: pi.amount,
    amount_refunded: pi.refunded, refunded: pi.refunded === pi.amount,
    currency: 'usd', payment_intent: pi.id, status: 'succeeded',
    metadata: {purchase_id: pi.purchase_id || ''},
    payment_method_details: {type: 'card', card: {brand: 'visa', last4: '4242'}}};
}

function account(p) {
  if (need(p, 'type') !== 'express')
    throw new StripeError(400, 'invalid_request_error', 'parameter_invalid_enum',
      'Only express accounts are faked.', 'type');
  const a = {id: id('acct'), object: 'account', type: 'express',
    email: p.email || null, charges_enabled: false, payouts_enabled: false,
    details_submitted: false, metadata: p.metadata || {}, created: now()};
  accounts.set(a.id, a);
  return a;
}

function accountLink(p) {
  const a = accounts.get(need(p, 'account'));
  if (!a) throw missing('account', p.account);
  need(p, 'refresh_url');
  need(p, 'return_url');
  a.return_url = p.return_url;
  return {object: 'account_link', created: now(), expires_at: now() + 300,
    url: `${base}/onboard/${a.id}`};
}

function transfer(p) {
  const amount = Number(need(p, 'amount'));
  if (need(p, 'currency') !== 'usd')
    throw new StripeError(400, 'invalid_request_error', 'parameter_invalid', 'usd only', 'currency');
  const a = accounts.get(need(p, 'destination'));
  if (!a) throw missing('account', p.destination);
  if (refuseTransfers || !a.payouts_enabled)
    throw new StripeError(400, 'invalid_request_error', 'insufficient_capabilities_for_transfer',
      'Your destination account needs to have at least one of the following ' +
      'capabilities enabled: transfers, crypto_transfers, legacy_payments', 'destination');
  const t = {id: id('tr'), object: 'transfer', amount, currency: 'usd',
    destination: a.id, metadata: p.metadata || {}, reversed: false,
    amount_reversed: 0, created: now()};
  transfers.set(t.id, t);
  return t;
}

async function api(req, body) {
  const url = new URL(req.url, base);
  const p = parseForm(body);
  const m = req.method, path = url.pathname;
  let mm;
  if (m === 'POST' && path === '/v1/checkout/sessions') return sessionFromParams(p);
  if (m === 'GET' && path === '/v1/checkout/sessions') return listSessions(url.searchParams);
  if (m === 'GET' && (mm = path.match(/^\/v1\/checkout\/sessions\/([\w]+)$/))) {
    const s = sessions.get(mm[1]);
    if (!s) throw missing('checkout.session', mm[1]);
    return s;
  }
  if (m === 'GET' && (mm = path.match(/^\/v1\/payment_intents\/([\w]+)$/))) {
    const pi = intents.get(mm[1]);
    if (!pi) throw missing('payment_intent', mm[1]);
    const expand = url.searchParams.getAll('expand[]').includes('latest_charge');
    return {id: pi.id, object: 'payment_intent', amount: pi.amount,
      currency: 'usd', status: 'succeeded',
      latest_charge: expand ? chargeOf(pi) : pi.charge};
  }
  if (m === 'POST' && path === '/v1/refunds') return refund(p);
  if (m === 'POST' && path === '/v1/accounts') return account(p);
  if (m === 'GET' && (mm = path.match(/^\/v1\/accounts\/([\w]+)$/))) {
    const a = accounts.get(mm[1]);
    if (!a) throw missing('account', mm[1]);
    return a;
  }
  if (m === 'POST' && path === '/v1/account_links') return accountLink(p);
  if (m === 'POST' && path === '/v1/transfers') return transfer(p);
  throw new StripeError(404, 'invalid_request_error', 'resource_missing',
    `Unrecognized request URL (${m}: ${path}).`);
}

function send(res, status, obj, headers = {}) {
  const b = JSON.stringify(obj);
  res.writeHead(status, {'content-type': 'application/json',
    'request-id': id('req'), ...headers});
  res.end(b);
}

function page(res, html) {
  res.writeHead(200, {'content-type': 'text/html; charset=utf-8'});
  res.end(`<!doctype html><meta charset="utf-8"><title>Fake Stripe</title>${html}`);
}

function redirect(res, to) {
  res.writeHead(303, {location: to});
  res.end();
}

// The hosted pages: checkout (Pay, Cancel) and Connect onboarding.
async function hosted(req, res, url) {
  let mm;
  if (req.method === 'GET' && (mm = url.pathname.match(/^\/pay\/(\w+)$/))) {
    const s = sessions.get(mm[1]);
    if (!s) return send(res, 404, {error: 'no such session'});
    return page(res, `<h1>Pay $${(s.amount_total / 100).toFixed(2)}</h1>
<form method="post" action="/pay/${s.id}/pay"><button id="pay">Pay</button></form>
<form method="post" action="/pay/${s.id}/cancel"><button id="cancel">Cancel</button></form>`);
  }
  if (req.method === 'POST' && (mm = url.pathname.match(/^\/pay\/(\w+)\/(pay|cancel)$/))) {
    const s = sessions.get(mm[1]);
    if (!s || s.status !== 'open') return send(res, 409, {error: 'session not open'});
    if (mm[2] === 'cancel') return redirect(res, s.cancel_url);
    pay(s);
    const to = s.success_url.replace('{CHECKOUT_SESSION_ID}', s.id);
    if (deliver === 'before') await sendEvent('checkout.session.completed', s);
    redirect(res, to);
    if (deliver === 'after') setImmediate(() => sendEvent('checkout.session.completed', s));
    return;
  }
  if (req.method === 'GET' && (mm = url.pathname.match(/^\/onboard\/(\w+)$/))) {
    const a = accounts.get(mm[1]);
    if (!a) return send(res, 404, {error: 'no such account'});
    return page(res, `<h1>Onboarding</h1>
<form method="post" action="/onboard/${a.id}"><button id="finish">Finish</button></form>`);
  }
  if (req.method === 'POST' && (mm = url.pathname.match(/^\/onboard\/(\w+)$/))) {
    const a = accounts.get(mm[1]);
    if (!a) return send(res, 404, {error: 'no such account'});
    enable(a);
    await sendEvent('account.updated', a);
    return redirect(res, a.return_url || base);
  }
  send(res, 404, {error: 'not found'});
}

function pay(s) {
  const pi = {id: id('pi'), amount: s.amount_total, refunded: 0,
    charge: id('ch'), purchase_id: s.metadata.purchase_id};
  intents.set(pi.id, pi);
  Object.assign(s, {status: 'complete', payment_status: 'paid', payment_intent: pi.id});
}

function enable(a) {
  Object.assign(a, {details_submitted: true, charges_enabled: true, payouts_enabled: true});
}

// CONTROL: POST /_control/NAME with a JSON body.
//   faults {fail, failStatus, delay, delayMs, drop}   next n API requests
//   deliver {mode: before|after|none}                 checkout's webhook
//   webhook {url, secret}                             where events go
//   pay {session}          pay without the browser (webhook per deliver)
//   expire {session}       expire an open session, send the event
//   event {type, object}   send any event, signed
//   sign {payload, secret, timestamp}   -> {header}, signed by stripe-node
//   dispute {payment_intent, status: created|won|lost}
//   onboard {account}      finish onboarding, send account.updated
//   refuse_transfers {on}
//   reverse {transfer}     reverse a transfer, send transfer.reversed
//   GET /_control/log      every API request seen
async function control(name, p, res) {
  switch (name) {
  case 'faults': Object.assign(faults, p); return send(res, 200, faults);
  case 'deliver': deliver = p.mode; return send(res, 200, {deliver});
  case 'webhook':
    webhookUrl = p.url ?? webhookUrl;
    webhookSecret = p.secret ?? webhookSecret;
    return send(res, 200, {ok: true});
  case 'pay': {
    const s = sessions.get(p.session);
    if (!s) return send(res, 404, {error: 'no such session'});
    pay(s);
    const r = deliver === 'none' ? {status: 0} : await sendEvent('checkout.session.completed', s);
    return send(res, 200, {session: s, webhook_status: r.status});
  }
  case 'expire': {
    const s = sessions.get(p.session);
    if (!s) return send(res, 404, {error: 'no such session'});
    s.status = 'expired';
    const r = await sendEvent('checkout.session.expired', s);
    return send(res, 200, {session: s, webhook_status: r.status});
  }
  case 'event': {
    const r = await sendEvent(p.type, p.object, p.extra || {});
    return send(res, 200, {event: r.event, webhook_status: r.status});
  }
  case 'sign':
    return send(res, 200, {header: stripe.webhooks.generateTestHeaderString({
      payload: p.payload, secret: p.secret ?? webhookSecret,
      timestamp: p.timestamp ?? now()})});
  case 'dispute': {
    const pi = intents.get(p.payment_intent);
    if (!pi) return send(res, 404, {error: 'no such payment intent'});
    const d = {id: pi.dispute || id('dp'), object: 'dispute', amount: pi.amount,
      currency: 'usd', charge: pi.charge, payment_intent: pi.id,
      status: p.status === 'created' ? 'needs_response' : p.status,
      reason: 'fraudulent'};
    pi.dispute = d.id;
    const type = p.status === 'created' ? 'charge.dispute.created' : 'charge.dispute.closed';
    const r = await sendEvent(type, d);
    return send(res, 200, {dispute: d, webhook_status: r.status});
  }
  case 'onboard': {
    const a = accounts.get(p.account);
    if (!a) return send(res, 404, {error: 'no such account'});
    enable(a);
    const r = await sendEvent('account.updated', a);
    return send(res, 200, {account: a, webhook_status: r.status});
  }
  case 'refuse_transfers': refuseTransfers = !!p.on; return send(res, 200, {ok: true});
  case 'reverse': {
    const t = transfers.get(p.transfer);
    if (!t) return send(res, 404, {error: 'no such transfer'});
    Object.assign(t, {reversed: true, amount_reversed: t.amount});
    const r = await sendEvent('transfer.reversed', t);
    return send(res, 200, {transfer: t, webhook_status: r.status});
  }
  default: return send(res, 404, {error: 'no such control'});
  }
}

function readBody(req) {
  return new Promise((ok, fail) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => ok(Buffer.concat(parts).toString()));
    req.on('error', fail);
  });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, base);
  const body = await readBody(req);
  try {
    if (url.pathname === '/_control/log') return send(res, 200, {requests: log});
    if (url.pathname.startsWith('/_control/'))
      return await control(url.pathname.slice(10), body ? JSON.parse(body) : {}, res);
    if (!url.pathname.startsWith('/v1/')) return await hosted(req, res, url);
    const key = req.headers['idempotency-key'];
    log.push({method: req.method, path: url.pathname + url.search,
      params: parseForm(body), idempotency_key: key || null,
      stripe_version: req.headers['stripe-version'] || null});
    if (faults.drop > 0) {
      faults.drop--;
      return req.socket.destroy();
    }
    if (faults.delay > 0) {
      faults.delay--;
      await new Promise((ok) => setTimeout(ok, faults.delayMs));
    }
    if (faults.fail > 0) {
      faults.fail--;
      return send(res, faults.failStatus, {error: {type: 'api_error',
        message: 'The fake was told to fail this request.'}});
    }
    if (!authOk(req))
      return send(res, 401, {error: {type: 'invalid_request_error',
        message: 'Invalid API Key provided.'}});
    const hash = crypto.createHash('sha256').update(req.method + url.pathname + body).digest('hex');
    if (key && req.method === 'POST' && idem.has(key)) {
      const prev = idem.get(key);
      if (prev.hash !== hash)
        return send(res, 400, {error: {type: 'idempotency_error',
          message: 'Keys for idempotent requests can only be used with the same ' +
            'parameters they were first used with.'}});
      return send(res, prev.status, prev.body, {'idempotent-replayed': 'true'});
    }
    let status = 200, out;
    try {
      out = await api(req, body);
    } catch (e) {
      if (!(e instanceof StripeError)) throw e;
      status = e.status;
      out = {error: {type: e.type, code: e.code, message: e.message,
        ...(e.param ? {param: e.param} : {})}};
    }
    if (key && req.method === 'POST') idem.set(key, {hash, status, body: out});
    return send(res, status, out);
  } catch (e) {
    return send(res, 500, {error: {type: 'api_error', message: String(e)}});
  }
});

server.listen(Number(args.port || 0), '127.0.0.1', () => {
  const port = server.address().port;
  base = `http://127.0.0.1:${port}`;
  if (args['port-file']) {
    fs.writeFileSync(args['port-file'] + '.tmp', String(port));
    fs.renameSync(args['port-file'] + '.tmp', args['port-file']);
  }
  process.stdout.write(`fake stripe on ${base}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
