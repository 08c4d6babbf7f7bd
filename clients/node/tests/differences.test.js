// The README's "Differences from the local module": one case per entry,
// showing what a remote child does (and where it helps, what a local one
// does instead).
'use strict';

const { before } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { startRexecd } = require('./rexecd');
const { test, local, remote } = require('./compare');

const started = startRexecd();
before(() => started);

const FIXTURES = path.join(__dirname, 'fixtures');
const exited = (child) => new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
const output = (child) => new Promise((resolve) => {
  let text = '';
  child.stdout.on('data', (chunk) => { text += chunk; });
  child.on('close', () => resolve(text));
});

// A channel child of `cp`'s, asked `question`; its answer.
function ask(cp, question, options = {}) {
  return new Promise((resolve) => {
    const child = cp.fork(path.join(FIXTURES, 'channel_child.js'), { execPath: 'node', ...options });
    child.once('message', (answer) => {
      child.send('bye');
      resolve(answer);
    });
    child.send(question);
  });
}

// Runs a program with `module` as `cp`; what it printed and its status.
function runProgram(module, body, { input, args = [] } = {}) {
  const result = local.spawnSync(process.execPath, [...args, '-e', `const cp = require(${JSON.stringify(module)});\n${body}`], {
    env: process.env, timeout: 30000, encoding: 'utf8', input,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
const MINE = path.join(__dirname, '..');

test('pid: known from the spawn event on, not when spawn() returns', async () => {
  const child = remote.spawn('true');
  assert.strictEqual(child.pid, undefined);
  await new Promise((resolve) => child.on('spawn', resolve));
  assert.ok(Number.isInteger(child.pid));
  assert.ok(Number.isInteger(local.spawn('true').pid));
});

test("env: without it, the server's environment, in no particular order", async () => {
  process.env.REXEC_TEST_ONLY_HERE = 'here';
  try {
    const script = 'echo "${REXEC_TEST_ONLY_HERE-unset}"';
    assert.strictEqual(await output(remote.spawn('sh', ['-c', script])), 'unset\n');
    assert.strictEqual(await output(local.spawn('sh', ['-c', script])), 'here\n');
  } finally {
    delete process.env.REXEC_TEST_ONLY_HERE;
  }
  const env = Object.fromEntries([...'ZYXWVUTSRQPONMLKJIHGFEDCBA'].map((key, i) => [key, i]));
  const given = Object.entries(env).map(([key, value]) => `${key}=${value}`);
  const mine = String(remote.spawnSync('env', { env }).stdout).trim().split('\n');
  assert.deepStrictEqual([...mine].sort(), [...given].sort());
  assert.notDeepStrictEqual(mine, given);
  assert.deepStrictEqual(String(local.spawnSync('env', { env }).stdout).trim().split('\n'), given);
});

test("cwd: without it, the server's working directory", async () => {
  const ours = process.cwd();
  process.chdir(os.tmpdir());
  try {
    assert.strictEqual(await output(remote.spawn('pwd')), `${ours}\n`);
    assert.strictEqual(await output(local.spawn('pwd')), `${fs.realpathSync(os.tmpdir())}\n`);
  } finally {
    process.chdir(ours);
  }
});

test("kill(): the child's process group, so its own children end with it", async () => {
  const child = remote.spawn('sh', ['-c', 'sleep 30 & echo $!; wait']);
  const grandchild = await new Promise((resolve) => child.stdout.once('data', (data) => resolve(Number(data))));
  child.kill();
  assert.deepStrictEqual(await exited(child), { code: null, signal: 'SIGTERM' });
  // Ended: gone, or a zombie not yet reaped.
  const ended = () => {
    try {
      return fs.readFileSync(`/proc/${grandchild}/stat`, 'utf8').split(') ')[1][0] === 'Z';
    } catch {
      return true;
    }
  };
  for (let i = 0; i < 200 && !ended(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(ended(), `the child's own child ${grandchild} still runs`);
  // A local kill() signals the child alone: its own child runs on.
  const mine = local.spawn('sh', ['-c', 'sleep 30 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const orphan = await new Promise((resolve) => mine.stdout.once('data', (data) => resolve(Number(data))));
  mine.kill();
  await new Promise((resolve) => mine.on('exit', resolve));
  assert.doesNotThrow(() => process.kill(orphan, 0));
  process.kill(orphan, 'SIGKILL');
});

test('stdin: a write the child no longer reads is dropped, without EPIPE', async () => {
  const writeAfterClose = (cp) => new Promise((resolve) => {
    const child = cp.spawn('sh', ['-c', 'exec 0<&-; echo closed; sleep 1']);
    let error = null;
    child.stdin.on('error', (err) => { error = err.code; });
    child.stdout.once('data', () => child.stdin.write('unread\n'));
    child.on('close', (code) => resolve({ code, error }));
  });
  assert.deepStrictEqual(await writeAfterClose(remote), { code: 0, error: null });
  assert.deepStrictEqual(await writeAfterClose(local), { code: 0, error: 'EPIPE' });
});

test("stdin 'inherit': what was read for the child and not taken by it is not given back", () => {
  const oneThenRest = `
    const taken = cp.spawnSync('dd', ['bs=1', 'count=3', 'status=none'], { stdio: ['inherit', 'pipe', 'pipe'] });
    process.stdout.write(taken.stdout);
    process.stdin.on('data', (data) => process.stdout.write('|' + data));`;
  assert.strictEqual(runProgram(MINE, oneThenRest, { input: 'abcdef' }).stdout, 'abc');
  assert.strictEqual(runProgram('node:child_process', oneThenRest, { input: 'abcdef' }).stdout, 'abc|def');
  const asynchronous = `
    const child = cp.spawn('dd', ['bs=1', 'count=3', 'status=none'], { stdio: ['inherit', 'pipe', 'pipe'] });
    child.stdout.pipe(process.stdout, { end: false });
    child.on('close', () => process.stdin.on('data', (data) => process.stdout.write('|' + data)));`;
  assert.strictEqual(runProgram(MINE, asynchronous, { input: 'abcdef' }).stdout, 'abc');
  assert.strictEqual(runProgram('node:child_process', asynchronous, { input: 'abcdef' }).stdout, 'abc|def');
});

test("stdio 'inherit' gives the child pipes to ours, not our terminal", () => {
  // `script` runs the program on a terminal of its own.
  const isatty = (module) => local.spawnSync('script', ['-qec', `${process.execPath} -e "require('${module}')
    .spawn('sh', ['-c', '[ -t 1 ] && echo terminal || echo pipe'], { stdio: 'inherit' })"`, '/dev/null'], {
    env: process.env, timeout: 30000, encoding: 'utf8',
  }).stdout.trim();
  assert.strictEqual(isatty(MINE), 'pipe');
  assert.strictEqual(isatty('node:child_process'), 'terminal');
});

test('stdin, stdout and stderr are stream.Duplex objects, not net.Socket', () => {
  const child = remote.spawn('true');
  assert.ok(child.stdout instanceof require('node:stream').Duplex);
  assert.ok(!(child.stdout instanceof net.Socket));
  assert.ok(local.spawn('true').stdout instanceof net.Socket);
});

test("'ipc' at any index of stdio is the child's fd 3 on the server", async () => {
  const sockets = (cp) => ask(cp, 'sockets', { stdio: ['ipc', 'ignore', 'ignore'] });
  assert.deepStrictEqual(await sockets(remote), [3]);
  assert.deepStrictEqual(await sockets(local), [0]);
});

test('detached: a session of its own; unref() lets it run on unwatched, with no exit or close here', async () => {
  const child = remote.spawn('sleep', ['0.5'], { detached: true, stdio: 'ignore' });
  const events = [];
  child.on('exit', () => events.push('exit'));
  child.on('close', () => events.push('close'));
  await new Promise((resolve) => child.on('spawn', resolve));
  assert.match(child.session, /^s\d+$/);
  child.unref();
  // The session runs on, unwatched, until the server says it ended.
  const grpc = require('@grpc/grpc-js');
  const Service = require('../lib/proto').childProcessService();
  const stub = new Service(await started, grpc.credentials.createInsecure());
  const state = () => new Promise((resolve, reject) => stub.List({}, (err, reply) => {
    if (err) return reject(err);
    const session = (reply.sessions || []).find((s) => s.id === child.session);
    return resolve(session ? session.state : 'gone');
  }));
  try {
    assert.strictEqual(await state(), 'SESSION_STATE_RUNNING');
    let seen = await state();
    for (let i = 0; i < 200 && seen === 'SESSION_STATE_RUNNING'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      seen = await state();
    }
    assert.strictEqual(seen, 'SESSION_STATE_ENDED');
  } finally {
    stub.close();
  }
  assert.deepStrictEqual(events, []);
});

test('a child not detached holds our process until it exits, unref() or not', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rexec-node-unref-'));
  try {
    const file = path.join(dir, 'done');
    const body = `cp.spawn('sh', ['-c', 'sleep 0.3; echo > ${file}'], { stdio: 'ignore' }).unref();`;
    runProgram(MINE, body);
    assert.ok(fs.existsSync(file), 'our process ended before the child');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("fork: the runtime is the server's --node (or execPath)", async () => {
  // A server whose runtime is echo: it prints what it was given.
  const echoing = startRexecd(['--node', '/bin/echo'], { setEnv: false });
  const child = remote.fork('module.js', ['a'], { silent: true, server: await echoing });
  assert.strictEqual(await output(child), 'module.js a\n');
  const given = remote.fork('module.js', ['b'], { silent: true, execPath: '/bin/echo' });
  assert.strictEqual(await output(given), 'module.js b\n');
});

test("fork: execArgv is only what is given (ours are this machine's)", async () => {
  const program = `
    const child = cp.fork(${JSON.stringify(path.join(FIXTURES, 'channel_child.js'))});
    child.on('message', (m) => { console.log(JSON.stringify(m)); child.send('bye'); });
    child.send('execArgv');`;
  const args = ['--stack-size=900'];
  assert.strictEqual(runProgram(MINE, program, { args }).stdout, '[]\n');
  assert.strictEqual(runProgram('node:child_process', program, { args }).stdout, '["--stack-size=900"]\n');
  assert.deepStrictEqual(await ask(remote, 'execArgv', { execArgv: ['--stack-size=800'] }), ['--stack-size=800']);
});

test("fork: an object's keys may arrive in another order", async () => {
  const backwards = Object.fromEntries([...'zyxwvutsrqponmlkjihgfedcba'].map((key, i) => [key, i]));
  const mine = await ask(remote, backwards);
  assert.deepStrictEqual(mine, backwards);
  assert.notDeepStrictEqual(Object.keys(mine), Object.keys(backwards));
  assert.deepStrictEqual(Object.keys(await ask(local, backwards)), Object.keys(backwards));
});

test("fork: messages of Node's own (a cmd starting NODE_) stay on the server", async () => {
  const internal = (cp) => new Promise((resolve) => {
    const child = cp.fork(path.join(FIXTURES, 'channel_child.js'), { execPath: 'node' });
    const seen = [];
    child.on('internalMessage', (message) => seen.push(['internal', message]));
    child.on('message', (message) => {
      seen.push(message);
      child.send('bye');
      resolve(seen);
    });
    child.send('internal');
  });
  assert.deepStrictEqual(await internal(remote), ['after']);
  assert.deepStrictEqual(await internal(local), [['internal', { cmd: 'NODE_REXEC_TEST' }], 'after']);
});

test("fork: after our disconnect(), 'close' comes once the child has exited (Node's never comes)", async () => {
  const child = remote.fork(path.join(FIXTURES, 'channel_child.js'), { silent: true });
  child.on('spawn', () => child.disconnect());
  assert.deepStrictEqual(await exited(child), { code: 0, signal: null });
});
