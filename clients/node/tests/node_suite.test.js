// scripts/node-suite.js, on a small tree of our own in the shape of Node's
// test/: each file run with register.js and its // Flags:, a failure's exit
// code, files that skip themselves or that node-suite-skips.json names not
// counted.
'use strict';

const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test, local } = require('./compare');

test('runs each file against a rexecd of its own and counts', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rexec-node-suite-'));
  try {
    const parallel = path.join(root, 'test', 'parallel');
    fs.mkdirSync(parallel, { recursive: true });
    const files = {
      // The module is ours, and its child the server's.
      'test-child-process-ours.js': `const cp = require('child_process');
        if (typeof cp.createClient !== 'function' || String(cp.execSync('echo ok')) !== 'ok\\n') process.exit(1);`,
      'test-child-process-fails.js': 'process.exit(3);',
      'test-child-process-flags.js': "// Flags: --expose-internals\nrequire('internal/test/binding');",
      'test-child-process-itself.mjs': "console.log('1..0 # Skipped: not here');",
      // Named in node-suite-skips.json: never run.
      'test-child-process-validate-stdio.js': 'process.exit(1);',
      'test-other.js': 'process.exit(1);',
    };
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(parallel, name), text);
    const result = local.spawnSync(process.execPath, [
      path.join(__dirname, '..', 'scripts', 'node-suite.js'), path.join(root, 'test'),
    ], { env: process.env, encoding: 'utf8', timeout: 60000 });
    assert.strictEqual(result.stderr, '');
    const lines = result.stdout.trim().split('\n');
    assert.deepStrictEqual(lines.map((line) => line.split(':')[0]), [
      'FAIL(3) test-child-process-fails.js',
      'PASS test-child-process-flags.js',
      'SKIP(itself',
      'PASS test-child-process-ours.js',
      'SKIP test-child-process-validate-stdio.js',
      'counted 3, passed 2 (66.7 %), skipped 2',
    ]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
