// Errors as Node's child_process makes them, from what rexecd answered.
// Every error made from a gRPC failure keeps it as `cause` (its `code` is
// the gRPC status, `details` the server's message).
'use strict';

const os = require('node:os');
const grpc = require('@grpc/grpc-js');

// rexecd ends a start error that an errno explains with its name:
// "spawn nosuch: not found in PATH (ENOENT)".
const ERRNO_SUFFIX = /\((E[A-Z0-9]+)\)$/;

// A failure to start `file` (NOT_FOUND, PERMISSION_DENIED... naming an
// errno) as the error Node emits for a local spawn that failed: code
// 'ENOENT', errno -2, syscall 'spawn FILE', path FILE, spawnargs. null for
// a failure no errno explains (a policy's refusal, the server unreachable).
function spawnErrnoError(grpcError, file, spawnargs) {
  if (grpcError.code === grpc.status.UNAVAILABLE) return null;
  const match = ERRNO_SUFFIX.exec(grpcError.details || '');
  const number = match && os.constants.errno[match[1]];
  if (!number) return null;
  const syscall = `spawn ${file}`;
  const err = new Error(`${syscall} ${match[1]}`, { cause: grpcError });
  err.errno = -number;
  err.code = match[1];
  err.syscall = syscall;
  err.path = file;
  err.spawnargs = spawnargs;
  return err;
}

// An error with Node's `code` property, as Node's internal errors have.
function nodeError(code, message, Base = Error) {
  const err = new Base(message);
  err.code = code;
  return err;
}

function abortError(reason) {
  const err = new Error('The operation was aborted', { cause: reason });
  err.name = 'AbortError';
  err.code = 'ABORT_ERR';
  return err;
}

module.exports = { spawnErrnoError, nodeError, abortError };
