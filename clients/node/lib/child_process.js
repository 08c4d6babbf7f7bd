// ChildProcess: Node's child_process.ChildProcess for a child that runs on a
// rexecd server. One gRPC call (Spawn or Fork) is the child: the request
// stream carries the start, stdin, signals and messages, the responses its
// pid, output, messages and exit. Events come in Node's order: 'spawn' once
// the server started it, 'exit' with (code, signal), 'disconnect' for a
// fork's channel, and 'close' once the exit is known and every piped output
// stream has closed; a start that fails emits 'error' then 'close', as a
// local one does.
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
// Like every Node object, it is used from the event loop only.
'use strict';

const { EventEmitter } = require('node:events');
const { Readable, Writable } = require('node:stream');
const grpc = require('@grpc/grpc-js');
const { encodeMessage, decodeMessage } = require('./ipc_value');
const { requestBytes } = require('./proto');
const { spawnErrnoError, nodeError } = require('./errors');
const { signalName } = require('./signals');

const OUTPUT_ALLOWANCE = 1 << 20;
const STOPPING_ALLOWANCE = 64 << 20;
const STDIN_MESSAGE_BYTES = 1 << 20;
// The largest request rexecd takes (gRPC's default), less its framing.
const MAX_REQUEST_BYTES = (4 << 20) - 64;

// Writes `chunk` to the call as stdin messages of bounded size; `done`
// once the call has taken the last.
function writeStdin(call, chunk, done) {
  for (let offset = STDIN_MESSAGE_BYTES; offset < chunk.length; offset += STDIN_MESSAGE_BYTES) {
    call.write({ stdin: chunk.subarray(offset - STDIN_MESSAGE_BYTES, offset) });
  }
  const last = Math.floor((chunk.length - 1) / STDIN_MESSAGE_BYTES) * STDIN_MESSAGE_BYTES;
  call.write({ stdin: chunk.subarray(Math.max(last, 0)) }, () => done());
}

class ChildProcess extends EventEmitter {
  constructor() {
    super();
    this.pid = undefined;
    this.exitCode = null;
    this.signalCode = null;
    this.killed = false;
    this.connected = false;
    this.spawnfile = undefined;
    this.spawnargs = [];
    this.stdin = null;
    this.stdout = null;
    this.stderr = null;
    this.stdio = [null, null, null];
    // A detached child's session id (options.detached), once started.
    this.session = undefined;

    this._call = null;
    this._exited = false; // the exit (or the call's failure) is known
    this._closesNeeded = 1; // the exit, then each piped output and the channel
    this._closesGot = 0;
    this._pausedBy = new Set(); // output streams over their highWaterMark
    this._outputs = [null, null, null]; // where stdout (1) and stderr (2) go
    this._unpipeStdin = null;
    this._detached = false;
    this._signalled = false;
  }

  // Starts the child. `options`: {stub, rpc ('Spawn' or 'Fork'), file,
  // args (argv, args[0] what the child sees), start (the rpc's start
  // message without argv), stdio (normalizeStdio's)}. Called by spawn()
  // and fork(); not by programs.
  spawn(options) {
    if (this._call !== null) throw nodeError('ERR_INTERNAL_ASSERTION', 'rexec: the child was already spawned');
    this.spawnfile = options.file;
    this.spawnargs = options.args;
    this._detached = Boolean(options.start.options && options.start.options.detach);
    const call = options.stub[options.rpc]();
    this._call = call;

    this._setUpStdin(options.stdio.fds[0]);
    for (const fd of [1, 2]) this._setUpOutput(fd, options.stdio.fds[fd]);
    if (options.stdio.ipc) {
      this.connected = true;
      this._closesNeeded++;
      this.stdio.push(null);
    }

    call.on('data', (response) => this._onResponse(response));
    call.on('error', (err) => this._onCallError(err));
    call.on('end', () => this._onCallEnd());
    call.write({ start: options.start });
    if (this.stdin === null && !this._unpipeStdin) call.write({ close_stdin: {} });
  }

  // Sends `signal` (default SIGTERM) to the child's process group. true if
  // it was sent (the child had not exited), as Node's kill; `killed` then
  // becomes true. Signal 0 only tells whether the child still runs.
  kill(signal = 'SIGTERM') {
    const name = signalName(signal);
    if (this._call === null || this._exited) return false;
    if (name !== 0) {
      this._call.write({ signal: { name } });
      this._signalled = true;
      // What waits behind unread output now includes the exit.
      if (this._pausedBy.size > 0) {
        this._pausedBy.clear();
        this._call.resume();
      }
    }
    this.killed = true;
    return true;
  }

  // Fork's channel: sends a JSON value to the child's process.on('message').
  // Returns false when the channel is closed (the callback, or else an
  // 'error' event, gets ERR_IPC_CHANNEL_CLOSED).
  send(message, handle, options, callback) {
    if (typeof handle === 'function') {
      callback = handle;
      handle = undefined;
    } else if (typeof options === 'function') {
      callback = options;
    }
    if (message === undefined) {
      throw nodeError('ERR_MISSING_ARGS', 'The "message" argument must be specified', TypeError);
    }
    if (handle !== undefined && handle !== null) {
      throw nodeError('ERR_INVALID_HANDLE_TYPE',
        'rexec: a handle (socket, server) cannot be sent to a remote child', TypeError);
    }
    if (!this.connected) {
      const err = nodeError('ERR_IPC_CHANNEL_CLOSED', 'Channel closed');
      if (typeof callback === 'function') process.nextTick(callback, err);
      else process.nextTick(() => this.emit('error', err));
      return false;
    }
    const request = { message: encodeMessage(message) };
    // As a Value a message takes more than as JSON (an array of small
    // numbers, up to 5 times): past the server's 4 MiB the call would fail.
    const bytes = requestBytes('Fork', request);
    if (bytes > MAX_REQUEST_BYTES) {
      throw new RangeError(`rexec: a message may take ${MAX_REQUEST_BYTES} bytes as a google.protobuf.Value; this one takes ${bytes}`);
    }
    return this._call.write(request, () => {
      if (typeof callback === 'function') callback(null);
    });
  }

  // Closes fork's channel: the child sees 'disconnect', and so do we.
  disconnect() {
    if (!this.connected) {
      this.emit('error', nodeError('ERR_IPC_DISCONNECTED', 'IPC channel is already disconnected'));
      return;
    }
    this._call.write({ disconnect: {} });
    this._channelClosed();
  }

  // A detached child's session outlives us: unref stops watching it (the
  // call ends, the remote process runs on, no 'exit' or 'close' comes), so
  // that our event loop may end. Another child's life is its call's, so
  // there is nothing to unref.
  unref() {
    if (!this._detached || this._call === null || this._exited) return;
    this._exited = true;
    this._stopStdin();
    this._call.cancel();
  }

  ref() {}

  _setUpStdin(fd) {
    if (fd.kind === 'pipe') {
      const call = () => this._call;
      this.stdin = new Writable({
        write(chunk, _encoding, callback) { writeStdin(call(), chunk, callback); },
        final(callback) { call().write({ close_stdin: {} }, () => callback()); },
      });
      this.stdio[0] = this.stdin;
    } else if (fd.kind === 'inherit') {
      // Our stdin (or the stream given) is copied to the child's while it
      // runs; then left paused, so that it holds our event loop no more.
      const source = fd.stream;
      const sink = new Writable({
        write: (chunk, _encoding, callback) => writeStdin(this._call, chunk, callback),
        final: (callback) => this._call.write({ close_stdin: {} }, () => callback()),
      });
      source.pipe(sink);
      this._unpipeStdin = () => {
        source.unpipe(sink);
        if (typeof source.pause === 'function') source.pause();
      };
    }
  }

  _setUpOutput(fd, spec) {
    if (spec.kind === 'pipe') {
      const stream = new Readable({ read: () => this._resumeFor(stream) });
      this._outputs[fd] = {
        push: (chunk) => {
          // A stream destroyed unread (exec past maxBuffer) drops the rest.
          if (stream.destroyed || stream.push(chunk)) return;
          const allowance = this._signalled ? STOPPING_ALLOWANCE : OUTPUT_ALLOWANCE;
          if (stream.readableLength > allowance) this._pauseFor(stream);
        },
      };
      this.stdio[fd] = stream;
      if (fd === 1) this.stdout = stream;
      else this.stderr = stream;
      this._closesNeeded++;
      stream.on('close', () => {
        this._resumeFor(stream);
        this._maybeClose();
      });
    } else if (spec.kind === 'inherit') {
      const target = spec.stream;
      this._outputs[fd] = {
        push: (chunk) => {
          if (!target.write(chunk)) {
            this._pauseFor(target);
            target.once('drain', () => this._resumeFor(target));
          }
        },
      };
    }
  }

  _pauseFor(stream) {
    if (this._pausedBy.size === 0) this._call.pause();
    this._pausedBy.add(stream);
  }

  _resumeFor(stream) {
    if (!this._pausedBy.delete(stream)) return;
    if (this._pausedBy.size === 0) this._call.resume();
  }

  _onResponse(response) {
    switch (response.event) {
      case 'started':
        this.pid = response.started.pid;
        if (response.started.session) this.session = response.started.session;
        this.emit('spawn');
        break;
      case 'stdout':
      case 'stderr': {
        const output = this._outputs[response.event === 'stdout' ? 1 : 2];
        if (output !== null) output.push(response[response.event]);
        break;
      }
      case 'message':
        this.emit('message', decodeMessage(response.message));
        break;
      case 'disconnected':
        if (this.connected) this._channelClosed();
        break;
      case 'exit':
        this._onExit(response.exit);
        break;
      default:
        break;
    }
  }

  _onExit(exit) {
    if (exit.status === 'signal') this.signalCode = exit.signal;
    else this.exitCode = exit.code || 0;
    this._ended();
    this.emit('exit', this.exitCode, this.signalCode);
    this._finishOutputs();
    // Nothing more to say to the server: it ends the call with OK.
    this._call.end();
  }

  _onCallError(err) {
    if (this._exited) return; // unref's cancel, or a failure after the exit
    const errno = this.pid === undefined
      ? spawnErrnoError(err, this.spawnfile, this.spawnargs.slice(1)) : null;
    if (errno !== null) this.exitCode = errno.errno;
    this._ended();
    this.emit('error', errno || err);
    this._finishOutputs();
  }

  _onCallEnd() {
    // An OK status without an exit: a server that broke the protocol.
    if (this._exited) return;
    this._onCallError(Object.assign(
      new Error('rexec: the call ended without the child\'s exit'),
      { code: grpc.status.INTERNAL, details: 'no exit event' }));
  }

  // The exit, or the call's failure: what Node's onexit does first.
  _ended() {
    this._exited = true;
    this._stopStdin();
    if (this.connected) this._channelClosed();
  }

  _stopStdin() {
    if (this.stdin !== null) this.stdin.destroy();
    if (this._unpipeStdin !== null) {
      this._unpipeStdin();
      this._unpipeStdin = null;
    }
  }

  // Piped outputs end; one nobody reads from is drained, as Node's
  // flushStdio does, so that 'close' comes.
  _finishOutputs() {
    this._pausedBy.clear();
    for (const stream of [this.stdout, this.stderr]) {
      if (stream === null) continue;
      stream.push(null);
      process.nextTick(() => {
        if (stream.readableFlowing === null) stream.resume();
      });
    }
    this._maybeClose();
  }

  _channelClosed() {
    this.connected = false;
    process.nextTick(() => {
      this.emit('disconnect');
      this._maybeClose();
    });
  }

  _maybeClose() {
    this._closesGot++;
    if (this._closesGot === this._closesNeeded) {
      this.emit('close', this.exitCode, this.signalCode);
    }
  }
}

module.exports = { ChildProcess };
