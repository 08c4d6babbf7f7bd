// How much a client takes from its server in one message, and the error
// of a call that was sent more. Each connection has one limit (grpc-js has
// no per-call one), so Spawn and Fork calls go on connections of their own
// limits (connection_pool.js). grpc-js reads a message's length before its
// bytes: a larger one is refused unread. Pure functions.
'use strict';

const grpc = require('@grpc/grpc-js');

// Four times rexecd's largest output chunk (1 MiB).
const DEFAULT_RECEIVE_LIMIT = 4 << 20;
// A Fork message of 4 MiB of JSON (the server's bound) can take five
// times that as a google.protobuf.Value.
const FORK_RECEIVE_LIMIT = 32 << 20;

// createClient's receiveLimit, checked; the default when undefined.
function checkReceiveLimit(receiveLimit) {
  if (receiveLimit === undefined) return DEFAULT_RECEIVE_LIMIT;
  if (!(Number.isInteger(receiveLimit) && receiveLimit > 0 && receiveLimit < 2 ** 31)) {
    throw new RangeError(`rexec: receiveLimit must be an integer from 1 to 2 ** 31 - 1 bytes, not ${receiveLimit}`);
  }
  return receiveLimit;
}

// The limit of a call of `rpc` ('Spawn', 'Fork') on a client whose limit
// is `receiveLimit`.
function limitOf(rpc, receiveLimit) {
  return rpc === 'Fork' ? Math.max(receiveLimit, FORK_RECEIVE_LIMIT) : receiveLimit;
}

const TOO_LARGE = /^Received message larger than max \((\d+) vs\.? (\d+)\)$/;

// `err` of a call to `server`, with grpc-js's words for a message over the
// limit, which name neither the server nor whose limit it is, replaced.
function explainCallError(err, server) {
  const match = err.code === grpc.status.RESOURCE_EXHAUSTED ? TOO_LARGE.exec(err.details || '') : null;
  if (match === null) return err;
  const details = `rexec: message from ${server} of ${match[1]} bytes exceeds the receive limit of ${match[2]} bytes (createClient's receiveLimit)`;
  return Object.assign(new Error(details), { code: err.code, details, metadata: err.metadata });
}

module.exports = { DEFAULT_RECEIVE_LIMIT, FORK_RECEIVE_LIMIT, checkReceiveLimit, limitOf, explainCallError };
