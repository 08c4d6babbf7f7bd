// The connections of one client: each call (one child) goes on a connection
// with fewer than `maxCallsPerConnection` calls open, and a new connection
// is opened when none has room. rexecd takes at most
// --max-streams-per-connection calls on one connection (100 by default)
// and holds the next one back, without a word, until one ends: a client
// that spawned 300 children at once would have seen the last 200 wait
// silently. Connections stay open once made (gRPC closes an idle one after
// the server's --max-connection-idle); close() ends them all.
//
// Used from one thread's event loop; not thread-safe.
'use strict';

const { childProcessService } = require('./proto');
const { limitOf } = require('./receive_limit');

// rexecd's default --max-streams-per-connection.
const DEFAULT_MAX_CALLS_PER_CONNECTION = 100;

class ConnectionPool {
  // `connection`: resolveConnection's {server, credentials, channelOptions,
  // receiveLimit}.
  constructor(connection, maxCallsPerConnection = DEFAULT_MAX_CALLS_PER_CONNECTION) {
    if (!(Number.isInteger(maxCallsPerConnection) && maxCallsPerConnection > 0)) {
      throw new RangeError(`rexec: maxCallsPerConnection must be a positive integer, not ${maxCallsPerConnection}`);
    }
    this._connection = connection;
    this._max = maxCallsPerConnection;
    this._members = []; // {stub, limit, calls}
  }

  // The address the connections go to, for errors.
  get server() { return this._connection.server; }

  // A new call of `rpc` ('Spawn', 'Fork') on a connection with room, and
  // with the receive limit of that rpc.
  call(rpc) {
    const limit = limitOf(rpc, this._connection.receiveLimit);
    let member = this._members.find((m) => m.limit === limit && m.calls < this._max);
    if (member === undefined) {
      const Service = childProcessService();
      const { server, credentials, channelOptions } = this._connection;
      // A channel of its own: gRPC would otherwise share one connection
      // among channels to the same server with the same options.
      member = {
        stub: new Service(server, credentials, {
          ...channelOptions,
          'grpc.max_receive_message_length': limit,
          'grpc.use_local_subchannel_pool': 1,
        }),
        limit,
        calls: 0,
      };
      this._members.push(member);
    }
    const call = member.stub[rpc]();
    member.calls++;
    call.once('status', () => { member.calls--; });
    return call;
  }

  // Ends every connection; calls still open fail (UNAVAILABLE or CANCELLED).
  close() {
    for (const member of this._members) member.stub.close();
    this._members = [];
  }
}

module.exports = { ConnectionPool };
