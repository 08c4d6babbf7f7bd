// @rexec/child_process: Node's child_process with the children on a rexecd
// server. Change `require('node:child_process')` to
// `require('@rexec/child_process')` and spawn, exec, execFile and fork run
// there: on REXEC_SERVER (default 127.0.0.1:50051, with the TLS and token
// settings the rexec CLI reads from the environment), on options.server for
// one call, or on the server of a createClient({server, credentials, token}).
'use strict';

const { createClient, grpcStatus } = require('./client');
const { ChildProcess } = require('./child_process');
const { tokenCredentials } = require('./credentials');
const { nodeError } = require('./errors');

// One client per server a call names (options.server), made on first use.
const clients = new Map();

function clientFor(options) {
  const server = options && typeof options === 'object' ? options.server : undefined;
  const key = server === undefined ? '' : String(server);
  if (!clients.has(key)) clients.set(key, createClient(server === undefined ? {} : { server: key }));
  return clients.get(key);
}

// The options object among a function's arguments (Node's optional forms).
function optionsOf(args) {
  return args.find((arg, i) => i > 0 && arg !== null && typeof arg === 'object' && !Array.isArray(arg));
}

function spawn(...args) { return clientFor(optionsOf(args)).spawn(...args); }
function fork(...args) { return clientFor(optionsOf(args)).fork(...args); }
function exec(...args) { return clientFor(optionsOf(args)).exec(...args); }
function execFile(...args) { return clientFor(optionsOf(args)).execFile(...args); }
for (const name of ['exec', 'execFile']) {
  const { custom } = require('node:util').promisify;
  const fn = { exec, execFile }[name];
  Object.defineProperty(fn, custom, {
    enumerable: false,
    value: (...args) => clientFor(optionsOf(args))[name][custom](...args),
  });
}

// The synchronous forms would block the event loop on the network: a
// program that calls one learns so at once, not from `undefined`.
function synchronous(name) {
  return () => {
    throw nodeError('ERR_REXEC_SYNC_UNSUPPORTED',
      `rexec: ${name}() is not provided: it would block the event loop on the network; ` +
      `use ${name.replace('Sync', '')}() (util.promisify gives a promise)`);
  };
}

module.exports = {
  spawn, exec, execFile, fork, ChildProcess, createClient, tokenCredentials,
  spawnSync: synchronous('spawnSync'),
  execSync: synchronous('execSync'),
  execFileSync: synchronous('execFileSync'),
  // grpc.status, to compare an error's cause.code with.
  status: grpcStatus,
};
