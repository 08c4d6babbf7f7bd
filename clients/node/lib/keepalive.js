// How a client finds that its server froze or vanished: while a call is
// open, grpc-js pings the server after `keepaliveTime` ms without a byte
// from it, and gives the connection up (its calls fail UNAVAILABLE) when
// no answer comes within `keepaliveTimeout` ms. Without it a call to a
// server that stopped answering (a host gone, a SIGSTOP) waits as long as
// TCP lets it, and a call whose child prints nothing waits for ever. Pure
// functions.
'use strict';

// A ping after 30 s of silence: half of what idle NATs and load balancers
// commonly keep, and three times rexecd's --keepalive-min-time (10 s), the
// most often it takes pings without closing the connection (GOAWAY
// too_many_pings). An answer within 20 s, as rexecd asks of its clients.
const DEFAULT_KEEPALIVE_TIME = 30000;
const DEFAULT_KEEPALIVE_TIMEOUT = 20000;

function checkMilliseconds(name, value, fallback, allowZero) {
  if (value === undefined) return fallback;
  if (!(Number.isInteger(value) && (allowZero ? value >= 0 : value > 0) && value < 2 ** 31)) {
    throw new RangeError(`rexec: ${name} must be an integer from ${allowZero ? 0 : 1} to 2 ** 31 - 1 ms, not ${value}`);
  }
  return value;
}

// grpc-js's channel options for createClient's keepaliveTime (0: no pings)
// and keepaliveTimeout, checked; the defaults when undefined. No pings on
// a connection without calls: rexecd holds those to one in two hours.
function keepaliveChannelOptions({ keepaliveTime, keepaliveTimeout }) {
  const time = checkMilliseconds('keepaliveTime', keepaliveTime, DEFAULT_KEEPALIVE_TIME, true);
  const timeout = checkMilliseconds('keepaliveTimeout', keepaliveTimeout, DEFAULT_KEEPALIVE_TIMEOUT, false);
  if (time === 0) return {};
  return {
    'grpc.keepalive_time_ms': time,
    'grpc.keepalive_timeout_ms': timeout,
    'grpc.keepalive_permit_without_calls': 0,
  };
}

module.exports = { keepaliveChannelOptions, DEFAULT_KEEPALIVE_TIME, DEFAULT_KEEPALIVE_TIMEOUT };
