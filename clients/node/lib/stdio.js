// The `stdio` option of spawn and fork, as Node reads it, for a child whose
// fds are on another machine: each of 0, 1 and 2 is a pipe (a stream of the
// call), ignored (stdin closed at once, output dropped), or inherited (our
// own process.stdin/stdout/stderr, or a stream given in its place, copied
// to and from the call). 'ipc' is fork's channel. Anything else cannot
// cross the network and is refused, naming what was asked.
'use strict';

const { Stream } = require('node:stream');
const { nodeError } = require('./errors');

function invalid(index, value, why) {
  return nodeError('ERR_INVALID_ARG_VALUE',
    `The argument 'stdio[${index}]' is invalid. Received ${String(value)}: ${why}`,
    TypeError);
}

// [{kind: 'pipe'|'ignore'|'inherit', stream?}, x3] and whether 'ipc' is asked.
function normalizeStdio(stdio, { fork = false } = {}) {
  let entries;
  if (stdio === undefined || stdio === null) {
    entries = ['pipe', 'pipe', 'pipe'];
  } else if (typeof stdio === 'string') {
    if (!['pipe', 'overlapped', 'ignore', 'inherit'].includes(stdio)) {
      throw nodeError('ERR_INVALID_ARG_VALUE',
        `The argument 'stdio' is invalid. Received '${stdio}'`, TypeError);
    }
    entries = [stdio, stdio, stdio];
  } else if (Array.isArray(stdio)) {
    entries = stdio.slice();
  } else {
    throw nodeError('ERR_INVALID_ARG_VALUE',
      `The argument 'stdio' is invalid. Received ${typeof stdio}`, TypeError);
  }
  while (entries.length < 3) entries.push(undefined);

  let ipc = false;
  const fds = entries.map((entry, index) => {
    if (entry === 'ipc') {
      if (!fork) throw invalid(index, entry, "rexec carries an 'ipc' channel for fork() only");
      if (ipc) throw invalid(index, entry, "only one 'ipc' entry");
      ipc = true;
      return null;
    }
    if (index > 2) {
      if (entry === undefined || entry === null || entry === 'ignore') return null;
      throw invalid(index, entry, 'rexec carries stdin, stdout and stderr only (no extra fds)');
    }
    if (entry === undefined || entry === null || entry === 'pipe' || entry === 'overlapped') {
      return { kind: 'pipe' };
    }
    if (entry === 'ignore') return { kind: 'ignore' };
    if (entry === 'inherit' || entry === index) return { kind: 'inherit', stream: ourStream(index) };
    if (typeof entry === 'number' && entry >= 0 && entry <= 2 && index > 0 && entry > 0) {
      return { kind: 'inherit', stream: ourStream(entry) };
    }
    if (entry instanceof Stream) {
      const fits = index === 0 ? typeof entry.read === 'function' : typeof entry.write === 'function';
      if (!fits) throw invalid(index, entry, index === 0 ? 'stdin needs a readable stream' : 'output needs a writable stream');
      return { kind: 'inherit', stream: entry };
    }
    throw invalid(index, entry, 'rexec cannot pass a file descriptor or handle to a remote child');
  });
  if (fork && !ipc) {
    throw nodeError('ERR_CHILD_PROCESS_IPC_REQUIRED',
      "Forked processes must have an IPC channel, missing value 'ipc' in options.stdio");
  }
  return { fds: fds.slice(0, 3), ipc };
}

function ourStream(fd) {
  return [process.stdin, process.stdout, process.stderr][fd];
}

module.exports = { normalizeStdio };
