// @rexec/child_process: Node's child_process with the children on a rexecd
// server. Change `require('node:child_process')` to
// `require('@rexec/child_process')` (or preload register.js) and spawn,
// exec, execFile, fork and their Sync forms run there: on REXEC_SERVER
// (default unix:/run/rexec/rexecd.sock, with the TLS and token settings
// the rexec CLI reads from the environment), on options.server for one
// call, or on the server of a createClient({server, credentials, token}).
'use strict';

const { promisify } = require('node:util');
const { createClient, grpcStatus } = require('./client');
const { ChildProcess } = require('./child_process');
const { tokenCredentials } = require('./credentials');
const { clientFor } = require('./default_clients');

// The client for a call's arguments: the options object among them (Node's
// optional forms put it second or third) may name a server of its own.
function clientOf(args) {
  const options = args.find((arg, i) => i > 0 && arg !== null && typeof arg === 'object' && !Array.isArray(arg));
  return clientFor(options && Object.hasOwn(options, 'server') ? options.server : undefined);
}

function spawn(file, args, options) { return clientOf([...arguments])[spawn.name](...arguments); }
function spawnSync(file, args, options) { return clientOf([...arguments])[spawnSync.name](...arguments); }
function exec(command, options, callback) { return clientOf([...arguments])[exec.name](...arguments); }
function execSync(command, options) { return clientOf([...arguments])[execSync.name](...arguments); }
function execFile(file, args, options, callback) { return clientOf([...arguments])[execFile.name](...arguments); }
function execFileSync(file, args, options) { return clientOf([...arguments])[execFileSync.name](...arguments); }
function fork(modulePath, args, options) { return clientOf([...arguments])[fork.name](...arguments); }

for (const fn of [exec, execFile]) {
  Object.defineProperty(fn, promisify.custom, {
    enumerable: false,
    value: (...args) => clientOf(args)[fn.name][promisify.custom](...args),
  });
}

module.exports = {
  ChildProcess,
  exec,
  execFile,
  execFileSync,
  execSync,
  fork,
  spawn,
  spawnSync,
  createClient,
  tokenCredentials,
  // grpc.status, to compare an error's cause.code with.
  status: grpcStatus,
};
