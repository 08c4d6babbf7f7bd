// The worker thread of sync.js: runs one Spawn call at a time for a thread
// that waits on Atomics.wait, and answers through a MessagePort before it
// sets `done` and wakes it. Output that is an fd of the caller's goes to
// that fd from here, with fs.writeSync; output that is piped is kept, up to
// a chunk past maxBuffer (then the child is killed: ENOBUFS, as Node's).
//
// Its own event loop; state is per call, but for the connection pools,
// kept per connection for the next calls.
'use strict';

const fs = require('node:fs');
const { workerData, parentPort } = require('node:worker_threads');
const { resolveConnection } = require('./credentials');
const { ConnectionPool } = require('./connection_pool');
const { errnoOfCall } = require('./node_errors');
const {
  writeStdin, exitOf, insaneExit, insaneExitError, noExitError,
} = require('./spawn_protocol');
const { explainCallError } = require('./receive_limit');

const { port, done } = workerData;
const pools = new Map();
const READ_BYTES = 64 << 10;

function poolFor(connection) {
  const key = JSON.stringify(connection);
  if (!pools.has(key)) {
    pools.set(key, new ConnectionPool(resolveConnection(connection.options, connection.env),
      connection.options.maxCallsPerConnection));
  }
  return pools.get(key);
}

// What writeAll waits on for a millisecond.
const pause = new Int32Array(new SharedArrayBuffer(4));

// All of `chunk` to `fd`, which may be non-blocking (a pipe or terminal
// that this process's own stdio made so): EAGAIN waits a millisecond.
function writeAll(fd, chunk) {
  for (let offset = 0; offset < chunk.length;) {
    try {
      offset += fs.writeSync(fd, chunk, offset);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

function run({ connection, start, stdio, timeout, killSignal, maxBuffer }) {
  // As Node's spawnSync: a maxBuffer of 0 is none.
  if (maxBuffer === 0) maxBuffer = Infinity;
  return new Promise((resolve) => {
    const pool = poolFor(connection);
    const call = pool.call('Spawn');
    const kept = [null, [], []];
    const sizes = [0, 0, 0];
    let pid = 0;
    let errno = null;
    let ended = false;
    let timer = null;

    const kill = (why) => {
      if (errno === null) errno = why;
      call.write({ signal: { name: killSignal } });
    };
    const finish = (reply) => {
      if (ended) return;
      ended = true;
      if (timer) clearTimeout(timer);
      resolve(reply);
    };

    call.on('data', (response) => {
      if (ended) return; // nothing after the exit is kept
      switch (response.event) {
        case 'started':
          pid = response.started.pid;
          if (timeout > 0) timer = setTimeout(() => kill('ETIMEDOUT'), timeout);
          break;
        case 'stdout':
        case 'stderr': {
          const fd = response.event === 'stdout' ? 1 : 2;
          const chunk = response[response.event];
          if (stdio[fd].type === 'fd') {
            writeAll(stdio[fd].fd, chunk);
          } else if (stdio[fd].type === 'pipe' && sizes[fd] <= maxBuffer) {
            kept[fd].push(chunk);
            sizes[fd] += chunk.length;
            if (sizes[fd] > maxBuffer) kill('ENOBUFS');
          }
          break;
        }
        case 'exit': {
          const insane = insaneExit(response.exit);
          if (insane !== null) {
            failed(insaneExitError(pool.server, insane));
            call.cancel();
            break;
          }
          const { code, signal } = exitOf(response.exit);
          const output = kept.map((chunks, fd) => (fd > 0 && stdio[fd].type === 'pipe' ? Buffer.concat(chunks) : null));
          finish({ pid, status: code, signal, output, errno });
          call.end();
          break;
        }
        default:
          break;
      }
    });
    const failed = (cause) => {
      const err = explainCallError(cause, pool.server);
      finish({
        pid,
        failure: {
          errno: pid === 0 ? errnoOfCall(err) : null, message: err.message, code: err.code, details: err.details,
        },
      });
    };
    call.on('error', failed);
    call.on('end', () => failed(noExitError()));

    call.write({ start });
    if (stdio[0].type === 'pipe' && stdio[0].input) writeStdin(call, stdio[0].input);
    if (stdio[0].type === 'fd') copyIn(stdio[0].fd, call, () => ended);
    else call.write({ close_stdin: {} });
  });
}

// Copies our fd to the child's stdin, one read at a time, until its EOF or
// the call's end. A read still waiting then takes what comes next on the
// fd with it.
function copyIn(fd, call, over) {
  const buffer = Buffer.alloc(READ_BYTES);
  const next = () => {
    if (over()) return;
    fs.read(fd, buffer, 0, READ_BYTES, null, (err, bytes) => {
      if (over()) return;
      // Our own process.stdin made the fd non-blocking: wait for data.
      if (err && err.code === 'EAGAIN') {
        setTimeout(next, 5);
        return;
      }
      if (err || bytes === 0) {
        call.write({ close_stdin: {} });
        return;
      }
      call.write({ stdin: Buffer.from(buffer.subarray(0, bytes)) }, next);
    });
  };
  next();
}

function answer(reply) {
  port.postMessage(reply);
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
}

parentPort.on('message', (request) => {
  run(request).then(answer, (err) => answer({ pid: 0, failure: { message: String(err && err.stack) } }));
});

// Whatever goes wrong here, the caller waits for an answer.
process.on('uncaughtException', (err) => {
  answer({ pid: 0, failure: { message: `rexec: the worker of spawnSync() failed: ${err && err.stack}` } });
});
