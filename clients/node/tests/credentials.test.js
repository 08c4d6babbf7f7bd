// TLS, mTLS and a bearer token, given as grpc-js credentials to
// createClient or read from the environment the rexec CLI reads.
'use strict';

const { before, after } = require('node:test');
const { test } = require('./compare');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const grpc = require('@grpc/grpc-js');
const remote = require('..');
const { startRexecd } = require('./rexecd');

const certs = fs.mkdtempSync(path.join(os.tmpdir(), 'rexec-node-tls-'));
execFileSync('bash', [path.join(__dirname, '..', '..', '..', 'tests', 'e2e', 'tls', 'make_certs.sh'), certs]);
after(() => fs.rmSync(certs, { recursive: true, force: true }));
const file = (name) => path.join(certs, name);
const read = (name) => fs.readFileSync(file(name));
const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');
fs.writeFileSync(file('tokens'), `deploy-bot ${sha256('good-token')}\n`);

const started = startRexecd(['--tls-cert', file('server.pem'), '--tls-key', file('server.key'),
  '--tls-client-ca', file('ca.pem'), '--token-file', file('tokens')], { setEnv: false });
before(() => started);

function run(client, command) {
  return new Promise((resolve) => {
    client.exec(command, (err, stdout) => resolve({ err, stdout }));
  });
}

test('mTLS and a token as grpc-js credentials', async () => {
  const client = remote.createClient({
    server: await started,
    credentials: grpc.credentials.createSsl(read('ca.pem'), read('client-uri.key'), read('client-uri.pem')),
    token: 'good-token',
  });
  assert.deepStrictEqual(await run(client, 'echo over tls'), { err: null, stdout: 'over tls\n' });

  const wrong = remote.createClient({
    server: await started,
    credentials: grpc.credentials.combineChannelCredentials(
      grpc.credentials.createSsl(read('ca.pem'), read('client-uri.key'), read('client-uri.pem')),
      remote.tokenCredentials('bad-token')),
  });
  const { err } = await run(wrong, 'true');
  assert.strictEqual(err.code, remote.status.UNAUTHENTICATED);
  assert.match(err.details, /token/);
  client.close();
  wrong.close();
});

test('with neither a client certificate nor a token the server refuses', async () => {
  const client = remote.createClient({
    server: await started, credentials: grpc.credentials.createSsl(read('ca.pem')),
  });
  const { err } = await run(client, 'true');
  assert.strictEqual(err.code, remote.status.UNAUTHENTICATED);
  assert.match(err.details, /client certificate or a bearer token/);
  client.close();
});

test('from the environment: REXEC_TLS_CA, REXEC_TLS_CERT/KEY, REXEC_TLS_SERVER_NAME, REXEC_TOKEN_FILE', async () => {
  fs.writeFileSync(file('token'), 'good-token\n');
  const saved = { ...process.env };
  try {
    Object.assign(process.env, {
      REXEC_SERVER: (await started).replace('127.0.0.1', 'localhost'),
      REXEC_TLS_CA: file('ca.pem'),
      REXEC_TLS_CERT: file('client-uri.pem'),
      REXEC_TLS_KEY: file('client-uri.key'),
      REXEC_TLS_SERVER_NAME: 'localhost',
      REXEC_TOKEN_FILE: file('token'),
    });
    const client = remote.createClient();
    assert.deepStrictEqual(await run(client, 'echo from env'), { err: null, stdout: 'from env\n' });
    client.close();

    process.env.REXEC_TLS_SERVER_NAME = 'not-the-server.example';
    const misnamed = remote.createClient();
    const { err } = await run(misnamed, 'true');
    assert.strictEqual(err.code, remote.status.UNAVAILABLE);
    misnamed.close();

    delete process.env.REXEC_TLS_KEY;
    assert.throws(() => remote.createClient(), /REXEC_TLS_CERT and REXEC_TLS_KEY go together/);
    process.env.REXEC_TLS_KEY = file('no-such.key');
    assert.throws(() => remote.createClient(), /REXEC_TLS_KEY .*no-such\.key/);
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
});

test('a token must be one line', () => {
  assert.throws(() => remote.tokenCredentials('a\nb'), TypeError);
  assert.throws(() => remote.tokenCredentials(''), TypeError);
});

test('an unmodified program under register.js reads REXEC_SERVER, REXEC_TLS_* and REXEC_TOKEN_FILE', async () => {
  fs.writeFileSync(file('token'), 'good-token\n');
  const result = require('node:child_process').spawnSync(process.execPath, [
    '-r', path.join(__dirname, '..', 'register.js'), path.join(__dirname, 'fixtures', 'unmodified.js'),
  ], {
    env: {
      ...process.env,
      REXEC_SERVER: (await started).replace('127.0.0.1', 'localhost'),
      REXEC_TLS_CA: file('ca.pem'),
      REXEC_TLS_SERVER_NAME: 'localhost',
      REXEC_TOKEN_FILE: file('token'),
    },
    encoding: 'utf8',
    timeout: 30000,
  });
  assert.strictEqual(result.stderr, '');
  const rexecd = String(started.pid);
  assert.strictEqual(result.stdout, `execSync ${rexecd}\nexecFile ${rexecd}\nspawn ${rexecd}\nfork ${rexecd}\n`);
});

test('without a server named, the client goes to rexecd\'s default socket', () => {
  const { resolveConnection } = require('../lib/credentials');
  assert.strictEqual(resolveConnection({}, {}).server, 'unix:/run/rexec/rexecd.sock');
});
