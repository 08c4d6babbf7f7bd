// createClient({server, credentials, token}): spawn, exec, execFile and fork
// with Node's signatures, running each child on one rexecd. The functions
// turn Node's arguments and options into a Spawn or Fork call's start; what
// Node does on its own side (timeout, killSignal, signal, shell, exec's
// buffering) is done here as Node does it.
'use strict';

const { fileURLToPath } = require('node:url');
const grpc = require('@grpc/grpc-js');
const { ChildProcess } = require('./child_process');
const { childProcessService } = require('./proto');
const { resolveConnection } = require('./credentials');
const { normalizeStdio } = require('./stdio');
const { makeExecFunctions } = require('./exec_file');
const { nodeError, abortError } = require('./errors');
const { signalName } = require('./signals');
const {
  invalidType, checkNoNul, checkSignalOption, checkTimeout,
} = require('./validate');

// Node's spawn(file, args, options) and spawn(file, options) forms.
function splitArgs(args, options) {
  if (args == null) return { args: [], options: options || {} };
  if (Array.isArray(args)) return { args: args.slice(), options: options || {} };
  if (typeof args === 'object') return { args: [], options: args };
  throw invalidType('args', 'an instance of Array', args);
}

// A string as Node hands it to the system: a lone surrogate becomes
// U+FFFD (protobuf strings are UTF-8, which cannot hold one).
function wellFormed(text) {
  return text.toWellFormed();
}

// Node's `timeout` and `killSignal` (or exec's, under SERVER_STOP) are
// enforced here, and by the server too, a second later: a signal sent from
// here waits behind the stdin the server has not taken, a timeout of the
// server's own does not.
const SERVER_STOP = Symbol('rexec: the stop the server enforces');
const SERVER_STOP_MARGIN_MS = 1000;

function serverStop({ timeout, killSignal }) {
  if (!(timeout > 0)) return {};
  const ms = timeout + SERVER_STOP_MARGIN_MS;
  const stop = { timeout: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 } };
  if (killSignal !== undefined) stop.kill_signal = signalName(killSignal);
  return stop;
}

// ProcessOptions from Node's options. `env` is the whole environment, as
// in Node; without it the child gets the server's (not ours: this
// machine's PATH and HOME mean nothing there).
function processOptions(options) {
  const out = serverStop(options[SERVER_STOP] || options);
  if (options.cwd != null) {
    const cwd = options.cwd instanceof URL ? fileURLToPath(options.cwd) : options.cwd;
    if (typeof cwd !== 'string') throw invalidType('options.cwd', 'of type string or an instance of URL', cwd);
    checkNoNul(cwd, 'options.cwd');
    out.cwd = wellFormed(cwd);
  }
  if (options.env != null) {
    if (typeof options.env !== 'object') throw invalidType('options.env', 'of type object', options.env);
    out.clear_env = true;
    out.env = {};
    for (const key in options.env) { // inherited keys too, as Node
      const value = options.env[key];
      if (value === undefined) continue;
      checkNoNul(key, `options.env['${key}']`);
      checkNoNul(String(value), `options.env['${key}']`);
      out.env[wellFormed(key)] = wellFormed(String(value));
    }
  }
  for (const [option, field] of [['uid', 'user'], ['gid', 'group']]) {
    if (options[option] == null) continue;
    if (!Number.isInteger(options[option])) throw invalidType(`options.${option}`, 'int32', options[option]);
    out[field] = String(options[option]); // an id on the server's machine
  }
  if (options.detached != null) {
    if (typeof options.detached !== 'boolean') throw invalidType('options.detached', 'of type boolean', options.detached);
    out.detach = options.detached;
  }
  return out;
}

// What spawn and fork share after the call is started: Node's timeout and
// AbortSignal, each stopping the child with killSignal.
function watchChild(child, options) {
  checkTimeout(options.timeout);
  checkSignalOption(options.signal);
  const killSignal = options.killSignal === undefined ? 'SIGTERM' : options.killSignal;
  signalName(killSignal); // ERR_UNKNOWN_SIGNAL now, not when it is used
  if (options.timeout > 0) {
    let timer = setTimeout(() => {
      timer = null;
      try {
        child.kill(killSignal);
      } catch (err) {
        child.emit('error', err);
      }
    }, options.timeout);
    // 'close' comes after an 'error' too (not a listener of 'error', which
    // would keep an unhandled one from throwing).
    child.once('exit', () => { if (timer) clearTimeout(timer); });
    child.once('close', () => { if (timer) clearTimeout(timer); });
  }
  const signal = options.signal;
  if (signal) {
    const onAbort = () => {
      if (child.kill(killSignal)) child.emit('error', abortError(signal.reason));
    };
    if (signal.aborted) {
      process.nextTick(onAbort);
    } else {
      signal.addEventListener('abort', onAbort, { once: true });
      child.once('exit', () => signal.removeEventListener('abort', onAbort));
    }
  }
}

function createClient(clientOptions = {}) {
  const connection = resolveConnection(clientOptions);
  const Service = childProcessService();
  const stub = new Service(connection.server, connection.credentials, connection.channelOptions);

  function spawn(file, argsOrOptions, maybeOptions) {
    if (typeof file !== 'string') throw invalidType('file', 'of type string', file);
    if (file.length === 0) {
      throw nodeError('ERR_INVALID_ARG_VALUE', "The argument 'file' cannot be empty. Received ''", TypeError);
    }
    checkNoNul(file, 'file');
    let { args, options } = splitArgs(argsOrOptions, maybeOptions);
    if (typeof options !== 'object' || options === null) throw invalidType('options', 'of type object', options);
    args.forEach((arg, i) => {
      if (typeof arg !== 'string') throw invalidType(`args[${i}]`, 'of type string', arg);
      checkNoNul(arg, `args[${i}]`);
    });
    if (options.shell) {
      if (typeof options.shell !== 'string' && options.shell !== true) {
        throw invalidType('options.shell', 'of type boolean or string', options.shell);
      }
      args = ['-c', [file, ...args].join(' ')];
      file = typeof options.shell === 'string' ? options.shell : '/bin/sh';
    }
    if (options.argv0 != null) {
      if (typeof options.argv0 !== 'string') throw invalidType('options.argv0', 'of type string', options.argv0);
      checkNoNul(options.argv0, 'options.argv0');
    }
    const argv0 = typeof options.argv0 === 'string' ? options.argv0 : file;
    const stdio = normalizeStdio(options.stdio);
    const start = { argv: [file, ...args].map(wellFormed), options: processOptions(options) };
    if (argv0 !== file) start.argv0 = wellFormed(argv0);
    const child = new ChildProcess();
    watchChild(child, options); // its checks throw before anything starts
    child.spawn({ stub, rpc: 'Spawn', file, args: [argv0, ...args], start, stdio });
    return child;
  }

  // fork(modulePath, args, options): the module runs with the server's
  // node (--node) or options.execPath there, with a JSON message channel.
  function fork(modulePath, argsOrOptions, maybeOptions) {
    if (modulePath instanceof URL) modulePath = fileURLToPath(modulePath);
    if (typeof modulePath !== 'string') throw invalidType('modulePath', 'of type string or an instance of URL', modulePath);
    checkNoNul(modulePath, 'modulePath');
    const { args, options } = splitArgs(argsOrOptions, maybeOptions);
    if (options.serialization !== undefined && options.serialization !== 'json') {
      throw nodeError('ERR_INVALID_ARG_VALUE',
        `rexec: options.serialization '${options.serialization}' cannot cross the network; the channel is 'json'`, TypeError);
    }
    if (options.argv0 != null || options.shell) {
      throw nodeError('ERR_INVALID_ARG_VALUE', 'rexec: fork() takes no argv0 or shell', TypeError);
    }
    let { stdio } = options;
    if (typeof stdio === 'string') stdio = [stdio, stdio, stdio, 'ipc'];
    else if (stdio === undefined) stdio = options.silent ? ['pipe', 'pipe', 'pipe', 'ipc'] : ['inherit', 'inherit', 'inherit', 'ipc'];
    const start = {
      module: wellFormed(modulePath),
      args: args.map((arg) => wellFormed(String(arg))),
      options: processOptions(options),
    };
    // Our process.execPath and execArgv are this machine's: only what the
    // caller names goes to the server.
    if (options.execPath !== undefined) start.exec_path = wellFormed(String(options.execPath));
    if (options.execArgv !== undefined) start.exec_argv = options.execArgv.map((arg) => wellFormed(String(arg)));
    const normalized = normalizeStdio(stdio, { fork: true });
    const child = new ChildProcess();
    watchChild(child, options);
    const execPath = start.exec_path || 'node';
    child.spawn({
      stub, rpc: 'Fork', file: execPath,
      args: [execPath, ...(start.exec_argv || []), modulePath, ...args], start, stdio: normalized,
    });
    return child;
  }

  const { exec, execFile } = makeExecFunctions(spawn, SERVER_STOP);
  return {
    spawn, exec, execFile, fork, ChildProcess,
    // Ends the client's connection; calls still running fail UNAVAILABLE.
    close() { stub.close(); },
  };
}

module.exports = { createClient, grpcStatus: grpc.status };
