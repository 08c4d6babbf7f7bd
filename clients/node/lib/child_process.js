// ChildProcess: Node's child_process.ChildProcess for a child that runs on a
// rexecd server. One gRPC call is the child: Spawn, or Fork when its stdio
// has an 'ipc' channel. The request stream carries the start, stdin,
// signals and messages, the responses its pid, output, messages and exit.
// Events come in Node's order: 'spawn' once the server started it, 'exit'
// with (code, signal), 'disconnect' for a channel, 'close' once the exit is
// known and every piped output stream and the channel have closed; a start
// that fails emits 'error' then 'close', as a local one does. The pid is
// known from 'spawn' on (the server tells it), not when spawn() returns.
//
// Backpressure runs both ways. Output that is not read waits here, up to
// OUTPUT_ALLOWANCE a stream (what a pipe and its stream hold locally, and
// more), then pauses the call: gRPC's flow control stops the server reading
// the child. The call carries stderr, messages and the exit too, so they
// wait as well; once the child was signalled, the allowance grows to
// STOPPING_ALLOWANCE, so that an unread child that is killed still reports
// its exit. stdin's writes complete as the call sends them, in messages of
// at most STDIN_MESSAGE_BYTES (the server takes 4 MiB).
//
// Like every Node object, it is used from its thread's event loop only.
'use strict';

const { EventEmitter } = require('node:events');
const { Duplex } = require('node:stream');
const fs = require('node:fs');
const os = require('node:os');
const { encodeMessage, decodeMessage } = require('./ipc_value');
const { requestBytes } = require('./proto');
const { codes, nodeError, errnoError, errnoOfCall } = require('./node_errors');
const {
  validateObject, validateString, validateArray, validateOneOf, signalNumber, signalName,
} = require('./validators');
const { getValidStdio, closedFdError } = require('./stdio');
const {
  writeStdin, exitOf, insaneExit, insaneExitError, noExitError,
} = require('./spawn_protocol');
const { explainCallError } = require('./receive_limit');

const OUTPUT_ALLOWANCE = 1 << 20;
const STOPPING_ALLOWANCE = 64 << 20;
// The largest request rexecd takes (gRPC's default), less its framing.
const MAX_REQUEST_BYTES = (4 << 20) - 64;

// What spawn(), fork() and exec hand ChildProcess#spawn besides Node's
// options: the client whose connections the call goes on; fork's start
// ({execPath, execArgv, modulePath, args}); the stop the server enforces
// too ({timeout, killSignal}, see client.js).
const kClient = Symbol('rexec.client');
const kForkStart = Symbol('rexec.forkStart');
const kServerStop = Symbol('rexec.serverStop');
// Our process.env's [name, value] entries, for a child without envPairs
// that inherits them (child_env.js).
const kCallerEnv = Symbol('rexec.callerEnv');

// Streams another child reads from or writes to: not flushed by ours.
const usedAsStdio = new WeakSet();

// Node's `${value}` of an argument or environment entry (a Symbol throws
// TypeError, as Node's own spawn), as the system gets it: a lone surrogate
// becomes U+FFFD (protobuf strings are UTF-8, which cannot hold one).
function systemString(value) {
  return `${value}`.toWellFormed();
}

// Our stream for one of our fds: the process's own for 0, 1 and 2, else a
// file stream that leaves the fd open (an output's is this child's own,
// `owned`, ended once the child is).
function ourReadable(fd) {
  return fd === 0 ? process.stdin : fs.createReadStream(null, { fd, autoClose: false });
}

function ourWritable(fd) {
  if (fd === 1) return { stream: process.stdout, owned: false };
  if (fd === 2) return { stream: process.stderr, owned: false };
  return { stream: fs.createWriteStream(null, { fd, autoClose: false }), owned: true };
}

// A duration for the API from milliseconds.
function duration(ms) {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

// Node's `timeout` and `killSignal` are enforced here, and by the server
// too, a second later: a signal sent from here waits behind more stdin
// than the server reads ahead (16 MiB), a timeout of the server's own does
// not.
const SERVER_STOP_MARGIN_MS = 1000;

// ProcessOptions from ChildProcess#spawn's options.
function processOptions(options, { fork }) {
  const out = {};
  const stop = options[kServerStop] || { timeout: options.timeout, killSignal: options.killSignal };
  if (stop.timeout > 0) {
    out.timeout = duration(stop.timeout + SERVER_STOP_MARGIN_MS);
    if (stop.killSignal != null) out.kill_signal = signalName(signalNumber(stop.killSignal));
  }
  if (options.cwd != null && options.cwd !== '') {
    const cwd = options.cwd instanceof Uint8Array ? Buffer.from(options.cwd).toString() : options.cwd;
    validateString(cwd, 'options.cwd');
    out.cwd = systemString(cwd);
  }
  if (options.envPairs !== undefined) {
    validateArray(options.envPairs, 'options.envPairs');
    out.clear_env = true;
    out.env = {};
    for (const pair of options.envPairs) {
      const text = systemString(pair);
      const equals = text.indexOf('=');
      if (equals > 0) out.env[text.slice(0, equals)] = text.slice(equals + 1);
    }
  } else if (options[kCallerEnv] !== undefined) {
    // Our own environment (the client's childEnv 'caller') goes as
    // caller_env, which the server filters by its policy.
    out.clear_env = true;
    out.caller_env = options[kCallerEnv].map(([name, value]) => (
      { name: Buffer.from(systemString(name)), value: Buffer.from(systemString(value)) }));
  }
  // Ids on the server's machine.
  if (options.uid != null) out.user = String(options.uid);
  if (options.gid != null) out.group = String(options.gid);
  if (options.detached) {
    if (fork) {
      throw codes.ERR_INVALID_ARG_VALUE('options.detached', true,
        'cannot be given with an ipc channel: rexecd\'s channel ends with its call');
    }
    out.detach = true;
  }
  return out;
}

// Fork's start for a child with a channel. rexecd runs EXEC_PATH
// EXEC_ARGV... MODULE ARGS..., all of them as given, so a spawn() argv
// splits at its first non-empty argument.
function forkStart(options) {
  // rexecd's Fork runs the runtime as argv[0]: another name cannot be
  // given, for fork() as for spawn() with 'ipc'.
  if (options.args && options.args.length && systemString(options.args[0]) !== systemString(options.file)) {
    throw codes.ERR_INVALID_ARG_VALUE('options.argv0', options.args[0],
      'cannot be given with an ipc channel: rexecd\'s Fork runs the file as argv[0]');
  }
  if (options[kForkStart]) {
    const { execPath, execArgv, modulePath, args } = options[kForkStart];
    const start = { module: systemString(modulePath), args: args.map(systemString) };
    if (execPath !== null) start.exec_path = systemString(execPath);
    if (execArgv.length) start.exec_argv = execArgv.map(systemString);
    return start;
  }
  const args = (options.args || []).slice(1).map(systemString);
  const at = args.findIndex((arg) => arg !== '');
  if (at < 0) {
    throw codes.ERR_INVALID_ARG_VALUE('args', options.args && options.args.slice(1),
      'must name the module with an ipc channel: rexecd\'s Fork runs FILE ARGS..., with one argument at least');
  }
  return {
    exec_path: systemString(options.file),
    exec_argv: args.slice(0, at),
    module: args[at],
    args: args.slice(at + 1),
  };
}

// Spawn's start from ChildProcess#spawn's options (also spawnSync's).
function spawnStart(options) {
  const args = options.args || [];
  const start = {
    argv: [options.file, ...args.slice(1)].map(systemString),
    options: processOptions(options, { fork: false }),
  };
  if (args.length && systemString(args[0]) !== start.argv[0]) start.argv0 = systemString(args[0]);
  return start;
}

// The client of a ChildProcess made with `new ChildProcess()`, not spawn().
function defaultClient() {
  const { clientFor } = require('./default_clients');
  const { kPool } = require('./client');
  return clientFor(undefined)[kPool];
}

class ChildProcess extends EventEmitter {
  #client = null;
  #call = null;
  #fork = false;
  #exited = false; // the exit (or the call's failure) is known
  #channelOpen = false; // the channel counts toward 'close' until it ends
  #pendingMessages = []; // messages that came before any 'message' listener
  #pausedBy = new Set(); // output targets over their allowance
  #outputs = [null, null, null]; // where stdout (1) and stderr (2) go
  #stdinSource = null; // {unpipe} when stdin is copied from a stream of ours
  #detached = false;
  #unrefWhenStarted = false;
  #signalled = false;
  #pipes = []; // this child's piped output streams
  #ownedTargets = []; // file streams of our own its output goes to

  constructor() {
    super();
    this._closesNeeded = 1;
    this._closesGot = 0;
    this.connected = false;
    this.signalCode = null;
    this.exitCode = null;
    this.killed = false;
    this.spawnfile = null;
  }

  // Starts the child: Node's ChildProcess#spawn, whose options spawn()
  // and fork() build (file, args with argv[0] first, cwd, envPairs,
  // stdio, detached, uid, gid, serialization) and programs seldom do.
  spawn(options) {
    validateObject(options, 'options');
    const { entries, ipc } = getValidStdio(options.stdio || 'pipe', false);
    options.stdio = entries;
    validateOneOf(options.serialization, 'options.serialization', [undefined, 'json', 'advanced']);
    if (ipc !== undefined && options.envPairs !== undefined) validateArray(options.envPairs, 'options.envPairs');
    validateString(options.file, 'options.file');
    this.spawnfile = options.file;
    if (options.args === undefined) {
      this.spawnargs = [];
    } else {
      validateArray(options.args, 'options.args');
      this.spawnargs = options.args;
    }
    if (this.#call !== null) throw new Error('rexec: this ChildProcess was already spawned');

    this.#fork = ipc !== undefined;
    if (this.#fork && options.serialization === 'advanced') {
      throw codes.ERR_INVALID_ARG_VALUE('options.serialization', 'advanced',
        "is not carried by rexecd, whose channel is Node's 'json' one");
    }
    const start = this.#fork
      ? { ...forkStart(options), options: processOptions(options, { fork: true }) }
      : spawnStart(options);
    const closed = closedFdError(entries);
    if (closed !== null) {
      const err = new Error(`spawn ${closed}`);
      Object.assign(err, { errno: -os.constants.errno[closed], code: closed, syscall: 'spawn' });
      throw err;
    }
    this.#detached = Boolean(start.options.detach);
    this.#client = options[kClient] || defaultClient();

    const call = this.#client.call(this.#fork ? 'Fork' : 'Spawn');
    this.#call = call;
    this.pid = undefined;
    this.stdio = entries.map(() => null);
    this.#setUpStdin(entries[0]);
    for (const fd of [1, 2]) this.#setUpOutput(fd, entries[fd]);
    this.stdin = this.stdio[0];
    this.stdout = this.stdio[1];
    this.stderr = this.stdio[2];
    if (this.#fork) {
      this.send = (...args) => this.#send(...args);
      this.disconnect = () => this.#disconnect();
      this.connected = true;
      this.#channelOpen = true;
      this._closesNeeded++;
      this.on('newListener', (event) => {
        if (event === 'message') process.nextTick(() => this.#flushMessages());
      });
    }

    call.on('data', (response) => this.#onResponse(response));
    call.on('error', (err) => this.#onCallError(err));
    call.on('end', () => this.#onCallEnd());
    call.write({ start });
    if (entries[0].type === 'ignore' || entries[0].type === 'ipc') call.write({ close_stdin: {} });
  }

  // Sends `sig` (default SIGTERM, a name or number) to the child's process
  // group: true, and `killed`, while it runs, as Node's kill. Signal 0
  // only tells whether it still runs.
  kill(sig) {
    const number = sig === 0 ? 0 : signalNumber(sig === undefined ? 'SIGTERM' : sig);
    if (this.#call === null || this.#exited) return false;
    if (number !== 0) {
      this.#call.write({ signal: { name: signalName(number) } });
      this.#signalled = true;
      // What waits behind unread output now includes the exit.
      if (this.#pausedBy.size > 0) {
        this.#pausedBy.clear();
        this.#call.resume();
      }
    }
    this.killed = true;
    return true;
  }

  [Symbol.dispose]() {
    if (!this.killed) this.kill();
  }

  // The channel's send(message[, handle][, options][, callback]), a
  // method of a child with a channel only, as Node's: sends a JSON value
  // to the child's process.on('message'). Returns false when the channel
  // is closed (the callback, or else an 'error' event, gets
  // ERR_IPC_CHANNEL_CLOSED).
  #send(message, handle, options, callback) {
    if (typeof handle === 'function') {
      callback = handle;
      handle = undefined;
      options = undefined;
    } else if (typeof options === 'function') {
      callback = options;
      options = undefined;
    } else if (options !== undefined) {
      validateObject(options, 'options');
    }
    if (!this.connected) {
      const err = codes.ERR_IPC_CHANNEL_CLOSED();
      if (typeof callback === 'function') process.nextTick(callback, err);
      else process.nextTick(() => this.emit('error', err));
      return false;
    }
    if (message === undefined) throw codes.ERR_MISSING_ARGS('message');
    if (!['string', 'object', 'number', 'boolean'].includes(typeof message)) {
      throw codes.ERR_INVALID_ARG_TYPE('message', ['string', 'object', 'number', 'boolean'], message);
    }
    if (handle) {
      throw nodeError(TypeError, 'ERR_INVALID_HANDLE_TYPE',
        'rexec: a handle (socket, server) cannot be sent to a remote child');
    }
    const request = { message: encodeMessage(message) };
    // As a Value a message takes more than as JSON (an array of small
    // numbers, up to 5 times): past the server's 4 MiB the call would fail.
    const bytes = requestBytes('Fork', request);
    if (bytes > MAX_REQUEST_BYTES) {
      throw new RangeError(`rexec: a message may take ${MAX_REQUEST_BYTES} bytes as a google.protobuf.Value; this one takes ${bytes}`);
    }
    return this.#call.write(request, () => {
      if (typeof callback === 'function') callback(null);
    });
  }

  // The channel's disconnect(): the child sees 'disconnect', and so do we.
  #disconnect() {
    if (!this.connected) {
      this.emit('error', codes.ERR_IPC_DISCONNECTED());
      return;
    }
    this.connected = false;
    this.#call.write({ disconnect: {} });
    process.nextTick(() => this.emit('disconnect'));
  }

  // A detached child's session outlives us: unref stops watching it (the
  // call ends, the remote process runs on, no 'exit' or 'close' comes), so
  // that our event loop may end; before the server started it, once it
  // has. Another child's life is its call's, so there is nothing to unref.
  unref() {
    if (!this.#detached || this.#call === null || this.#exited) return;
    if (this.pid === undefined) {
      this.#unrefWhenStarted = true;
      return;
    }
    this.#exited = true;
    this.#stopStdin();
    this.#call.cancel();
  }

  ref() {
    this.#unrefWhenStarted = false;
  }

  #setUpStdin(entry) {
    if (entry.type === 'pipe') {
      this.stdio[0] = stdinSink(this.#call);
    } else if (entry.type === 'stream' || entry.type === 'fd') {
      // Our stream (or fd) is copied to the child's stdin while it runs;
      // then left paused, so that it holds our event loop no more.
      const source = entry.type === 'stream' ? entry.stream : ourReadable(entry.fd);
      usedAsStdio.add(source);
      const sink = stdinSink(this.#call);
      source.pipe(sink);
      this.#stdinSource = {
        unpipe() {
          source.unpipe(sink);
          if (typeof source.pause === 'function') source.pause();
        },
      };
    }
  }

  #setUpOutput(fd, entry) {
    if (entry.type === 'pipe') {
      const stream = new Duplex({ writable: false, read: () => this.#resumeFor(stream) });
      this.#outputs[fd] = {
        push: (chunk) => {
          // A stream destroyed unread (exec past maxBuffer) drops the rest.
          if (stream.destroyed || stream.push(chunk)) return;
          const allowance = this.#signalled ? STOPPING_ALLOWANCE : OUTPUT_ALLOWANCE;
          if (stream.readableLength > allowance) this.#pauseFor(stream);
        },
      };
      this.stdio[fd] = stream;
      this.#pipes.push(stream);
      this._closesNeeded++;
      stream.on('close', () => {
        this.#resumeFor(stream);
        this.#maybeClose();
      });
    } else if (entry.type === 'stream' || entry.type === 'fd') {
      const { stream: target, owned } = entry.type === 'stream'
        ? { stream: entry.stream, owned: false } : ourWritable(entry.fd);
      // What went to a file stream of our own is written before 'close',
      // as a local child's writes are done by its exit.
      if (owned) {
        this.#ownedTargets.push(target);
        this._closesNeeded++;
        target.on('finish', () => this.#maybeClose());
        target.on('error', (err) => this.emit('error', err));
      }
      this.#outputs[fd] = {
        push: (chunk) => {
          if (!target.write(chunk)) {
            this.#pauseFor(target);
            target.once('drain', () => this.#resumeFor(target));
          }
        },
      };
    }
  }

  #pauseFor(stream) {
    if (this.#pausedBy.size === 0) this.#call.pause();
    this.#pausedBy.add(stream);
  }

  #resumeFor(stream) {
    if (!this.#pausedBy.delete(stream)) return;
    if (this.#pausedBy.size === 0) this.#call.resume();
  }

  #onResponse(response) {
    // Nothing comes after the exit: a server that sends more is not heard.
    if (this.#exited) return;
    switch (response.event) {
      case 'started':
        this.pid = response.started.pid;
        if (response.started.session) this.session = response.started.session;
        this.emit('spawn');
        if (this.#unrefWhenStarted) this.unref();
        break;
      case 'stdout':
      case 'stderr': {
        const output = this.#outputs[response.event === 'stdout' ? 1 : 2];
        if (output !== null) output.push(response[response.event]);
        break;
      }
      case 'message':
        this.#onMessage(decodeMessage(response.message));
        break;
      case 'disconnected':
        this.#onChannelEnd();
        break;
      case 'exit':
        this.#onExit(response.exit);
        break;
      default:
        break;
    }
  }

  // As Node's channel: 'message' on the next tick, once someone listens.
  // (Node's own messages, whose `cmd` starts NODE_, rexecd keeps.)
  #onMessage(message) {
    if (!this.#channelOpen) return;
    this.#pendingMessages.push(message);
    process.nextTick(() => this.#flushMessages());
  }

  #flushMessages() {
    while (this.#pendingMessages.length > 0 && this.listenerCount('message') > 0) {
      this.emit('message', this.#pendingMessages.shift());
    }
  }

  // The child closed its channel, or the server says it is closed.
  #onChannelEnd() {
    if (!this.#channelOpen) return;
    this.#channelOpen = false;
    if (this.connected) {
      this.connected = false;
      process.nextTick(() => {
        this.emit('disconnect');
        this.#maybeClose();
      });
    } else {
      process.nextTick(() => this.#maybeClose());
    }
  }

  #onExit(exit) {
    const insane = insaneExit(exit);
    if (insane !== null) {
      // No 'exit' with a code or signal no process can have: the call fails.
      this.#onCallError(insaneExitError(this.#client.server, insane));
      this.#call.cancel();
      return;
    }
    const { code, signal } = exitOf(exit);
    this.exitCode = code;
    this.signalCode = signal;
    this.#ended();
    this.emit('exit', this.exitCode, this.signalCode);
    this.#finishOutputs();
    // Nothing more to say to the server: it ends the call with OK.
    this.#call.end();
  }

  #onCallError(err) {
    if (this.#exited) return; // unref's cancel, or a failure after the exit
    const name = this.pid === undefined ? errnoOfCall(err) : null;
    let error = explainCallError(err, this.#client.server);
    if (name !== null) {
      const syscall = `spawn ${this.spawnfile}`;
      error = errnoError(name, syscall, this.spawnfile, this.spawnargs.slice(1), err);
      this.exitCode = error.errno;
    }
    this.#ended();
    this.emit('error', error);
    this.#finishOutputs();
  }

  #onCallEnd() {
    // An OK status without an exit: a server that broke the protocol.
    if (this.#exited) return;
    this.#onCallError(noExitError());
  }

  // The exit, or the call's failure: what Node's onexit does first.
  #ended() {
    this.#exited = true;
    this.#stopStdin();
    this.#onChannelEnd();
  }

  #stopStdin() {
    if (this.stdin) this.stdin.destroy();
    if (this.#stdinSource !== null) {
      this.#stdinSource.unpipe();
      this.#stdinSource = null;
    }
  }

  // Piped outputs end; one nobody reads from is drained on the next tick,
  // as Node's flushStdio does, so that 'close' comes.
  #finishOutputs() {
    this.#pausedBy.clear();
    for (const stream of this.#pipes) stream.push(null);
    for (const target of this.#ownedTargets) target.end();
    process.nextTick(() => {
      for (const stream of this.#pipes) {
        if (stream.readable && !usedAsStdio.has(stream)) stream.resume();
      }
    });
    this.#maybeClose();
  }

  #maybeClose() {
    this._closesGot++;
    if (this._closesGot === this._closesNeeded) {
      this.emit('close', this.exitCode, this.signalCode);
    }
  }
}

// The child's stdin as a stream: writes go to the call as stdin, the end
// as close_stdin.
function stdinSink(call) {
  return new Duplex({
    readable: false,
    write(chunk, _encoding, callback) { writeStdin(call, chunk, callback); },
    final(callback) { call.write({ close_stdin: {} }, () => callback()); },
  });
}

module.exports = { ChildProcess, kClient, kForkStart, kServerStop, kCallerEnv, spawnStart };
