// The package as npm packs it (pack.sh), installed where a program finds
// it by its name, running the README's example against a real rexecd.
'use strict';

const { before } = require('node:test');
const { test } = require('./compare');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startRexecd } = require('./rexecd');

const PACKAGE = path.join(__dirname, '..');
const started = startRexecd();
before(() => started);

test("the README's example runs as written, from the packed package", () => {
  const example = fs.readFileSync(path.join(PACKAGE, 'examples', 'hello.js'), 'utf8');
  const readme = fs.readFileSync(path.join(PACKAGE, '..', '..', 'README.md'), 'utf8');
  assert.ok(readme.includes(example), "README.md must show examples/hello.js as it is");

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rexec-node-package-'));
  try {
    const tarball = execFileSync('bash', [path.join(PACKAGE, 'pack.sh'), dir], { encoding: 'utf8' }).trim();
    const installed = path.join(dir, 'node_modules', '@rexec', 'child_process');
    fs.mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['-xzf', path.join(dir, tarball), '-C', installed, '--strip-components=1']);
    assert.ok(fs.existsSync(path.join(installed, 'protos', 'rexec', 'v1', 'child_process.proto')));
    fs.writeFileSync(path.join(dir, 'hello.js'), example);
    const output = execFileSync(process.execPath, [path.join(dir, 'hello.js')], {
      cwd: dir,
      // Its dependencies, as npm install would have put beside it.
      env: { ...process.env, NODE_PATH: path.join(PACKAGE, 'node_modules') },
      encoding: 'utf8',
      timeout: 20000,
    });
    assert.strictEqual(output, 'stdout: /usr\nls exited with code 0\nthe answer: 42\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
