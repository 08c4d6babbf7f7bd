// Starts the rexecd named by $REXECD (or `binary`, another server that logs
// as it does: ../hostile_server.py) for one test file, on 127.0.0.1 port 0,
// and points REXEC_SERVER at it; stops it (SIGTERM, which must exit 0)
// when the file's tests are done. Returns a promise of its address, which
// also carries its `pid` and `log()`, what it said so far. `env` is added
// to the server's environment.
'use strict';

const { spawn } = require('node:child_process');
const { after } = require('node:test');
const assert = require('node:assert');

function startRexecd(extraArgs = [], { setEnv = true, env = {}, binary = process.env.REXECD } = {}) {
  assert.ok(binary, 'REXECD must name the rexecd binary to test against');
  // As root, rexecd serves TCP without a way to know its callers only with
  // --insecure; a test that gives a credential flag means it.
  const credentials = ['--token-file', '--tls-client-ca', '--insecure'];
  const insecure = extraArgs.some((a) => credentials.includes(a)) ? [] : ['--insecure'];
  // The host's PID namespace, not one of rexecd's own: these tests look up
  // the pids a child reports, and its parent, in this machine's /proc, and
  // stop rexecd by its pid. A server's own namespace (its default as root)
  // is tested by tests/e2e/crash_test.cc; what a client sees does not
  // change with it but for the numbers.
  if (binary === process.env.REXECD) insecure.push('--pid-namespace', 'host');
  const server = spawn(binary, ['--listen', '127.0.0.1:0', ...insecure, ...extraArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let log = '';
  const address = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rexecd did not start:\n${log}`)), 20000);
    server.stderr.on('data', (chunk) => {
      log += chunk;
      const match = /listening on (\S+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        if (setEnv) process.env.REXEC_SERVER = match[1];
        resolve(match[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`rexecd exited ${code}:\n${log}`)));
  });
  address.pid = server.pid;
  address.log = () => log;
  after(() => new Promise((resolve, reject) => {
    if (server.exitCode !== null) return resolve();
    server.on('exit', (code, signal) => (code === 0 ? resolve()
      : reject(new Error(`rexecd ended ${code ?? signal} on SIGTERM:\n${log}`))));
    server.kill('SIGTERM');
  }));
  return address;
}

module.exports = { startRexecd };
