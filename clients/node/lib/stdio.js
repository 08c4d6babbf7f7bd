// The `stdio` option as Node reads it, for a child whose fds are on another
// machine. Each of the child's 0, 1 and 2 is one of:
//   pipe    a stream of the call (child.stdin, child.stdout, child.stderr);
//   ignore  stdin closed at once, output dropped here;
//   fd      a descriptor of ours ('inherit' is ours of the same number, a
//           number or an object with a numeric `fd` names one), copied to
//           the child's stdin or from its output while it runs;
//   stream  a Node stream of ours given in its place, likewise.
// One 'ipc' entry is the channel (rexecd's Fork: on the server it is the
// child's fd 3, whatever its index here). What cannot cross the network
// (a handle, another fd for the child) is refused, naming the entry.
// Stateless.
'use strict';

const fs = require('node:fs');
const { Stream } = require('node:stream');
const { codes } = require('./node_errors');
const { stdioStringToArray } = require('./spawn_arguments');

const CANNOT_CROSS = 'cannot cross to a remote child (rexec carries its stdin, stdout, stderr and one ipc channel)';

function refused(index, value) {
  return codes.ERR_INVALID_ARG_VALUE(`options.stdio[${index}]`, value, CANNOT_CROSS);
}

// {entries, ipc}: `entries` one per stdio entry (at least 3), each
// {type: 'pipe'|'ignore'|'fd'|'stream'|'ipc', fd?, stream?}; `ipc` the
// index of the channel or undefined. `sync`: spawnSync's rules (no
// channel; a stream only by its fd).
function getValidStdio(stdio, sync) {
  if (typeof stdio === 'string') stdio = stdioStringToArray(stdio);
  else if (!Array.isArray(stdio)) throw codes.ERR_INVALID_ARG_VALUE('stdio', stdio);
  while (stdio.length < 3) stdio.push(undefined);

  let ipc;
  const entries = stdio.map((entry, i) => {
    if (entry == null) entry = i < 3 ? 'pipe' : 'ignore';
    if (entry === 'ignore') return { type: 'ignore' };
    if (entry === 'pipe' || entry === 'overlapped' || (typeof entry === 'number' && entry < 0)) {
      if (i > 2) throw refused(i, entry);
      return { type: 'pipe' };
    }
    if (entry === 'ipc') {
      if (sync) throw codes.ERR_IPC_SYNC_FORK();
      if (ipc !== undefined) throw codes.ERR_IPC_ONE_PIPE();
      ipc = i;
      return { type: 'ipc' };
    }
    if (entry === 'inherit') entry = i;
    if (i > 2) throw refused(i, entry);
    if (!sync && entry instanceof Stream) return { type: 'stream', stream: entry };
    if (typeof entry === 'number') return { type: 'fd', fd: entry };
    if (typeof entry === 'object' && typeof entry.fd === 'number') return { type: 'fd', fd: entry.fd };
    if (!sync && (ArrayBuffer.isView(entry) || typeof entry === 'string')) {
      throw codes.ERR_INVALID_SYNC_FORK_INPUT(entry);
    }
    if (typeof entry === 'object' && (entry._handle || entry.handle)) throw refused(i, entry);
    throw codes.ERR_INVALID_ARG_VALUE('stdio', entry);
  });
  return { entries, ipc };
}

// The errno name (EBADF) if an fd entry names no open fd of ours, else
// null: Node's spawn fails so before anything runs.
function closedFdError(entries) {
  for (const entry of entries) {
    if (entry.type !== 'fd') continue;
    try {
      fs.fstatSync(entry.fd);
    } catch (err) {
      return err.code;
    }
  }
  return null;
}

module.exports = { getValidStdio, closedFdError };
