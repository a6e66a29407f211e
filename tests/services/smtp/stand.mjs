// Stockroom test stand-in for an SMTP server: smtp-server with STARTTLS
// (a self-signed certificate made at start) and AUTH, mailparser to read
// each message the way a mail client would. Every accepted message is
// written as parsed JSON to DIR/mail-N.json; every refused log-in to
// DIR/auth-refused-N.json. The bound port goes to DIR/port.
//
//   node stand.mjs --dir DIR [--port N] [--no-tls] [--user U --password P]
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

const args = process.argv.slice(2);
const opt = (name, def) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : def;
};
const dir = opt('dir');
const port = Number(opt('port', '0'));
const tls = !args.includes('--no-tls'); // --tls is the default
const user = opt('user', 'stockroom');
const password = opt('password', 'letmein-smtp');
if (!dir) {
    console.error('usage: stand.mjs --dir DIR [--port N] [--no-tls]');
    process.exit(2);
}

// Write whole, then rename: the C tests poll the folder.
let seq = 0;
const put = (prefix, value) => {
    seq += 1;
    const path = join(dir, `${prefix}-${seq}.json`);
    writeFileSync(`${path}.tmp`, JSON.stringify(value, null, 1));
    renameSync(`${path}.tmp`, path);
};

const options = {
    secure: false,
    disabledCommands: tls ? [] : ['STARTTLS'],
    allowInsecureAuth: !tls,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, session, cb) {
        if (auth.username === user && auth.password === password) {
            return cb(null, { user: auth.username });
        }
        put('auth-refused', { username: auth.username, tls: !!session.secure });
        return cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
        const chunks = [];
        stream.on('data', (c) => chunks.push(c));
        stream.on('end', async () => {
            const raw = Buffer.concat(chunks);
            try {
                const m = await simpleParser(raw);
                const headers = {};
                for (const [k, v] of m.headers) {
                    headers[k] = typeof v === 'string' ? v : JSON.stringify(v);
                }
                put('mail', {
                    envelope: {
                        from: session.envelope.mailFrom.address,
                        to: session.envelope.rcptTo.map((r) => r.address),
                    },
                    tls: !!session.secure,
                    user: session.user || null,
                    from: m.from ? m.from.text : null,
                    to: m.to ? m.to.value : [],
                    subject: m.subject,
                    messageId: m.messageId,
                    date: m.date,
                    text: m.text,
                    html: m.html,
                    headers,
                    contentType: m.headers.get('content-type'),
                    raw: raw.toString('utf8'),
                });
                cb();
            } catch (e) {
                cb(e);
            }
        });
    },
};

if (tls) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
        '-days', '2', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { stdio: 'ignore' });
    options.key = readFileSync(join(dir, 'key.pem'));
    options.cert = readFileSync(join(dir, 'cert.pem'));
}

const server = new SMTPServer(options);
server.on('error', (e) => console.error('smtp stand:', e.message));
server.listen(port, '127.0.0.1', () => {
    writeFileSync(join(dir, 'port.tmp'), String(server.server.address().port));
    renameSync(join(dir, 'port.tmp'), join(dir, 'port'));
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
