// Against a hostile server (../hostile_server.py): what it sends past the
// limits fails the call with an error naming it, what a call keeps is
// bounded by maxBuffer and by what we read, and an exit no process can
// have is an error, never an 'exit'.
'use strict';

const { before } = require('node:test');
const { test } = require('./compare');
const assert = require('node:assert');
const path = require('node:path');
const { promisify } = require('node:util');
const remote = require('..');
const { startRexecd } = require('./rexecd');

const MIB = 1 << 20;
const started = startRexecd([], { setEnv: false, binary: path.join(__dirname, '..', '..', 'hostile_server.py') });
let client;
before(async () => {
  client = remote.createClient({ server: await started });
});

// 'error' and then 'close' of a child whose call failed, and whether an
// 'exit' came.
const failure = (child) => new Promise((resolve) => {
  let error = null;
  let exited = false;
  child.on('error', (err) => { error = err; });
  child.on('exit', () => { exited = true; });
  child.on('close', () => resolve({ error, exited }));
});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('a message over the limit fails the call, naming the server and the limit', async () => {
  const server = await started;
  const want = `rexec: message from ${server} of ${64 * MIB + 5} bytes exceeds the receive limit of ${4 * MIB} bytes (createClient's receiveLimit)`;
  const { error, exited } = await failure(client.spawn('big-message'));
  assert.strictEqual(error.message, want);
  assert.strictEqual(error.code, remote.status.RESOURCE_EXHAUSTED);
  assert.strictEqual(exited, false);
  assert.strictEqual(client.spawnSync('big-message').error.message, want);
});

test("fork's calls take 32 MiB, the most a message of the channel takes", async () => {
  const server = await started;
  const { error } = await failure(client.fork('big-message'));
  assert.strictEqual(error.message,
    `rexec: message from ${server} of ${64 * MIB + 5} bytes exceeds the receive limit of ${32 * MIB} bytes (createClient's receiveLimit)`);
});

test('receiveLimit raises the limit', async () => {
  const raised = remote.createClient({ server: await started, receiveLimit: 65 * MIB });
  try {
    const { stdout } = await promisify(raised.execFile)('big-message', { encoding: 'buffer', maxBuffer: Infinity });
    assert.strictEqual(stdout.length, 64 * MIB);
  } finally {
    raised.close();
  }
  assert.throws(() => remote.createClient({ receiveLimit: 0 }), RangeError);
});

test('output past maxBuffer is not kept, and a success said after it is not believed', async () => {
  // The server sends 10 MiB then exit 0, whatever we say.
  const err = await promisify(client.execFile)('spill', [String(10 * MIB)], { encoding: 'buffer', maxBuffer: MIB })
    .then(() => null, (e) => e);
  assert.strictEqual(err && err.code, 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER');
  assert.strictEqual(err.stdout.length, MIB);
  const result = client.spawnSync('spill', [String(10 * MIB)], { maxBuffer: MIB });
  assert.strictEqual(result.error && result.error.code, 'ENOBUFS');
  // Node keeps what it read when the buffer filled: here a message more.
  assert.ok(result.stdout.length <= 2 * MIB, `kept ${result.stdout.length}`);
});

// How much the server's flood has sent so far, by its log.
function floodSent(log) {
  const counts = [...log.matchAll(/flood: sent (\d+)/g)];
  return counts.length ? Number(counts[counts.length - 1][1]) : 0;
}

test('a flood nobody reads stays on the server', async () => {
  const { log } = started;
  const before = process.memoryUsage().rss;
  const child = client.spawn('flood');
  // Until the server is held back (it has sent, and its count stands
  // still for a second) or has sent the GiB.
  let sent = 0;
  for (const deadline = Date.now() + 15000;
    (sent === 0 || floodSent(log()) !== sent) && sent < 1 << 30 && Date.now() < deadline;) {
    sent = floodSent(log());
    await sleep(1000);
  }
  const grown = process.memoryUsage().rss - before;
  assert.ok(sent > 0 && sent < 256 * MIB, `the server sent ${sent} bytes that nobody read`);
  assert.ok(grown < 200 * MIB, `${grown} bytes more resident`);
  const closed = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  child.kill('SIGKILL');
  child.stdout.resume();
  assert.deepStrictEqual(await closed, { code: null, signal: 'SIGKILL' });
});

test('an exit no process can have is an error, not an exit', async () => {
  const server = await started;
  for (const [program, said] of [
    [['exit', '300'], 'exit code 300, outside 0-255'],
    [['exit', '256'], 'exit code 256, outside 0-255'],
    [['exit', '-1'], 'exit code -1, outside 0-255'],
    [['signal', 'SIG99'], 'signal "SIG99", which Linux does not have'],
    [['signal', 'SIGNOPE'], 'signal "SIGNOPE", which Linux does not have'],
    [['no-status'], 'an exit with neither a code nor a signal'],
  ]) {
    const { error, exited } = await failure(client.spawn(program[0], program.slice(1)));
    assert.strictEqual(error && error.message, `rexec: ${server} sent ${said}`, program.join(' '));
    assert.strictEqual(exited, false, program.join(' '));
    const result = client.spawnSync(program[0], program.slice(1));
    assert.strictEqual(result.error && result.error.message, `rexec: ${server} sent ${said}`, program.join(' '));
    assert.strictEqual(result.status, null);
  }
});
