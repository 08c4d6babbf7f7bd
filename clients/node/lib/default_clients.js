// The clients the module's own functions (spawn, exec... of index.js) use:
// one per server a call names in options.server, made on first use, and
// without one REXEC_SERVER's. Used from one thread's event loop.
'use strict';

const { createClient } = require('./client');

const clients = new Map();

function clientFor(server) {
  const key = server === undefined ? '' : String(server);
  if (!clients.has(key)) clients.set(key, createClient(server === undefined ? {} : { server: key }));
  return clients.get(key);
}

module.exports = { clientFor };
