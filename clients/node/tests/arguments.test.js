// Arguments and options as Node reads them, side by side with Node's: own
// properties only, arguments coerced to strings, fork's ignored shell,
// the same errors (code, class, message, String(err)) for bad ones.
'use strict';

const { before } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { startRexecd } = require('./rexecd');
const { test, local, remote, observe, sameAsNode, thrownBy } = require('./compare');

const started = startRexecd();
before(() => started);

const FIXTURES = path.join(__dirname, 'fixtures');

test('options set on Object.prototype by another module are not options, nor parts of a request', () => {
  // In a program of its own: a prototype changed here would change the
  // test runner's objects too.
  const body = `
    const tampered = { shell: true, cwd: '/rexec-no-such-dir', uid: 4242, gid: 4242, env: { TAMPERED: 1 },
      argv0: 'tampered', detached: true, execPath: '/rexec-no-such-node', server: '127.0.0.1:1',
      stdin: Buffer.from('tampered'), argv: ['tampered'], close_stdin: {}, exec_path: '/rexec-no-such-node' };
    Object.assign(Object.prototype, tampered);
    const out = (result) => String(result.stdout);
    const lines = [];
    const script = 'echo "$0" "$TAMPERED" "$(id -u)" "$(pwd)"; cat';
    lines.push(out(cp.spawnSync('sh', ['-c', script], { input: 'in', cwd: '/' })));
    lines.push(String(cp.execSync(script, { input: 'in', cwd: '/' })));
    lines.push(String(cp.execFileSync('sh', ['-c', script], { input: 'in', cwd: '/' })));
    const child = cp.fork(${JSON.stringify(path.join(FIXTURES, 'echo_child.js'))}, ['arg'], { execPath: 'node', silent: true });
    child.on('message', (message) => { lines.push(message); child.send('bye'); });
    child.on('close', () => {
      cp.exec(script, { cwd: '/' }, (err, stdout) => {
        lines.push(stdout);
        const spawned = cp.spawn('sh', ['-c', script], { cwd: '/' });
        let text = '';
        spawned.stdout.on('data', (chunk) => { text += chunk; });
        spawned.stdin.end('in');
        spawned.on('close', () => { lines.push(text); console.log(JSON.stringify(lines)); });
      }).stdin.end('in');
    });
    child.send('hi');`;
  const run = (module) => local.spawnSync(process.execPath, ['-e', `const cp = require(${JSON.stringify(module)});${body}`], {
    env: process.env, timeout: 30000, encoding: 'utf8',
  });
  const mine = run(path.join(__dirname, '..'));
  const theirs = run('node:child_process');
  assert.strictEqual(mine.stderr, '');
  assert.deepStrictEqual(JSON.parse(mine.stdout), JSON.parse(theirs.stdout));
  assert.strictEqual(JSON.parse(mine.stdout)[0], `sh  ${process.getuid()} /\nin`);
});

test('arguments are strings as Node makes them: numbers, booleans, null, objects; a Symbol throws', async () => {
  const seen = await sameAsNode(async (cp) => ({
    spawned: await observe(cp.spawn('echo', [1, 2.5, -0, true, null, undefined, {}, 10n])),
    sync: String(cp.spawnSync('echo', [1e21, false]).stdout),
    execFile: await new Promise((resolve) => cp.execFile('echo', [42], (err, stdout) => resolve(stdout))),
    env: await observe(cp.spawn('sh', ['-c', 'echo "$N $B $O" "$A"'], { env: { N: 7, B: false, O: {}, 'A=B': 'c' } })),
    symbol: thrownBy(() => cp.spawn('echo', [Symbol('s')])),
  }));
  assert.strictEqual(seen.spawned.stdout, '1 2.5 0 true null undefined [object Object] 10\n');
  assert.strictEqual(seen.env.stdout, '7 false [object Object] B=c\n');
  assert.strictEqual(seen.symbol.name, 'TypeError');
});

test('fork ignores shell, as Node does', async () => {
  const seen = await sameAsNode((cp) => new Promise((resolve) => {
    const child = cp.fork(path.join(FIXTURES, 'echo_child.js'), ['$HOME', '*'], { shell: true, execPath: 'node' });
    child.on('message', (message) => {
      child.send('bye');
      resolve(message.argv);
    });
    child.send('argv?');
  }));
  assert.deepStrictEqual(seen, ['$HOME', '*']);
});

test('bad arguments throw the same errors: code, class, message and String(err)', async () => {
  const script = path.join(FIXTURES, 'echo_child.js');
  const seen = await sameAsNode(async (cp) => [
    thrownBy(() => cp.spawn()),
    thrownBy(() => cp.spawn(1)),
    thrownBy(() => cp.spawn('')),
    thrownBy(() => cp.spawn('ls', 'not-an-array')),
    thrownBy(() => cp.spawn('ls', [], null)),
    thrownBy(() => cp.spawn('ls', [], 'options')),
    thrownBy(() => cp.spawn('ls', ['a\u0000b'])),
    thrownBy(() => cp.spawn('ls', { cwd: 42 })),
    thrownBy(() => cp.spawn('ls', { cwd: new URL('http://example.com/') })),
    thrownBy(() => cp.spawn('ls', { cwd: 'a\u0000b' })),
    thrownBy(() => cp.spawn('ls', { detached: 'yes' })),
    thrownBy(() => cp.spawn('ls', { uid: 1.5 })),
    thrownBy(() => cp.spawn('ls', { gid: 2 ** 40 })),
    thrownBy(() => cp.spawn('ls', { shell: 1 })),
    thrownBy(() => cp.spawn('ls', { argv0: [] })),
    thrownBy(() => cp.spawn('ls', { env: { A: 'a\u0000b' } })),
    thrownBy(() => cp.spawn('ls', { windowsHide: 'no' })),
    thrownBy(() => cp.spawn('ls', { timeout: 1.5 })),
    thrownBy(() => cp.spawn('ls', { timeout: 2 ** 40 + 0.5 })),
    thrownBy(() => cp.spawn('ls', { killSignal: 'SIGNOPE' })),
    thrownBy(() => cp.spawn('ls', { killSignal: {} })),
    thrownBy(() => cp.spawn('ls', { signal: {} })),
    thrownBy(() => cp.spawn('ls', { stdio: 'sideways' })),
    thrownBy(() => cp.spawn('ls', { stdio: 42 })),
    thrownBy(() => cp.spawn('ls', { stdio: ['pipe', { nothing: true }] })),
    thrownBy(() => cp.spawn('ls', { stdio: ['pipe', 'pipe', 'pipe', 'ipc', 'ipc'] })),
    thrownBy(() => cp.spawn('ls', { stdio: [Buffer.from('input')] })),
    thrownBy(() => cp.spawn('ls', { stdio: ['pipe', 99, 'pipe'] })),
    thrownBy(() => cp.spawn('ls', { serialization: 'xml' })),
    thrownBy(() => cp.exec(42)),
    thrownBy(() => cp.exec('ls', { maxBuffer: -1 })),
    thrownBy(() => cp.exec('ls', {}, 'callback')),
    thrownBy(() => cp.execFile('ls', ['-l'], 7)),
    thrownBy(() => cp.execFile('ls', { argv0: 7 })),
    thrownBy(() => cp.fork(42)),
    thrownBy(() => cp.fork(script, 'args')),
    thrownBy(() => cp.fork(script, [], true)),
    thrownBy(() => cp.fork(script, { stdio: ['pipe', 'pipe', 'pipe'] })),
    thrownBy(() => cp.fork(script, { execPath: 'a\u0000b' })),
    thrownBy(() => cp.fork(script, { execArgv: ['a\u0000b'] })),
    thrownBy(() => new cp.ChildProcess().spawn()),
    thrownBy(() => new cp.ChildProcess().spawn({ file: 7 })),
    thrownBy(() => new cp.ChildProcess().spawn({ file: 'ls', args: 'x' })),
    thrownBy(() => new cp.ChildProcess().spawn({ file: 'ls', envPairs: {}, stdio: ['pipe', 'pipe', 'pipe', 'ipc'] })),
  ]);
  assert.ok(seen.every((err) => err !== null));
  assert.strictEqual(seen[1].string,
    'TypeError [ERR_INVALID_ARG_TYPE]: The "file" argument must be of type string. Received type number (1)');
});

test('kill and send check their arguments as Node does', async () => {
  const seen = await sameAsNode(async (cp) => {
    const child = cp.fork(path.join(FIXTURES, 'echo_child.js'), { execPath: 'node' });
    const thrown = [
      thrownBy(() => child.kill('SIGNOPE')),
      thrownBy(() => child.kill(3.5)),
      thrownBy(() => child.send()),
      thrownBy(() => child.send(Symbol('s'))),
      thrownBy(() => child.send(() => 1)),
      thrownBy(() => child.send('m', null, 'options')),
      thrownBy(() => child.send('m', null, 0)),
    ];
    child.send('bye');
    await new Promise((resolve) => child.on('exit', resolve));
    return thrown;
  });
  assert.strictEqual(seen[3].message,
    'The "message" argument must be one of type string, object, number, or boolean. Received type symbol (Symbol(s))');
});

test('Symbol.dispose kills a child not yet killed', async () => {
  const seen = await sameAsNode(async (cp) => {
    const disposed = cp.spawn('sleep', ['30']);
    const first = observe(disposed);
    disposed[Symbol.dispose]();
    const killedAfter = disposed.killed;
    // kill(0) asks only whether it runs, and counts as killed: dispose
    // then leaves it alone, and the SIGINT after it is what ends it.
    const probed = cp.spawn('sleep', ['30']);
    const second = observe(probed);
    probed.kill(0);
    probed[Symbol.dispose]();
    probed.kill('SIGINT');
    return { killedAfter, disposed: (await first).events.slice(-1), probed: (await second).events.slice(-1) };
  });
  assert.deepStrictEqual(seen, {
    killedAfter: true, disposed: [['close', null, 'SIGTERM']], probed: [['close', null, 'SIGINT']],
  });
});

test('exec with encoding null, then setEncoding on its stdout: strings, cut at maxBuffer as Node cuts them', async () => {
  const seen = await sameAsNode(async (cp) => {
    const run = (options, encode) => new Promise((resolve) => {
      const child = cp.exec('printf "caf\\303\\251 au lait"; printf "\\303\\251t\\303\\251" >&2', options,
        (err, stdout, stderr) => resolve({ err: err && err.code, stdout, stderr }));
      if (encode) {
        child.stdout.setEncoding('utf8');
        child.stderr.setEncoding('utf8');
      }
    });
    return {
      whole: await run({ encoding: null }, true),
      cut: await run({ encoding: null, maxBuffer: 4 }, true),
      buffers: await run({ encoding: null }, false),
    };
  });
  assert.deepStrictEqual(seen.whole, { err: null, stdout: 'café au lait', stderr: 'été' });
  assert.strictEqual(seen.cut.err, 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER');
  assert.ok(Buffer.isBuffer(seen.buffers.stdout));
});

test("'ipc' in spawn's stdio: a channel as fork's, at any index", async () => {
  const script = path.join(FIXTURES, 'echo_child.js');
  const seen = await sameAsNode(async (cp) => {
    const talk = (stdio) => new Promise((resolve) => {
      const child = cp.spawn(process.execPath, [script, 'x'], { stdio });
      const replies = [];
      child.on('message', (message) => {
        replies.push(message);
        if (replies.length === 2) child.send('bye');
      });
      child.send({ n: 1 });
      child.send([2]);
      child.on('close', (code) => resolve({ replies, code, connected: child.connected, stdio: child.stdio.map((s) => s === null) }));
    });
    return { fourth: await talk(['pipe', 'pipe', 'pipe', 'ipc']), first: await talk(['ipc', 'ignore', 'ignore']) };
  });
  assert.deepStrictEqual(seen.fourth.replies, [{ got: { n: 1 }, argv: ['x'] }, { got: [2], argv: ['x'] }]);
  assert.deepStrictEqual(seen.first.stdio, [true, true, true]);
});
