#!/usr/bin/env node
// Runs Node's own child_process tests (a copy of Node's test/ tree, which
// is not ours and is never committed here) with register.js, against a
// rexecd of its own on 127.0.0.1, and prints one line per file:
// PASS, FAIL(exit code or signal) or SKIP with why, then the count.
//
//   node scripts/node-suite.js NODE_TEST_DIR [--rexecd PATH] [--logs DIR] [FILE...]
//
// NODE_TEST_DIR is the test/ directory (common/, fixtures/, parallel/...).
// FILE narrows the run to those names. Each file runs with the flags its
// `// Flags:` line asks for, as Node's test runner gives them, for at most
// 60 s, from the directory above NODE_TEST_DIR, as Node's runner does;
// rexecd runs there too, so that a child's default cwd (the server's) is
// the test's, and the children get the tests' environment
// (REXEC_CHILD_ENV=caller, unless set). node-suite-skips.json names the files that cannot mean
// anything against a remote module, each with its reason; a file that
// skips itself (common.skip: another platform, a binary not built) is not
// counted either.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const HERE = path.join(__dirname, '..');
const FILE_TIMEOUT_MS = 60000;

function parseArgs(argv) {
  const out = { rexecd: process.env.REXECD, logs: null, only: [] };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rexecd') out.rexecd = argv[++i];
    else if (argv[i] === '--logs') out.logs = argv[++i];
    else rest.push(argv[i]);
  }
  [out.testDir, ...out.only] = rest;
  if (!out.testDir || !out.rexecd) {
    console.error('usage: node-suite.js NODE_TEST_DIR [--rexecd PATH] [--logs DIR] [FILE...]');
    process.exit(2);
  }
  return out;
}

function startRexecd(binary, cwd) {
  // --insecure: a root rexecd serves loopback TCP without credentials only so.
  const server = spawn(binary, ['--listen', '127.0.0.1:0', '--insecure'], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    server.stderr.on('data', (chunk) => {
      log += chunk;
      const match = /listening on (\S+)/.exec(log);
      if (match) resolve({ server, address: match[1] });
    });
    server.on('exit', (code) => reject(new Error(`rexecd exited ${code}:\n${log}`)));
  });
}

function flagsOf(file) {
  const match = /^\/\/ Flags:(.*)$/m.exec(fs.readFileSync(file, 'utf8'));
  return match ? match[1].trim().split(/\s+/).filter(Boolean) : [];
}

function runOne(file, cwd, env, logFile) {
  return new Promise((resolve) => {
    const args = ['-r', path.join(HERE, 'register.js'), ...flagsOf(file), file];
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), FILE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const output = Buffer.concat(chunks);
      if (logFile) fs.writeFileSync(logFile, output);
      const skipped = /^1\.\.0 # Skipped: (.*)$/m.exec(output.toString());
      if (code === 0 && skipped) resolve(`SKIP(itself: ${skipped[1]})`);
      else resolve(code === 0 ? 'PASS' : `FAIL(${code ?? signal})`);
    });
  });
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const parallel = path.join(path.resolve(options.testDir), 'parallel');
  const skips = JSON.parse(fs.readFileSync(path.join(__dirname, 'node-suite-skips.json'), 'utf8'));
  let files = fs.readdirSync(parallel)
    .filter((name) => /^test-child-process-.*\.m?js$/.test(name)).sort();
  if (options.only.length) files = files.filter((name) => options.only.some((o) => name.includes(o)));
  if (options.logs) fs.mkdirSync(options.logs, { recursive: true });

  const cwd = path.dirname(path.resolve(options.testDir));
  const { server, address } = await startRexecd(options.rexecd, cwd);
  // Node's tests are written for children that inherit process.env: the
  // library's switch for that (REXEC_CHILD_ENV=caller), unless the caller
  // of this script chose otherwise.
  const env = { REXEC_CHILD_ENV: 'caller', ...process.env, REXEC_SERVER: address };
  const counts = { PASS: 0, FAIL: 0, SKIP: 0 };
  for (const name of files) {
    if (skips[name]) {
      counts.SKIP++;
      console.log(`SKIP ${name}: ${skips[name]}`);
      continue;
    }
    const logFile = options.logs && path.join(options.logs, `${name}.log`);
    const result = await runOne(path.join(parallel, name), cwd, env, logFile);
    counts[result.split('(')[0]]++;
    console.log(`${result} ${name}`);
  }
  server.kill('SIGTERM');
  const counted = counts.PASS + counts.FAIL;
  const share = counted ? `${(100 * counts.PASS / counted).toFixed(1)} %` : 'nothing counted';
  console.log(`counted ${counted}, passed ${counts.PASS} (${share}), skipped ${counts.SKIP}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
