// spawnSync, execSync and execFileSync, side by side with Node's: the
// result's shape, input, encoding, timeout, killSignal, maxBuffer, the
// errors, and output to our own fds while the caller is blocked.
'use strict';

const { before } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { startRexecd } = require('./rexecd');
const { test, local, remote, errorFields, thrownBy } = require('./compare');

const started = startRexecd();
before(() => started);

// `scenario` run with each module in turn (a synchronous one cannot run
// both at once); they must give the same.
function sameAsNodeSync(scenario) {
  const mine = scenario(remote);
  const theirs = scenario(local);
  assert.deepStrictEqual(mine, theirs);
  return mine;
}

// A spawnSync result as a program would look at it: its keys in order,
// the pid's type, an error's fields.
function shape(result) {
  return {
    ...result,
    keys: Object.keys(result),
    pid: typeof result.pid,
    error: result.error && errorFields(result.error),
  };
}

test('spawnSync: status, signal, output, pid, stdout and stderr, as Buffers or in an encoding', () => {
  const seen = sameAsNodeSync((cp) => ({
    buffers: shape(cp.spawnSync('sh', ['-c', 'echo out; echo err >&2; exit 3'])),
    utf8: shape(cp.spawnSync('sh', ['-c', 'printf "\\303\\251"; echo err >&2'], { encoding: 'utf8' })),
    hex: shape(cp.spawnSync('printf', ['ab'], { encoding: 'hex' })),
    signal: shape(cp.spawnSync('sh', ['-c', 'kill -USR2 $$'])),
    ignored: shape(cp.spawnSync('sh', ['-c', 'echo out; echo err >&2'], { stdio: ['pipe', 'ignore', 'pipe'] })),
    options: shape(cp.spawnSync('sh', ['-c', 'echo "$0" $X; pwd'], {
      argv0: 'named', cwd: '/usr', env: { X: 'from-env' }, encoding: 'utf8',
    })),
    shell: shape(cp.spawnSync('echo $((6 * 7))', { shell: true, encoding: 'latin1' })),
  }));
  assert.deepStrictEqual(seen.buffers.keys, ['status', 'signal', 'output', 'pid', 'stdout', 'stderr']);
  assert.deepStrictEqual(seen.buffers.output, [null, Buffer.from('out\n'), Buffer.from('err\n')]);
  assert.strictEqual(seen.buffers.status, 3);
  assert.strictEqual(seen.utf8.stdout, 'é');
  assert.strictEqual(seen.signal.signal, 'SIGUSR2');
  assert.strictEqual(seen.ignored.stdout, null);
  assert.strictEqual(seen.options.stdout, 'named from-env\n/usr\n');
});

test('spawnSync: input as a string, Buffer, TypedArray or DataView; anything else throws', () => {
  const bytes = Buffer.from('bytes in\n');
  const seen = sameAsNodeSync((cp) => ({
    string: shape(cp.spawnSync('cat', { input: 'text in\n', encoding: 'utf8' })),
    buffer: shape(cp.spawnSync('cat', { input: bytes })),
    typed: shape(cp.spawnSync('cat', { input: new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 8)) })),
    view: shape(cp.spawnSync('cat', { input: new DataView(bytes.buffer, bytes.byteOffset, bytes.length) })),
    large: cp.spawnSync('wc', ['-c'], { input: Buffer.alloc(6 << 20), encoding: 'utf8' }).stdout.trim(),
    number: thrownBy(() => cp.spawnSync('cat', { input: 1234 })),
  }));
  assert.strictEqual(seen.string.stdout, 'text in\n');
  assert.strictEqual(seen.large, String(6 << 20));
  assert.strictEqual(seen.number.code, 'ERR_INVALID_ARG_TYPE');
});

test('spawnSync: timeout is ETIMEDOUT with killSignal; maxBuffer is ENOBUFS', () => {
  const seen = sameAsNodeSync((cp) => {
    const overflow = cp.spawnSync('sh', ['-c', 'head -c 100000 /dev/zero; exec sleep 30'], { maxBuffer: 10 });
    return {
      timeout: shape(cp.spawnSync('sleep', ['30'], { timeout: 200 })),
      killSignal: shape(cp.spawnSync('sleep', ['30'], { timeout: 200, killSignal: 'SIGKILL' })),
      number: shape(cp.spawnSync('sleep', ['30'], { timeout: 200, killSignal: 2 })),
      overflow: { ...shape(overflow), output: null, stdout: overflow.stdout.length > 10, stderr: overflow.stderr },
      infinity: cp.spawnSync('head', ['-c', String(8 << 20), '/dev/zero'], { maxBuffer: Infinity }).stdout.length,
      zero: shape(cp.spawnSync('echo', ['no limit'], { maxBuffer: 0 })),
    };
  });
  assert.strictEqual(seen.timeout.error.code, 'ETIMEDOUT');
  assert.strictEqual(seen.timeout.error.syscall, 'spawnSync sleep');
  assert.deepStrictEqual(seen.timeout.keys, ['error', 'status', 'signal', 'output', 'pid', 'stdout', 'stderr']);
  assert.strictEqual(seen.killSignal.signal, 'SIGKILL');
  assert.strictEqual(seen.number.signal, 'SIGINT');
  assert.strictEqual(seen.overflow.error.code, 'ENOBUFS');
  assert.strictEqual(seen.overflow.signal, 'SIGTERM');
  assert.strictEqual(seen.infinity, 8 << 20);
  assert.strictEqual(seen.zero.error, undefined);
});

test('spawnSync: a program not found is an ENOENT error in the result, with nothing else', () => {
  const closedFd = sameAsNodeSync((cp) => shape(cp.spawnSync('ls', { stdio: ['pipe', 99, 'pipe'] })));
  assert.strictEqual(closedFd.error.code, 'EBADF');
  const seen = sameAsNodeSync((cp) => shape(cp.spawnSync('rexec-no-such-program', ['a'])));
  assert.deepStrictEqual(seen.error, {
    name: 'Error', message: 'spawnSync rexec-no-such-program ENOENT', code: 'ENOENT', errno: -2,
    syscall: 'spawnSync rexec-no-such-program', path: 'rexec-no-such-program', spawnargs: ['a'],
  });
  assert.strictEqual(seen.output, null);
  assert.strictEqual(seen.pid, 'number');
});

test('execSync and execFileSync: stdout, or an error with the result\'s fields and stderr in its message', () => {
  const caught = (fn) => {
    try {
      return { returned: fn() };
    } catch (err) {
      return {
        ...errorFields(err), status: err.status, output: err.output, pid: typeof err.pid, keys: Object.keys(err),
      };
    }
  };
  const seen = sameAsNodeSync((cp) => ({
    exec: caught(() => cp.execSync('echo $((6 * 7))', { encoding: 'utf8' })),
    failed: caught(() => cp.execSync('echo partial; echo why >&2; exit 3', { stdio: 'pipe' })),
    file: caught(() => cp.execFileSync('echo', ['a', 'b'])),
    fileFailed: caught(() => cp.execFileSync('sh', ['-c', 'exit 4'], { stdio: 'pipe' })),
    missing: caught(() => cp.execFileSync('rexec-no-such-program', ['x'])),
    timeout: caught(() => cp.execSync('sleep 30', { timeout: 200 })),
  }));
  assert.strictEqual(seen.exec.returned, '42\n');
  assert.strictEqual(seen.failed.message, 'Command failed: echo partial; echo why >&2; exit 3\nwhy\n');
  assert.strictEqual(seen.failed.status, 3);
  assert.deepStrictEqual(seen.file.returned, Buffer.from('a b\n'));
  assert.strictEqual(seen.missing.code, 'ENOENT');
  assert.strictEqual(seen.timeout.code, 'ETIMEDOUT');
});

// Runs a small program with `module` as its child_process; what it printed.
function runProgram(module, body) {
  const result = local.spawnSync(process.execPath, ['-e', `const cp = require(${JSON.stringify(module)});\n${body}`], {
    env: process.env, timeout: 30000, encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("output to our own fds ('inherit', an fd number) arrives while the caller is blocked, in order", () => {
  const body = `
    process.stdout.write('before\\n');
    cp.spawnSync('sh', ['-c', 'echo middle; echo to-stderr >&2'], { stdio: 'inherit' });
    cp.spawnSync('echo', ['to fd 2'], { stdio: ['pipe', 2, 'pipe'] });
    cp.execSync('echo stderr of execSync >&2');
    process.stdout.write('after\\n');`;
  const seen = runProgram(path.join(__dirname, '..'), body);
  assert.deepStrictEqual(seen, runProgram('node:child_process', body));
  assert.deepStrictEqual(seen, {
    status: 0, stdout: 'before\nmiddle\nafter\n', stderr: 'to-stderr\nto fd 2\nstderr of execSync\n',
  });
});

test('bad arguments throw before anything runs, with Node\'s errors', () => {
  const seen = sameAsNodeSync((cp) => [
    thrownBy(() => cp.spawnSync('sh', { timeout: -1 })),
    thrownBy(() => cp.spawnSync('sh', { maxBuffer: 'lots' })),
    thrownBy(() => cp.spawnSync('sh', { killSignal: 'SIGNOPE' })),
    thrownBy(() => cp.spawnSync('sh', { killSignal: true })),
    thrownBy(() => cp.spawnSync('sh', { stdio: ['pipe', 'ipc', 'pipe'] })),
    thrownBy(() => cp.spawnSync('sh', ['a\u0000b'])),
    thrownBy(() => cp.execSync('a\u0000b')),
    thrownBy(() => cp.execFileSync('sh', { argv0: 7 })),
  ]);
  assert.deepStrictEqual(seen.map((err) => err && err.code), ['ERR_OUT_OF_RANGE', 'ERR_OUT_OF_RANGE',
    'ERR_UNKNOWN_SIGNAL', 'ERR_INVALID_ARG_TYPE', 'ERR_IPC_SYNC_FORK', 'ERR_INVALID_ARG_VALUE',
    'ERR_INVALID_ARG_VALUE', 'ERR_INVALID_ARG_TYPE']);
});

test('a spawn running while a spawnSync blocks goes on after it', async () => {
  const child = remote.spawn('sh', ['-c', 'read line; echo "got $line"']);
  let out = '';
  child.stdout.on('data', (chunk) => { out += chunk; });
  await new Promise((resolve) => child.once('spawn', resolve));
  assert.strictEqual(remote.spawnSync('sleep', ['0.2']).status, 0);
  child.stdin.end('after\n');
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.strictEqual(code, 0);
  assert.strictEqual(out, 'got after\n');
});

test('a worker thread calls spawnSync too', async () => {
  const { Worker } = require('node:worker_threads');
  const worker = new Worker(`
    const { parentPort } = require('node:worker_threads');
    const cp = require(${JSON.stringify(path.join(__dirname, '..'))});
    parentPort.postMessage(cp.execFileSync('echo', ['from a worker'], { encoding: 'utf8' }));`, { eval: true });
  const [reply] = await Promise.all([
    new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); }),
    new Promise((resolve) => worker.once('exit', resolve)),
  ]);
  assert.strictEqual(reply, 'from a worker\n');
});
