// What a Spawn (or Fork) call says to rexecd and hears back, shared by the
// ChildProcess of the async functions and the worker of the Sync ones:
// stdin in messages the server takes, the exit as Node's (code, signal),
// and the errors of a call that ended without an exit or with one that no
// process can have.
'use strict';

const grpc = require('@grpc/grpc-js');
const { signals } = require('node:os').constants;

// Linux's highest signal number (SIGRTMAX): rexecd names a signal without
// an abbreviation "SIG<n>", up to it.
const LAST_SIGNAL = 64;

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

// What is wrong with an exit that no process can have, which a broken or
// hostile server may send (null when it is sane): a code outside 0-255
// (256 as a wait status would be 0), a signal Linux does not have, or
// neither.
function insaneExit(exit) {
  if (exit.status === 'code') {
    return Number.isInteger(exit.code) && exit.code >= 0 && exit.code <= 255
      ? null : `exit code ${exit.code}, outside 0-255`;
  }
  if (exit.status === 'signal') {
    const number = /^SIG([1-9][0-9]*)$/.exec(exit.signal);
    const known = Object.hasOwn(signals, exit.signal) || (number !== null && Number(number[1]) <= LAST_SIGNAL);
    return known ? null : `signal ${JSON.stringify(exit.signal)}, which Linux does not have`;
  }
  return 'an exit with neither a code nor a signal';
}

// The failure of a call whose server at `server` sent an exit that
// insaneExit refused.
function insaneExitError(server, what) {
  const details = `rexec: ${server} sent ${what}`;
  return Object.assign(new Error(details), { code: grpc.status.UNKNOWN, details });
}

// The failure of a call whose server ended it OK without an exit: a
// server that broke the protocol.
function noExitError() {
  return Object.assign(new Error('rexec: the call ended without the child\'s exit'),
    { code: grpc.status.INTERNAL, details: 'no exit event' });
}

module.exports = {
  STDIN_MESSAGE_BYTES, writeStdin, exitOf, insaneExit, insaneExitError, noExitError,
};
