// Keepalive: a call to a server that froze (SIGSTOP) ends with an
// UNAVAILABLE 'error' within a bounded time, and the default keepalive is
// within a default rexecd's ping policy (no GOAWAY too_many_pings).
'use strict';

const { before, test } = require('node:test');
const assert = require('node:assert');
const remote = require('..');
const { startRexecd } = require('./rexecd');

// One server to freeze, one that runs throughout.
const frozen = startRexecd([], { setEnv: false });
const running = startRexecd([], { setEnv: false });
before(() => Promise.all([frozen, running]));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// `promise`, or a failure naming `what` after `ms`; the timer goes with it.
function within(ms, what, promise) {
  let timer;
  const late = new Promise((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
const spawned = (child) => new Promise((resolve, reject) => {
  child.once('spawn', resolve);
  child.once('error', reject);
});
// Whether `pid` is gone, polled for up to 10 s: the server runs here.
async function gone(pid) {
  for (let i = 0; i < 500; i++) {
    try {
      process.kill(pid, 0);
    } catch (err) {
      if (err.code === 'ESRCH') return true;
      throw err;
    }
    await sleep(20);
  }
  return false;
}

test('a call to a server that froze fails UNAVAILABLE', async () => {
  const client = remote.createClient({ server: await frozen, keepaliveTime: 1000, keepaliveTimeout: 1000 });
  const child = client.spawn('sleep', ['1000']);
  await spawned(child);
  const failed = new Promise((resolve) => child.once('error', resolve));
  const closed = new Promise((resolve) => child.once('close', resolve));
  process.kill(frozen.pid, 'SIGSTOP');
  try {
    const err = await within(30000, "the frozen server's call", failed);
    assert.strictEqual(err.code, remote.status.UNAVAILABLE, String(err));
    await within(10000, "'close'", closed);
  } finally {
    process.kill(frozen.pid, 'SIGCONT');
    client.close();
  }
  // Running again, the server finds the connection gone and stops the child.
  assert.ok(await gone(child.pid), `sleep (pid ${child.pid}) still runs`);
});

test("the default keepalive keeps a silent call to a default rexecd", async () => {
  // Pings come in seconds if a default were off by a unit, and the fourth
  // too soon would close the connection (GOAWAY too_many_pings).
  const client = remote.createClient({ server: await running });
  try {
    const child = client.spawn('sleep', ['12']);
    const errors = [];
    child.on('error', (err) => errors.push(err));
    const [code, signal] = await within(60000, 'sleep 12', new Promise((resolve) => {
      child.once('close', (...args) => resolve(args));
    }));
    assert.deepStrictEqual(errors, []);
    assert.deepStrictEqual([code, signal], [0, null]);
  } finally {
    client.close();
  }
});

test('keepaliveTime and keepaliveTimeout are checked', () => {
  for (const options of [{ keepaliveTime: -1 }, { keepaliveTime: 1.5 }, { keepaliveTime: '30s' },
    { keepaliveTimeout: 0 }, { keepaliveTimeout: 2 ** 31 }]) {
    assert.throws(() => remote.createClient({ server: '127.0.0.1:1', ...options }), RangeError,
      JSON.stringify(options));
  }
  remote.createClient({ server: '127.0.0.1:1', keepaliveTime: 0 }).close(); // no pings
});
