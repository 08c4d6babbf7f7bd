// spawnSync, execSync and execFileSync: Node's, with the call made by a
// worker thread (sync_worker.js) while this thread waits on Atomics.wait,
// as a local spawnSync blocks in the kernel. The arguments are read and
// checked here, with Node's errors, before anything is sent; the worker
// returns the result (through a MessagePort, read with
// receiveMessageOnPort, so its size has no bound but memory's) and writes
// an output that is an fd of ours (stdio 'inherit') to that fd itself,
// since this thread cannot while it waits.
//
// One worker per thread that makes such calls, started on the first and
// kept (unref'd: it does not hold the process) for the next. Its calls use
// connections of their own, made from the client's server, token and the
// REXEC_* environment as they were when the client was made: a
// `credentials` object cannot cross to another thread, so a client made
// with one has no synchronous calls (ERR_REXEC_SYNC_CREDENTIALS).
'use strict';

const path = require('node:path');
const { Worker, MessageChannel, receiveMessageOnPort } = require('node:worker_threads');
const { spawnStart, kServerStop } = require('./child_process');
const { codes, nodeError, errnoError } = require('./node_errors');
const { MAX_BUFFER } = require('./exec_file');
const { normalizeSpawnArguments, normalizeExecFileArgs, normalizeExecArgs } = require('./spawn_arguments');
const { getValidStdio, closedFdError } = require('./stdio');
const { CONNECTION_ENV } = require('./credentials');
const { inheritEnv } = require('./child_env');
const {
  validateTimeout, validateMaxBuffer, sanitizeKillSignal, signalName,
} = require('./validators');

let worker = null;

function syncWorker() {
  if (worker === null) {
    const { port1, port2 } = new MessageChannel();
    const done = new Int32Array(new SharedArrayBuffer(4));
    const thread = new Worker(path.join(__dirname, 'sync_worker.js'), {
      // Not this program's flags: a preload (register.js) has nothing to
      // do there.
      execArgv: [],
      workerData: { port: port2, done },
      transferList: [port2],
    });
    thread.unref();
    worker = { thread, port: port1, done };
  }
  return worker;
}

// Runs `request` (sync_worker.js's) on the worker, waiting for its result.
function runOnWorker(request) {
  const { thread, port, done } = syncWorker();
  Atomics.store(done, 0, 0);
  thread.postMessage(request);
  while (Atomics.load(done, 0) === 0) Atomics.wait(done, 0, 0);
  const reply = receiveMessageOnPort(port);
  if (reply === undefined) throw new Error('rexec: the worker of spawnSync() answered nothing');
  return reply.message;
}

function asBuffer(bytes) {
  return bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// What the worker needs to reach the server: the client's options that
// are plain data, and the environment the CLI reads, as they are now.
function connectionOf(clientOptions) {
  const {
    server, token, channelOptions, maxCallsPerConnection, receiveLimit,
    keepaliveTime, keepaliveTimeout,
  } = clientOptions;
  const env = {};
  for (const name of CONNECTION_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  return {
    options: {
      server, token, channelOptions, maxCallsPerConnection, receiveLimit,
      keepaliveTime, keepaliveTimeout,
    },
    env,
  };
}

function makeSyncFunctions(clientOptions, childEnv) {
  const connection = clientOptions.credentials === undefined ? connectionOf(clientOptions) : null;

  function spawnSync(file, args, options) {
    options = { __proto__: null, maxBuffer: MAX_BUFFER, ...normalizeSpawnArguments(file, args, options) };
    options = inheritEnv(options, childEnv);
    validateTimeout(options.timeout);
    validateMaxBuffer(options.maxBuffer);
    options.killSignal = sanitizeKillSignal(options.killSignal);
    const { entries } = getValidStdio(options.stdio || 'pipe', true);
    let input = options.input ? options.input : null;
    if (input !== null) {
      if (typeof input === 'string') input = Buffer.from(input, options.encoding);
      else if (!ArrayBuffer.isView(input)) {
        throw codes.ERR_INVALID_ARG_TYPE('options.stdio[0]', ['Buffer', 'TypedArray', 'DataView', 'string'], input);
      }
    }
    if (connection === null) {
      throw nodeError(Error, 'ERR_REXEC_SYNC_CREDENTIALS',
        'rexec: the synchronous functions make their call on a worker thread, where the credentials ' +
        'object given to createClient() cannot go; use REXEC_TLS_* and REXEC_TOKEN_FILE, or spawn()');
    }

    const closed = closedFdError(entries.slice(0, 3));
    if (closed !== null) return resultOf({ pid: 0, failure: { errno: closed } }, options);

    const killSignal = signalName(options.killSignal === undefined ? 15 : options.killSignal);
    options[kServerStop] = { timeout: options.timeout, killSignal };
    const stdio = entries.slice(0, 3).map((entry) => (entry.type === 'fd' ? { type: 'fd', fd: entry.fd } : { type: entry.type }));
    if (input !== null && stdio[0].type === 'pipe') {
      stdio[0].input = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    }
    const reply = runOnWorker({
      connection,
      start: spawnStart(options),
      stdio,
      timeout: options.timeout > 0 ? options.timeout : 0,
      killSignal,
      maxBuffer: options.maxBuffer,
    });
    return resultOf(reply, options);
  }

  // As Node's: the error of a failed call, or of an exit other than 0, with
  // the result's fields; else the child's stdout.
  function checkExecSyncError(ret, args, cmd) {
    if (ret.error) return Object.assign(ret.error, ret);
    if (ret.status !== 0) {
      let message = `Command failed: ${cmd || args.join(' ')}`;
      if (ret.stderr && ret.stderr.length > 0) message += `\n${ret.stderr.toString()}`;
      return Object.assign(new Error(message), ret);
    }
    return null;
  }

  function execFileSync(file, args, options) {
    ({ file, args, options } = normalizeExecFileArgs(file, args, options));
    const inheritStderr = !options.stdio;
    const ret = spawnSync(file, args, options);
    if (inheritStderr && ret.stderr) process.stderr.write(ret.stderr);
    const err = checkExecSyncError(ret, [options.argv0 || file, ...args]);
    if (err) throw err;
    return ret.stdout;
  }

  function execSync(command, options) {
    const normalized = normalizeExecArgs(command, options, null);
    const inheritStderr = !normalized.options.stdio;
    const ret = spawnSync(normalized.file, normalized.options);
    if (inheritStderr && ret.stderr) process.stderr.write(ret.stderr);
    const err = checkExecSyncError(ret, undefined, command);
    if (err) throw err;
    return ret.stdout;
  }

  return { spawnSync, execSync, execFileSync };
}

// spawnSync's result, in Node's shape, from the worker's reply.
function resultOf(reply, options) {
  const syscall = `spawnSync ${options.file}`;
  const spawnargs = options.args.slice(1);
  if (reply.failure) {
    // The call failed before the child ran: an errno, or the call's own.
    const { errno, message, code, details } = reply.failure;
    let error;
    if (errno) {
      const cause = message === undefined ? undefined : Object.assign(new Error(message), { code, details });
      error = errnoError(errno, syscall, options.file, spawnargs, cause);
    } else {
      error = Object.assign(new Error(message), { code, details });
    }
    return { error, status: null, signal: null, output: null, pid: reply.pid || 0, stdout: null, stderr: null };
  }
  const output = reply.output.map(asBuffer);
  if (options.encoding && options.encoding !== 'buffer') {
    for (let i = 0; i < output.length; i++) if (output[i]) output[i] = output[i].toString(options.encoding);
  }
  const result = {
    status: reply.status, signal: reply.signal, output, pid: reply.pid, stdout: output[1], stderr: output[2],
  };
  return reply.errno ? { error: errnoError(reply.errno, syscall, options.file, spawnargs), ...result } : result;
}

module.exports = { makeSyncFunctions };
