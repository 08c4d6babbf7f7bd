// What a Spawn (or Fork) call says to rexecd and hears back, shared by the
// ChildProcess of the async functions and the worker of the Sync ones:
// stdin in messages the server takes, the exit as Node's (code, signal),
// and the error of a call that ended without an exit.
'use strict';

const grpc = require('@grpc/grpc-js');

// stdin goes in messages of at most this (the server takes 4 MiB).
const STDIN_MESSAGE_BYTES = 1 << 20;

// Writes `chunk` to the call as stdin messages of bounded size (an empty
// chunk as one empty message); `done` once the call has taken the last.
function writeStdin(call, chunk, done = () => {}) {
  let offset = 0;
  do {
    const end = Math.min(offset + STDIN_MESSAGE_BYTES, chunk.length);
    const last = end === chunk.length;
    call.write({ stdin: chunk.subarray(offset, end) }, last ? () => done() : undefined);
    offset = end;
  } while (offset < chunk.length);
}

// An ExitStatus as Node reports an exit: the code, or the signal's name.
function exitOf(exit) {
  return exit.status === 'signal'
    ? { code: null, signal: exit.signal } : { code: exit.code || 0, signal: null };
}

// The failure of a call whose server ended it OK without an exit: a
// server that broke the protocol.
function noExitError() {
  return Object.assign(new Error('rexec: the call ended without the child\'s exit'),
    { code: grpc.status.INTERNAL, details: 'no exit event' });
}

module.exports = { STDIN_MESSAGE_BYTES, writeStdin, exitOf, noExitError };
