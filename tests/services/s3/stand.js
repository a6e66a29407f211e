#!/usr/bin/env node
// Stockroom's stand-in for S3-compatible storage in tests: s3rver (real S3
// replies, but it does not check Signature V4) behind a front that
// recomputes every request's V4 signature with node's crypto, as AWS
// documents it, refuses a mismatch or an unsigned request with 403
// SignatureDoesNotMatch, and can inject faults.
//
//   node stand.js --dir DIR --port-file FILE [--access-key K --secret S]
//
// Writes "FRONT_PORT CONTROL_PORT" to FILE once both listen on 127.0.0.1.
// Control (plain HTTP, its own port):
//   POST /bucket?name=B                      create a bucket
//   POST /fault?mode=refuse|status|delay|cut|none[&status=503&code=SlowDown]
//        [&delay_ms=N][&count=N][&match=S]   count: requests affected (-1 all);
//                                            match: only URLs containing S
//   GET  /stats                    {"requests", "refused_signatures", "faulted"}
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const S3rver = require('s3rver');

function arg(name, dflt) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const dir = arg('dir');
const portFile = arg('port-file');
const accessKey = arg('access-key', 'stockroom-test-key');
const secret = arg('secret', 'stockroom-test-secret-0123456789');
if (!dir || !portFile) {
  process.stderr.write('usage: stand.js --dir DIR --port-file FILE\n');
  process.exit(2);
}

const stats = { requests: 0, refused_signatures: 0, faulted: 0 };
let fault = { mode: 'none', count: 0 };
let backendPort = 0;

function xmlError(res, status, code, message) {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' + code +
    '</Code><Message>' + message + '</Message></Error>';
  res.writeHead(status, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

// RFC 3986 encoding as SigV4 wants it: unreserved characters stay.
function uriEncode(s, keepSlash) {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function decode(s) {
  try {
    return decodeURIComponent(s.replace(/\+/g, '%2B'));
  } catch (e) {
    return null;
  }
}

function canonicalQuery(q) {
  if (!q) return '';
  const pairs = q.split('&').filter((p) => p.length).map((p) => {
    const eq = p.indexOf('=');
    const k = decode(eq < 0 ? p : p.slice(0, eq));
    const v = decode(eq < 0 ? '' : p.slice(eq + 1));
    return [uriEncode(k, false), uriEncode(v, false)];
  });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 :
    a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map((p) => p[0] + '=' + p[1]).join('&');
}

function hmac(key, data) {
  return crypto.createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256hex(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

// null when the request is signed correctly, else [status, code, message].
function verify(req, body) {
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return [403, 'SignatureDoesNotMatch', 'The request is not signed with AWS Signature V4.'];
  const [, akid, date, region, signedList, signature] = m;
  if (akid !== accessKey) return [403, 'InvalidAccessKeyId', 'The access key does not exist.'];
  const signed = signedList.split(';');
  const amzDate = req.headers['x-amz-date'] || '';
  if (!amzDate.startsWith(date)) return [403, 'SignatureDoesNotMatch', 'x-amz-date and the credential scope differ.'];
  const when = Date.parse(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (!(Math.abs(Date.now() - when) < 15 * 60 * 1000)) return [403, 'RequestTimeTooSkewed', 'The request time is too far from ours.'];
  if (!signed.includes('host')) return [403, 'SignatureDoesNotMatch', 'host is not signed.'];
  for (const h of Object.keys(req.headers)) {
    if (h.startsWith('x-amz-') && !signed.includes(h)) return [403, 'SignatureDoesNotMatch', h + ' is sent but not signed.'];
  }
  const payload = req.headers['x-amz-content-sha256'];
  if (!payload) return [403, 'SignatureDoesNotMatch', 'x-amz-content-sha256 is missing.'];
  const qpos = req.url.indexOf('?');
  const rawPath = qpos < 0 ? req.url : req.url.slice(0, qpos);
  const path = decode(rawPath);
  if (path === null) return [400, 'InvalidURI', 'The path is not valid percent-encoding.'];
  const headers = signed.map((h) => {
    const v = req.headers[h];
    if (v === undefined) return null;
    return h + ':' + String(v).trim().replace(/\s+/g, ' ') + '\n';
  });
  if (headers.includes(null)) return [403, 'SignatureDoesNotMatch', 'A signed header is missing.'];
  const canonical = [
    req.method,
    uriEncode(path, true),
    canonicalQuery(qpos < 0 ? '' : req.url.slice(qpos + 1)),
    headers.join(''),
    signedList,
    payload,
  ].join('\n');
  const scope = date + '/' + region + '/s3/aws4_request';
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonical)].join('\n');
  let key = hmac('AWS4' + secret, date);
  key = hmac(key, region);
  key = hmac(key, 's3');
  key = hmac(key, 'aws4_request');
  const expect = hmac(key, toSign).toString('hex');
  if (!crypto.timingSafeEqual(Buffer.from(expect), Buffer.from(signature))) {
    return [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'];
  }
  if (payload !== 'UNSIGNED-PAYLOAD' && payload !== sha256hex(body)) {
    return [400, 'XAmzContentSHA256Mismatch', 'The body does not match x-amz-content-sha256.'];
  }
  return null;
}

function takeFault(req) {
  if (fault.mode === 'none' || fault.count === 0) return null;
  if (fault.match && !req.url.includes(fault.match)) return null;
  if (fault.count > 0) fault.count--;
  stats.faulted++;
  return fault;
}

function forward(req, body, res, cut) {
  const headers = Object.assign({}, req.headers);
  delete headers.authorization;
  headers.host = '127.0.0.1:' + backendPort;
  const up = http.request({ host: '127.0.0.1', port: backendPort, method: req.method, path: req.url, headers }, (ur) => {
    const chunks = [];
    ur.on('data', (c) => chunks.push(c));
    ur.on('end', () => {
      const data = Buffer.concat(chunks);
      if (cut && data.length > 1) {
        // Promise the whole body, send half, hang up.
        res.writeHead(ur.statusCode, ur.headers);
        res.write(data.subarray(0, data.length >> 1));
        res.socket.destroy();
        return;
      }
      if (cut) {
        res.socket.destroy();
        return;
      }
      res.writeHead(ur.statusCode, ur.headers);
      res.end(data);
    });
  });
  up.on('error', (e) => xmlError(res, 502, 'InternalError', String(e)));
  up.end(body);
}

const sockets = new Set();
const front = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    stats.requests++;
    const bad = verify(req, body);
    if (bad) {
      stats.refused_signatures++;
      xmlError(res, bad[0], bad[1], bad[2]);
      return;
    }
    const f = takeFault(req);
    if (f && f.mode === 'status') {
      xmlError(res, f.status || 503, f.code || 'ServiceUnavailable', 'Injected fault.');
    } else if (f && f.mode === 'delay') {
      setTimeout(() => forward(req, body, res, false), f.delay_ms || 1000);
    } else if (f && f.mode === 'cut') {
      forward(req, body, res, true);
    } else {
      forward(req, body, res, false);
    }
  });
});
front.keepAliveTimeout = 30000;
front.on('connection', (s) => {
  if (fault.mode === 'refuse') {
    s.destroy();
    return;
  }
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});

let frontPort = 0;

// Refusing means nothing listens: close the port, and open it again on
// the same number when the fault is cleared.
function setRefuse(on, done) {
  if (on) {
    front.close();
    for (const s of sockets) s.destroy();
    done();
  } else if (!front.listening) {
    front.listen(frontPort, '127.0.0.1', done);
  } else {
    done();
  }
}

function backendRequest(method, path, cb) {
  const r = http.request({ host: '127.0.0.1', port: backendPort, method, path,
    headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }, (res) => {
    res.resume();
    res.on('end', () => cb(res.statusCode));
  });
  r.on('error', () => cb(502));
  r.end();
}

const control = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  const reply = (status, obj) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(obj));
  };
  if (req.method === 'GET' && u.pathname === '/stats') return reply(200, stats);
  if (req.method === 'POST' && u.pathname === '/bucket') {
    const name = u.searchParams.get('name') || '';
    if (!/^[a-z0-9][a-z0-9.-]{2,62}$/.test(name)) return reply(400, { error: 'bad name' });
    return backendRequest('PUT', '/' + name, (st) => reply(st === 200 || st === 409 ? 200 : 500, { status: st }));
  }
  if (req.method === 'POST' && u.pathname === '/fault') {
    const mode = u.searchParams.get('mode') || 'none';
    const next = {
      mode,
      status: Number(u.searchParams.get('status') || 503),
      code: u.searchParams.get('code') || 'ServiceUnavailable',
      delay_ms: Number(u.searchParams.get('delay_ms') || 1000),
      count: Number(u.searchParams.get('count') || -1),
      match: u.searchParams.get('match') || '',
    };
    if (!['none', 'refuse', 'status', 'delay', 'cut'].includes(mode)) return reply(400, { error: 'bad mode' });
    fault = next;
    return setRefuse(mode === 'refuse', () => reply(200, fault));
  }
  reply(404, { error: 'not found' });
});

async function main() {
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, vhostBuckets: false });
  const srv = await s3.run();
  backendPort = srv.port || s3.httpServer.address().port;
  await new Promise((r) => front.listen(0, '127.0.0.1', r));
  frontPort = front.address().port;
  await new Promise((r) => control.listen(0, '127.0.0.1', r));
  const tmp = portFile + '.tmp';
  fs.writeFileSync(tmp, frontPort + ' ' + control.address().port + '\n');
  fs.renameSync(tmp, portFile);
}

process.on('SIGTERM', () => process.exit(0));
// A test runner that died must not leave us behind.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1000).unref();
main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
