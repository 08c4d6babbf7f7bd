// An unmodified program, remote: `node -r @rexec/child_process/register`
// (or NODE_OPTIONS=--require ...) makes its child_process ours, however it
// loads it; its children are the server's (their parent is rexecd).
'use strict';

const { before } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startRexecd } = require('./rexecd');
const { test, local } = require('./compare');

const started = startRexecd();
before(() => started);

const PACKAGE = path.join(__dirname, '..');
const FIXTURES = path.join(__dirname, 'fixtures');

// Runs `node ARGS` with `env` added; the lines it printed, each
// "how ppid", as {how: ppid}.
function run(args, { env = {}, cwd = FIXTURES } = {}) {
  const result = local.spawnSync(process.execPath, args, {
    cwd, env: { ...process.env, ...env }, timeout: 30000, encoding: 'utf8',
  });
  assert.strictEqual(result.stderr, '');
  assert.strictEqual(result.status, 0);
  return Object.fromEntries(result.stdout.trim().split('\n').map((line) => line.split(' ')));
}

test('node -r register.js: require, require(node:) and fork in a CommonJS program run on the server', async () => {
  const rexecd = String((await started, started.pid));
  const seen = run(['-r', path.join(PACKAGE, 'register.js'), 'unmodified.js']);
  assert.deepStrictEqual(seen, { execSync: rexecd, execFile: rexecd, spawn: rexecd, fork: rexecd });
  // Without it, the same program's children are its own.
  const alone = run(['unmodified.js']);
  assert.notStrictEqual(alone.execSync, rexecd);
});

test('ESM: import of child_process and node:child_process, static and dynamic', async () => {
  const rexecd = String((await started, started.pid));
  const seen = run(['--require', path.join(PACKAGE, 'register.js'), 'unmodified.mjs']);
  assert.deepStrictEqual(seen, { default: rexecd, named: rexecd, dynamic: rexecd });
});

test('NODE_OPTIONS=--require @rexec/child_process/register, by the package\'s name', async () => {
  const rexecd = String((await started, started.pid));
  // Where npm would have installed it.
  const app = fs.mkdtempSync(path.join(os.tmpdir(), 'rexec-node-register-'));
  try {
    fs.mkdirSync(path.join(app, 'node_modules', '@rexec'), { recursive: true });
    fs.symlinkSync(PACKAGE, path.join(app, 'node_modules', '@rexec', 'child_process'));
    for (const name of ['unmodified.js', 'unmodified.mjs', 'ppid_child.js']) {
      fs.copyFileSync(path.join(FIXTURES, name), path.join(app, name));
    }
    const env = { NODE_OPTIONS: '--require @rexec/child_process/register' };
    assert.deepStrictEqual(run(['unmodified.js'], { env, cwd: app }),
      { execSync: rexecd, execFile: rexecd, spawn: rexecd, fork: rexecd });
    assert.deepStrictEqual(run(['unmodified.mjs'], { env, cwd: app }),
      { default: rexecd, named: rexecd, dynamic: rexecd });
  } finally {
    fs.rmSync(app, { recursive: true, force: true });
  }
});

test('process.getBuiltinModule and a worker thread get ours too', async () => {
  const rexecd = String((await started, started.pid));
  const program = `
    const cp = process.getBuiltinModule('child_process');
    console.log('builtin', cp.execSync('echo $PPID', { encoding: 'utf8' }).trim());
    const { Worker } = require('node:worker_threads');
    new Worker("console.log('worker', require('child_process').execSync('echo $PPID', { encoding: 'utf8' }).trim())",
      { eval: true });`;
  const seen = run(['-r', path.join(PACKAGE, 'register.js'), '-e', program]);
  assert.deepStrictEqual(seen, { builtin: rexecd, worker: rexecd });
});

test("Node's own internals keep the local module: cluster's workers are ours", () => {
  assert.deepStrictEqual(run(['-r', path.join(PACKAGE, 'register.js'), 'cluster_app.js']), { cluster: 'local' });
});
