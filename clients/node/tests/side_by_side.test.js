// The same programs run by node:child_process and by @rexec/child_process
// (on a rexecd on loopback, the same machine): what each observes (events
// in order, exit code and signal, output, error fields) must be the same.
'use strict';

const { before } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const util = require('node:util');
const local = require('node:child_process');
const { startRexecd } = require('./rexecd');
const { test, remote, observe, errorFields, sameAsNode, thrownBy } = require('./compare');

const FIXTURES = path.join(__dirname, 'fixtures');

const started = startRexecd();
before(() => started);

test('spawn: spawn, exit and close in order, with the code and both outputs', async () => {
  const seen = await sameAsNode((cp) => observe(
    cp.spawn('sh', ['-c', 'echo out; echo err >&2; exit 3'])));
  assert.deepStrictEqual(seen.events, ['spawn', ['exit', 3, null], ['close', 3, null]]);
  assert.strictEqual(seen.stdout, 'out\n');
});

test('spawn: a program not found is an error event with ENOENT fields, then close', async () => {
  const seen = await sameAsNode((cp) => observe(cp.spawn('rexec-no-such-program', ['a', 'b'])));
  assert.strictEqual(seen.events[0][1].code, 'ENOENT');
  assert.deepStrictEqual(seen.events[0][1].spawnargs, ['a', 'b']);
  assert.deepStrictEqual(seen.events[1], ['close', -2, null]);
  assert.strictEqual(seen.pid, 'undefined');
});

test('spawn: a cwd that does not exist is ENOENT too; a file that is no program EACCES', async () => {
  await sameAsNode((cp) => observe(cp.spawn('ls', [], { cwd: '/rexec-no-such-dir' })));
  const seen = await sameAsNode((cp) => observe(cp.spawn('/etc/passwd')));
  assert.strictEqual(seen.events[0][1].code, 'EACCES');
});

test('spawn: stdin is a Writable; end() is EOF', async () => {
  const seen = await sameAsNode((cp) => {
    const child = cp.spawn('tr', ['a-z', 'A-Z']);
    const seen = observe(child);
    child.stdin.write('hello ');
    child.stdin.end('remote\n');
    return seen;
  });
  assert.strictEqual(seen.stdout, 'HELLO REMOTE\n');
});

test('kill: true and killed while it runs, the signal in exit and close, false after', async () => {
  const seen = await sameAsNode(async (cp) => {
    const child = cp.spawn('sleep', ['30']);
    const seen = await observe(child, { onSpawn: (c) => c.kill('SIGINT') });
    return { ...seen, again: child.kill(), killedBy: typeof child.kill('SIGKILL') };
  });
  assert.deepStrictEqual(seen.events.slice(1), [['exit', null, 'SIGINT'], ['close', null, 'SIGINT']]);
  assert.strictEqual(seen.killed, true);
  assert.strictEqual(seen.again, false);
});

test('kill: an unknown signal throws ERR_UNKNOWN_SIGNAL; a number is its name', async () => {
  const seen = await sameAsNode(async (cp) => {
    const child = cp.spawn('sleep', ['30']);
    let thrown;
    try {
      child.kill('SIGNOPE');
    } catch (err) {
      thrown = { name: err.name, code: err.code, message: err.message };
    }
    const seen = await observe(child, { onSpawn: (c) => c.kill(15) });
    return { thrown, ...seen };
  });
  assert.strictEqual(seen.thrown.code, 'ERR_UNKNOWN_SIGNAL');
  assert.strictEqual(seen.signalCode, 'SIGTERM');
});

test('stdio: ignore, pipe and arrays of them', async () => {
  const seen = await sameAsNode(async (cp) => ({
    all: await observe(cp.spawn('sh', ['-c', 'echo out; echo err >&2'], { stdio: 'ignore' })),
    mixed: await observe(cp.spawn('sh', ['-c', 'cat; echo out; echo err >&2'],
      { stdio: ['ignore', 'pipe', 'ignore'] })),
    short: await observe(cp.spawn('sh', ['-c', 'echo out; echo err >&2'], { stdio: ['pipe'] })),
  }));
  assert.deepStrictEqual(seen.all.stdio, [true, true, true]);
  assert.strictEqual(seen.mixed.stdout, 'out\n');
  assert.strictEqual(seen.short.stderr, 'err\n');
});

test('options: env is the whole environment, cwd, argv0, shell', async () => {
  const seen = await sameAsNode(async (cp) => ({
    // Sorted: the API's env is a map, which keeps no order.
    env: await observe(cp.spawn('sh', ['-c', 'env | sort'], { env: { ONLY: 'this', N: 1 }, cwd: '/' })),
    cwd: await observe(cp.spawn('pwd', [], { cwd: '/usr/share' })),
    url: await observe(cp.spawn('pwd', [], { cwd: new URL('file:///tmp') })),
    argv0: await observe(cp.spawn('sh', ['-c', 'echo $0'], { argv0: 'not-sh' })),
    shell: await observe(cp.spawn('echo $((6*7)) "$0"', { shell: true })),
    bash: await observe(cp.spawn('echo ${BASH_VERSION:+bash}', { shell: '/bin/bash' })),
    hidden: await observe(cp.spawn('true', { windowsHide: true })),
    // A lone surrogate is U+FFFD by the time a program sees it.
    lone: await observe(cp.spawn('echo', ['a\ud83cb'])),
  }));
  assert.strictEqual(seen.env.stdout, 'N=1\nONLY=this\nPWD=/\n');
  assert.strictEqual(seen.argv0.stdout, 'not-sh\n');
  assert.strictEqual(seen.shell.stdout, '42 /bin/sh\n');
  assert.strictEqual(seen.bash.stdout, 'bash\n');
});

test('options: timeout stops it with killSignal', async () => {
  const seen = await sameAsNode((cp) => observe(
    cp.spawn('sleep', ['30'], { timeout: 300, killSignal: 'SIGUSR1' })));
  assert.deepStrictEqual(seen.events.slice(1), [['exit', null, 'SIGUSR1'], ['close', null, 'SIGUSR1']]);
  assert.strictEqual(seen.killed, true);
});

test('options: timeout leaves an unhandled error unhandled: the program throws', () => {
  const program = (module) => `require(${JSON.stringify(module)})
    .spawn('rexec-no-such-program', { timeout: 1000 })
    .on('close', (code) => console.log('close', code));`;
  const run = (module) => {
    const result = local.spawnSync(process.execPath, ['-e', program(module)], {
      env: process.env, timeout: 20000, encoding: 'utf8',
    });
    return { status: result.status, stdout: result.stdout, threw: /Error: spawn rexec-no-such-program ENOENT/.test(result.stderr) };
  };
  const seen = run(path.join(__dirname, '..'));
  assert.deepStrictEqual(seen, run('node:child_process'));
  assert.strictEqual(seen.threw, true);
});

test('options: an AbortSignal kills it and emits an AbortError', async () => {
  const seen = await sameAsNode((cp) => {
    const controller = new AbortController();
    return observe(cp.spawn('sleep', ['30'], { signal: controller.signal }),
      { onSpawn: () => controller.abort() });
  });
  assert.strictEqual(seen.events[1][1].name, 'AbortError');
  assert.deepStrictEqual(seen.events[3], ['close', null, 'SIGTERM']);
});

test('options: bad ones throw the same errors', async () => {
  const thrown = (cp, ...args) => {
    try {
      cp.spawn(...args);
      return null;
    } catch (err) {
      return { code: err.code, name: err.name };
    }
  };
  await sameAsNode(async (cp) => [
    thrown(cp, 42),
    thrown(cp, ''),
    thrown(cp, 'ls', 'not-an-array'),
    thrown(cp, 'ls', ['a\u0000b']),
    thrown(cp, 'ls', [], { timeout: -1 }),
    thrown(cp, 'ls', [], { killSignal: 'SIGNOPE' }),
    thrown(cp, 'ls', [], { signal: 'abort' }),
  ]);
});

function execResult(fn, ...args) {
  return new Promise((resolve) => {
    fn(...args, (err, stdout, stderr) => resolve({
      err: err && errorFields(err), stdout, stderr,
    }));
  });
}

test('exec: the callback gets stdout and stderr; a failure code, killed, signal and cmd', async () => {
  const seen = await sameAsNode(async (cp) => ({
    ok: await execResult(cp.exec, 'echo out; echo err >&2'),
    failed: await execResult(cp.exec, 'echo partial; echo why >&2; exit 7'),
    buffers: await execResult(cp.exec, 'printf "\\377"', { encoding: 'buffer' }),
    latin1: await execResult(cp.exec, 'printf "\\351"', { encoding: 'latin1' }),
    shell: await execResult(cp.exec, 'echo $0', { shell: '/bin/bash' }),
    timeout: await execResult(cp.exec, 'sleep 30', { timeout: 300 }),
    killSignal: await execResult(cp.exec, 'sleep 30', { timeout: 300, killSignal: 'SIGKILL' }),
    nullTimeout: await execResult(cp.exec, 'echo none', { timeout: null }),
  }));
  assert.strictEqual(seen.failed.err.code, 7);
  assert.strictEqual(seen.failed.err.message, 'Command failed: echo partial; echo why >&2; exit 7\nwhy\n');
  assert.ok(Buffer.isBuffer(seen.buffers.stdout));
  assert.deepStrictEqual(seen.timeout.err.signal, 'SIGTERM');
  assert.strictEqual(seen.timeout.err.killed, true);
});

test('exec: past maxBuffer, ERR_CHILD_PROCESS_STDIO_MAXBUFFER with what fit', async () => {
  const seen = await sameAsNode(async (cp) => ({
    stdout: await execResult(cp.exec, 'head -c 5000 /dev/zero | tr "\\0" x; sleep 30', { maxBuffer: 1000 }),
    stderr: await execResult(cp.exec, 'head -c 5000 /dev/zero | tr "\\0" y >&2; sleep 30', { maxBuffer: 100 }),
    exact: await execResult(cp.exec, 'head -c 1000 /dev/zero | tr "\\0" x', { maxBuffer: 1000 }),
  }));
  assert.strictEqual(seen.stdout.err.code, 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER');
  assert.strictEqual(seen.stdout.stdout.length, 1000);
  assert.strictEqual(seen.stderr.stderr.length, 100);
  assert.strictEqual(seen.exact.err, null);
});

test('execFile: args are not a shell\'s; ENOENT reaches the callback', async () => {
  const seen = await sameAsNode(async (cp) => ({
    args: await execResult(cp.execFile, 'echo', ['$HOME', '*']),
    failed: await execResult(cp.execFile, 'sh', ['-c', 'exit 4', 'x']),
    missing: await execResult(cp.execFile, 'rexec-no-such-program', ['x']),
    noArgs: await execResult(cp.execFile, 'pwd', { cwd: '/usr' }),
  }));
  assert.strictEqual(seen.args.stdout, '$HOME *\n');
  assert.strictEqual(seen.failed.err.cmd, 'sh -c exit 4 x');
  assert.strictEqual(seen.missing.err.code, 'ENOENT');
});

test('util.promisify(exec) and (execFile) resolve {stdout, stderr} and reject with both', async () => {
  const seen = await sameAsNode(async (cp) => {
    const exec = util.promisify(cp.exec);
    const execFile = util.promisify(cp.execFile);
    const ok = await exec('echo hi; echo there >&2');
    const file = await execFile('echo', ['a']);
    const failed = await exec('echo o; exit 2').catch(errorFields);
    return { ok, file, failed, child: typeof exec('true').child.kill };
  });
  assert.deepStrictEqual(seen.ok, { stdout: 'hi\n', stderr: 'there\n' });
  assert.strictEqual(seen.failed.stdout, 'o\n');
});

test('fork: send and message with plain values both ways, disconnect, connected', async () => {
  const script = path.join(FIXTURES, 'echo_child.js');
  const values = [1.5, 'text', true, null, [1, [2, { deep: 'x' }]], { a: { b: [] }, n: -0 },
    { when: new Date(0), skip: undefined, fn() {} }, NaN, JSON.parse('{"__proto__": {"own": 1}}')];
  const seen = await sameAsNode(async (cp) => {
    const child = cp.fork(script, ['arg1'], { silent: true, execPath: 'node' });
    const connectedAtStart = child.connected;
    const seen = observe(child);
    const returned = [];
    const acked = [];
    for (const value of values) returned.push(child.send(value, (err) => acked.push(err)));
    let messages = 0;
    child.on('message', () => {
      messages += 1;
      if (messages === values.length) child.send('bye');
    });
    const result = await seen;
    return { ...result, connectedAtStart, returned, acked };
  });
  const messages = seen.events.filter((e) => e[0] === 'message').map((e) => e[1].got);
  assert.deepStrictEqual(messages[6], { when: '1970-01-01T00:00:00.000Z' });
  assert.strictEqual(seen.connectedAtStart, true);
  assert.strictEqual(seen.connected, false);
  assert.ok(seen.events.includes('disconnect'));
});

test('fork: disconnect() from the parent; send after it fails ERR_IPC_CHANNEL_CLOSED', async () => {
  const script = path.join(FIXTURES, 'echo_child.js');
  const seen = await sameAsNode((cp) => new Promise((resolve) => {
    const child = cp.fork(script, { stdio: 'pipe', execPath: 'node' });
    const events = [];
    let stdout = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.on('disconnect', () => events.push('disconnect'));
    child.on('spawn', () => {
      child.disconnect();
      events.push(['connected', child.connected]);
      const returned = child.send('late', (err) => events.push(['send', err.code, returned]));
    });
    // Not 'close': Node's own never comes after the parent disconnects.
    let waiting = 2;
    const done = () => { if (--waiting === 0) resolve({ events, stdout }); };
    child.stdout.on('end', done);
    child.on('exit', (code, signal) => { events.push(['exit', code, signal]); done(); });
  }));
  assert.deepStrictEqual(seen.events.slice(0, 3),
    [['connected', false], 'disconnect', ['send', 'ERR_IPC_CHANNEL_CLOSED', false]]);
  assert.match(seen.stdout, /child: disconnected/);
});

test('fork: stdio must have ipc; an unknown serialization is refused', () => {
  for (const cp of [local, remote]) {
    assert.throws(() => cp.fork('x.js', { stdio: ['pipe', 'pipe', 'pipe'] }),
      { code: 'ERR_CHILD_PROCESS_IPC_REQUIRED' });
  }
  const xml = (cp) => thrownBy(() => cp.fork('x.js', { serialization: 'xml' }));
  assert.deepStrictEqual(xml(remote), xml(local));
  assert.strictEqual(xml(local).code, 'ERR_INVALID_ARG_VALUE');
});

test("detached with stdio 'ignore', then unref(): our process leaves and the child goes on", async () => {
  const fs = require('node:fs');
  const os = require('node:os');
  const leaveEarly = async (module) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rexec-node-detached-'));
    try {
      const program = `const child = require(${JSON.stringify(module)}).spawn('sh',
        ['-c', 'while [ ! -e GO ]; do sleep 0.05; done; echo outlived > OUT'],
        { detached: true, stdio: 'ignore', cwd: ${JSON.stringify(dir)} });
        child.unref();
        console.log('parent leaves');`;
      const parent = local.spawnSync(process.execPath, ['-e', program], {
        env: process.env, timeout: 20000, encoding: 'utf8',
      });
      // The parent has gone; the child waits for GO, which only now is.
      fs.writeFileSync(path.join(dir, 'GO'), '');
      const out = path.join(dir, 'OUT');
      for (let i = 0; i < 200 && !fs.existsSync(out); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      return { status: parent.status, stdout: parent.stdout, out: fs.existsSync(out) && fs.readFileSync(out, 'utf8') };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  const seen = await leaveEarly(path.join(__dirname, '..'));
  assert.deepStrictEqual(seen, await leaveEarly('node:child_process'));
  assert.deepStrictEqual(seen, { status: 0, stdout: 'parent leaves\n', out: 'outlived\n' });
});

test('stdio: a number is an fd of ours, written to or read from', async () => {
  const fs = require('node:fs');
  const os = require('node:os');
  const seen = await sameAsNode(async (cp) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rexec-node-fd-'));
    try {
      fs.writeFileSync(path.join(dir, 'in'), 'from a file\n');
      const input = fs.openSync(path.join(dir, 'in'), 'r');
      const out = fs.openSync(path.join(dir, 'out'), 'w');
      const seen = await observe(cp.spawn('sh', ['-c', 'tr a-z A-Z; echo err >&2'], { stdio: [input, out, 'pipe'] }));
      fs.closeSync(input);
      fs.closeSync(out);
      return { ...seen, written: fs.readFileSync(path.join(dir, 'out'), 'utf8') };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  assert.strictEqual(seen.written, 'FROM A FILE\n');
  assert.strictEqual(seen.stderr, 'err\n');
});

test('stdio streams: stdin writable, not readable; stdout and stderr readable', async () => {
  await sameAsNode(async (cp) => {
    const child = cp.spawn('cat');
    const flags = [child.stdin.writable, child.stdin.readable, child.stdout.readable, child.stderr.readable];
    child.stdin.end();
    await new Promise((resolve) => child.on('close', resolve));
    return flags;
  });
});

test("a child's stdout as another's stdin: a megabyte through cat, grep and wc", async () => {
  const fs = require('node:fs');
  const os = require('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rexec-node-dataflow-'));
  try {
    const file = path.join(dir, 'data');
    const lines = Buffer.alloc(1 << 20, 'x');
    for (let i = 1; i < 1024; i++) lines.write('\n', i * 1024);
    fs.writeFileSync(file, lines);
    const seen = await sameAsNode(async (cp) => {
      const cat = cp.spawn('cat', [file]);
      const grep = cp.spawn('grep', ['x'], { stdio: [cat.stdout, 'pipe', 'pipe'] });
      const wc = cp.spawn('wc', ['-c'], { stdio: [grep.stdout, 'pipe', 'pipe'] });
      const codes = Promise.all([cat, grep, wc].map((child) => new Promise((resolve) => child.on('exit', resolve))));
      const counted = await observe(wc);
      return { codes: await codes, counted: counted.stdout.trim() };
    });
    assert.deepStrictEqual(seen, { codes: [0, 0, 0], counted: String((1 << 20) + 1) });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('options.signal: the abort listener is there while the child runs, gone after its exit', async () => {
  const { getEventListeners } = require('node:events');
  const seen = await sameAsNode(async (cp) => {
    const controller = new AbortController();
    const child = cp.spawn('true', { signal: controller.signal });
    const during = getEventListeners(controller.signal, 'abort').length;
    await new Promise((resolve) => child.on('exit', resolve));
    return { during, after: getEventListeners(controller.signal, 'abort').length };
  });
  assert.deepStrictEqual(seen, { during: 1, after: 0 });
});

test("util.promisify(exec): bad arguments throw at once; a 'close' with an errno code names it", async () => {
  const seen = await sameAsNode(async (cp) => {
    let thrown = null;
    try {
      util.promisify(cp.exec)('true', { signal: 'not a signal' });
    } catch (err) {
      thrown = err.code;
    }
    const closed = await new Promise((resolve) => {
      const child = cp.execFile('sleep', ['30'], (err) => resolve(errorFields(err)));
      child.kill();
      child.emit('close', -1, null);
    });
    return { thrown, closed };
  });
  assert.strictEqual(seen.thrown, 'ERR_INVALID_ARG_TYPE');
  assert.strictEqual(seen.closed.code, 'EPERM');
});
