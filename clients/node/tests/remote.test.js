// What only a remote child_process has: backpressure across the call, the
// server chosen by REXEC_SERVER, options.server or createClient, gRPC errors
// as Node errors, detached sessions, 'inherit' over the network, and what
// cannot cross it refused clearly.
'use strict';

const { before } = require('node:test');
const { test } = require('./compare');
const assert = require('node:assert');
const path = require('node:path');
const local = require('node:child_process');
const remote = require('..');
const { startRexecd } = require('./rexecd');

const started = startRexecd();
before(() => started);

const exited = (child) => new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
const spawned = (child) => new Promise((resolve, reject) => {
  child.once('spawn', resolve);
  child.once('error', reject);
});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// `promise`, or a failure naming `what` after `ms`: a hang fails its test
// alone.
const within = (ms, what, promise) => Promise.race([promise, sleep(ms).then(() => {
  throw new Error(`${what}: nothing within ${ms} ms`);
})]);

test('stdout not read pauses the call: what waits here is bounded, then all of it comes', async () => {
  const size = 64 << 20;
  const child = remote.spawn('head', ['-c', String(size), '/dev/zero']);
  await spawned(child);
  await sleep(1500);
  // Unpaused, the whole 64 MiB would be buffered by now; paused, what
  // came before the pause took hold (server messages are up to 1 MiB).
  assert.ok(child.stdout.readableLength < 8 << 20, `buffered ${child.stdout.readableLength}`);
  assert.strictEqual(child.exitCode, null, 'the child must still be blocked writing');
  let got = 0;
  child.stdout.on('data', (chunk) => { got += chunk.length; });
  assert.deepStrictEqual(await exited(child), { code: 0, signal: null });
  assert.strictEqual(got, size);
});

test('stdin writes complete as the call sends them: a child that does not read holds them back', async () => {
  // Reads nothing for 5 s, then everything.
  const child = remote.spawn('sh', ['-c', 'sleep 5; exec cat >/dev/null']);
  await spawned(child);
  const chunk = Buffer.alloc(64 << 10, 'x');
  let accepted = 0;
  const deadline = Date.now() + 1500;
  while (Date.now() < deadline) {
    const more = child.stdin.write(chunk);
    accepted += chunk.length;
    if (!more) {
      const drained = await Promise.race([
        new Promise((resolve) => child.stdin.once('drain', () => resolve(true))),
        sleep(deadline - Date.now()).then(() => false),
      ]);
      if (!drained) break;
    }
  }
  // gRPC's window and the pipe hold a few MiB; without backpressure the
  // loop would have written GBs.
  assert.ok(accepted < 64 << 20, `accepted ${accepted}`);
  child.stdin.end();
  assert.deepStrictEqual(await exited(child), { code: 0, signal: null });
});

test('a kill is not stuck behind stdin the child does not read', async () => {
  // 10 MiB written without waiting, then kill(): rexecd reads past the
  // stdin that waits for the pipe, so the signal reaches the child.
  const child = remote.spawn('sleep', ['1000']);
  await spawned(child);
  const chunk = Buffer.alloc(64 << 10, 'x');
  for (let i = 0; i < 160; i++) child.stdin.write(chunk);
  assert.strictEqual(child.kill('SIGINT'), true);
  assert.deepStrictEqual(await within(15000, 'close', exited(child)), { code: null, signal: 'SIGINT' });
});

test('a child killed while its stdout is unread still exits and closes', async () => {
  const child = remote.spawn('yes');
  await spawned(child);
  await sleep(500); // the call pauses once a MiB waits unread
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal)));
  assert.strictEqual(child.kill(), true);
  assert.strictEqual(await within(10000, 'exit', exit), 'SIGTERM');
  assert.deepStrictEqual(await within(10000, 'close', exited(child)), { code: null, signal: 'SIGTERM' });
});

test('stderr is not held back by some unread stdout', async () => {
  const child = remote.spawn('sh', ['-c', 'head -c 40000 /dev/zero; echo ready >&2; read line; echo "$line" >&2']);
  const lines = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => {
    lines.push(text);
    if (text.includes('ready')) child.stdin.end('fed\n');
  });
  const closed = within(10000, 'ready on stderr, then the exit', exited(child));
  await closed.catch(() => child.kill('SIGKILL'));
  assert.deepStrictEqual(await closed, { code: 0, signal: null });
  assert.strictEqual(lines.join(''), 'ready\nfed\n');
});

test('a timeout holds even when its signal waits behind stdin the child does not read', async () => {
  const child = remote.spawn('sleep', ['30'], { timeout: 300 });
  await spawned(child);
  const chunk = Buffer.alloc(64 << 10);
  for (let i = 0; i < 64; i++) child.stdin.write(chunk); // 4 MiB, never read
  // The server's own timeout, a second after ours: a bounded wait.
  assert.deepStrictEqual(await within(15000, 'exit', exited(child)), { code: null, signal: 'SIGTERM' });
  assert.strictEqual(child.killed, true);
});

test("exec's and spawnSync's timeouts hold too when their signal waits behind unread stdin", async () => {
  // Only the server's own timeout can stop these: the SIGTERM sent from
  // here waits behind the 4 MiB the child never reads.
  const input = Buffer.alloc(4 << 20);
  const execd = remote.exec('sleep 30', { timeout: 300 });
  execd.stdin.write(input);
  assert.deepStrictEqual(await within(15000, 'exec exit', exited(execd)), { code: null, signal: 'SIGTERM' });
  const sync = remote.spawnSync('sleep', ['30'], { timeout: 300, input });
  assert.strictEqual(sync.signal, 'SIGTERM');
  assert.strictEqual(sync.error.code, 'ETIMEDOUT');
});

test('a failure no errno explains is the gRPC error, from the Sync forms too', () => {
  const unreachable = remote.createClient({ server: '127.0.0.1:1' });
  const { error, status, pid } = unreachable.spawnSync('true');
  assert.strictEqual(error.code, remote.status.UNAVAILABLE);
  assert.strictEqual(status, null);
  assert.strictEqual(pid, 0);
  assert.throws(() => unreachable.execSync('true'), { code: remote.status.UNAVAILABLE });
  unreachable.close();
});

test('a large stdin goes through whole', async () => {
  const child = remote.spawn('wc', ['-c']);
  let out = '';
  child.stdout.on('data', (chunk) => { out += chunk; });
  const chunk = Buffer.alloc(1 << 20, 'y');
  for (let i = 0; i < 16; i++) {
    if (!child.stdin.write(chunk)) await new Promise((resolve) => child.stdin.once('drain', resolve));
  }
  // One write larger than a gRPC message may be (4 MiB).
  child.stdin.end(Buffer.alloc(5 << 20, 'z'));
  assert.deepStrictEqual(await within(20000, 'exit', exited(child)), { code: 0, signal: null });
  assert.strictEqual(out.trim(), String(21 << 20));
});

test("stdio 'inherit' copies our stdin to the child and its output to ours, and lets us exit", () => {
  const program = `require(${JSON.stringify(path.join(__dirname, '..'))})
    .spawn('sh', ['-c', 'tr a-z A-Z; echo to-stderr >&2; exit 5'], { stdio: 'inherit' })
    .on('exit', (code) => { process.exitCode = code; });`;
  const result = local.spawnSync(process.execPath, ['-e', program], {
    input: 'through the network\n', env: process.env, timeout: 20000, encoding: 'utf8',
  });
  assert.strictEqual(result.error, undefined);
  assert.strictEqual(result.stdout, 'THROUGH THE NETWORK\n');
  assert.strictEqual(result.stderr, 'to-stderr\n');
  assert.strictEqual(result.status, 5);
});

test('streams in stdio stand for fds: output written to them, input read from them', async () => {
  const { PassThrough } = require('node:stream');
  const input = new PassThrough();
  const output = new PassThrough();
  let written = '';
  output.on('data', (chunk) => { written += chunk; });
  const child = remote.spawn('tr', ['a-z', 'A-Z'], { stdio: [input, output, 'pipe'] });
  assert.strictEqual(child.stdin, null);
  assert.strictEqual(child.stdout, null);
  input.end('given stream\n');
  assert.deepStrictEqual(await exited(child), { code: 0, signal: null });
  assert.strictEqual(written, 'GIVEN STREAM\n');
});

test('the server: REXEC_SERVER, options.server, or createClient({server})', async () => {
  const address = await started;
  const saved = process.env.REXEC_SERVER;
  try {
    // A client made from the environment reads it when made.
    process.env.REXEC_SERVER = '127.0.0.1:1';
    const wrong = remote.createClient();
    const failed = wrong.spawn('true');
    const [err, closed] = await Promise.all([
      new Promise((resolve) => failed.on('error', resolve)), exited(failed)]);
    assert.strictEqual(err.code, remote.status.UNAVAILABLE);
    assert.deepStrictEqual(closed, { code: null, signal: null });
    wrong.close();

    const viaOption = remote.spawn('true', { server: address });
    assert.deepStrictEqual(await exited(viaOption), { code: 0, signal: null });

    const client = remote.createClient({ server: address });
    const { stdout } = await require('node:util').promisify(client.exec)('echo made');
    assert.strictEqual(stdout, 'made\n');
    client.close();

    // A ChildProcess of a client's, spawned by hand, is that client's.
    const elsewhere = remote.createClient({ server: '127.0.0.1:1' });
    const byHand = new elsewhere.ChildProcess();
    assert.ok(byHand instanceof remote.ChildProcess);
    byHand.spawn({ file: 'true', args: ['true'] });
    const unreachable = await new Promise((resolve) => byHand.on('error', resolve));
    assert.strictEqual(unreachable.code, remote.status.UNAVAILABLE);
    elsewhere.close();
  } finally {
    process.env.REXEC_SERVER = saved;
  }
});

test('errors keep the gRPC status: cause.code and cause.details', async () => {
  const child = remote.spawn('rexec-no-such-program');
  const err = await new Promise((resolve) => child.on('error', resolve));
  assert.strictEqual(err.code, 'ENOENT');
  assert.strictEqual(err.cause.code, remote.status.NOT_FOUND);
  assert.match(err.cause.details, /rexec-no-such-program: not found in PATH/);
  const sync = remote.spawnSync('rexec-no-such-program');
  assert.strictEqual(sync.error.code, 'ENOENT');
  assert.strictEqual(sync.error.cause.code, remote.status.NOT_FOUND);
});

test('uid and gid name a user and group on the server', { skip: process.getuid() !== 0 && 'rexecd must be root to switch users' }, async () => {
  const child = remote.spawn('id', ['-u'], { uid: 65534, gid: 65534 });
  let out = '';
  child.stdout.on('data', (chunk) => { out += chunk; });
  assert.deepStrictEqual(await exited(child), { code: 0, signal: null });
  assert.strictEqual(out, '65534\n');
});

test('detached: a session that outlives the call; unref lets us go and it runs on', async () => {
  // Runs on well past the checks (rexecd stops it when the tests end).
  const child = remote.spawn('sh', ['-c', 'sleep 30; echo late'], { detached: true, stdio: 'ignore' });
  await spawned(child);
  assert.match(child.session, /^s\d+$/);
  child.unref();
  await sleep(200);
  // The session is there, running, after the call went.
  const grpc = require('@grpc/grpc-js');
  const Service = require('../lib/proto').childProcessService();
  const stub = new Service(await started, grpc.credentials.createInsecure());
  const list = await new Promise((resolve, reject) => stub.List({}, (err, reply) => (err ? reject(err) : resolve(reply))));
  stub.close();
  const session = list.sessions.find((s) => s.id === child.session);
  assert.ok(session, `${child.session} not in ${JSON.stringify(list.sessions)}`);
  assert.strictEqual(session.state, 'SESSION_STATE_RUNNING');
});

test('300 long-running children at once from one client all start', async () => {
  // rexecd takes 100 calls on one connection (--max-streams-per-connection)
  // and holds the next back: the client opens more connections.
  const children = Array.from({ length: 300 }, () => remote.spawn('sleep', ['30']));
  const all = Promise.all(children.map(spawned));
  try {
    await within(30000, 'all 300 started', all);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await within(30000, 'all 300 ended', Promise.all(children.map(exited)));
  }
});

test('what cannot cross the network is refused, naming it', () => {
  assert.throws(() => remote.spawn('ls', { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] }),
    { code: 'ERR_INVALID_ARG_VALUE', message: /options\.stdio\[3\]' cannot cross to a remote child/ });
  const { Pipe } = process.binding('pipe_wrap');
  assert.throws(() => remote.spawn('ls', { stdio: ['pipe', { _handle: new Pipe(0) }, 'pipe'] }),
    { code: 'ERR_INVALID_ARG_VALUE', message: /options\.stdio\[1\]' cannot cross/ });
  assert.throws(() => remote.fork('x.js', { serialization: 'advanced' }),
    { code: 'ERR_INVALID_ARG_VALUE', message: /'options.serialization' is not carried by rexecd/ });
  assert.throws(() => remote.spawn('node', ['x.js'], { stdio: ['pipe', 'pipe', 'pipe', 'ipc'], argv0: 'n' }),
    { code: 'ERR_INVALID_ARG_VALUE', message: /'options.argv0' cannot be given with an ipc channel/ });
  assert.throws(() => remote.fork('x.js', { argv0: 'n' }),
    { code: 'ERR_INVALID_ARG_VALUE', message: /'options.argv0' cannot be given with an ipc channel/ });
  assert.throws(() => remote.spawn('node', { stdio: ['pipe', 'pipe', 'pipe', 'ipc'] }),
    { code: 'ERR_INVALID_ARG_VALUE', message: /must name the module/ });
  assert.throws(() => remote.fork('x.js', { detached: true }),
    { code: 'ERR_INVALID_ARG_VALUE', message: /'options.detached' cannot be given with an ipc channel/ });
  const client = remote.createClient({ credentials: require('@grpc/grpc-js').credentials.createInsecure() });
  assert.throws(() => client.spawnSync('true'), { code: 'ERR_REXEC_SYNC_CREDENTIALS' });
  client.close();
  const child = remote.fork(path.join(__dirname, 'fixtures', 'echo_child.js'), { silent: true });
  assert.throws(() => child.send('x', require('node:net').createServer()),
    { code: 'ERR_INVALID_HANDLE_TYPE' });
  child.kill('SIGKILL');
});

test("fork: a message past the channel's bounds is refused before it is sent", async () => {
  const child = remote.fork(path.join(__dirname, 'fixtures', 'echo_child.js'), { silent: true });
  const nested = (levels) => {
    let value = 1;
    for (let i = 0; i < levels; i++) value = [value];
    return value;
  };
  const replies = [];
  child.on('message', (message) => replies.push(message));
  assert.throws(() => child.send(nested(33)), RangeError);
  assert.throws(() => child.send('x'.repeat(4 << 20)), RangeError);
  // 1.4 MB of JSON, 7 MB as a Value.
  assert.throws(() => child.send(new Array(700000).fill(1)), /as a google.protobuf.Value/);
  assert.throws(() => child.send(() => 1), TypeError);
  assert.throws(() => child.send({ s: '\ud83c' }), /well-formed Unicode/);
  // 1 MB of JSON from the child, 5.5 MB as a Value: it arrives.
  child.send({ make: 500000 });
  await within(10000, 'the large message', new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('error', reject);
  }));
  assert.strictEqual(replies[0].length, 500000);
  replies.length = 0;
  // The deepest the server takes still goes, and the child lives on.
  await new Promise((resolve) => child.send(nested(31), resolve));
  await new Promise((resolve) => child.once('message', resolve));
  assert.deepStrictEqual(replies[0].got, nested(31));
  child.send('bye');
  assert.deepStrictEqual(await exited(child), { code: 0, signal: null });
});
