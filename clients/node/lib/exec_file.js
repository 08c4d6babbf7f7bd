// exec and execFile over a spawn function, as Node builds them over its own:
// the output buffered up to maxBuffer (past it ERR_CHILD_PROCESS_STDIO_MAXBUFFER
// and the child is killed), timeout and killSignal, and the callback's
// (error, stdout, stderr) with the error's code, killed, signal and cmd.
// Both work with util.promisify, resolving {stdout, stderr}.
'use strict';

const { promisify } = require('node:util');
const { nodeError } = require('./errors');
const { signalName } = require('./signals');
const { checkMaxBuffer, checkTimeout } = require('./validate');
const { errno } = require('node:os').constants;

const MAX_BUFFER = 1024 * 1024;

// The errno name of a negative code, as util.getSystemErrorName says it.
function errnoName(code) {
  return Object.keys(errno).find((name) => errno[name] === -code) || code;
}

// A promisified form as Node's: the error also carries stdout and stderr.
function withPromiseForm(fn) {
  Object.defineProperty(fn, promisify.custom, {
    enumerable: false,
    value: (...args) => {
      let child;
      const promise = new Promise((resolve, reject) => {
        child = fn(...args, (err, stdout, stderr) => {
          if (err !== null) {
            err.stdout = stdout;
            err.stderr = stderr;
            reject(err);
          } else {
            resolve({ stdout, stderr });
          }
        });
      });
      promise.child = child;
      return promise;
    },
  });
  return fn;
}

// `serverStop`: the spawn option under which exec's timeout and
// killSignal go to the server too (client.js's SERVER_STOP).
function makeExecFunctions(spawn, serverStop) {
  function execFile(file, args, options, callback) {
    if (typeof args === 'function') {
      callback = args;
      args = [];
      options = {};
    } else if (args != null && !Array.isArray(args) && typeof args === 'object') {
      callback = options;
      options = args;
      args = [];
    }
    if (typeof options === 'function') {
      callback = options;
      options = {};
    }
    args = args == null ? [] : args.slice();
    options = {
      encoding: 'utf8', timeout: 0, maxBuffer: MAX_BUFFER, killSignal: 'SIGTERM', ...options,
    };
    checkMaxBuffer(options.maxBuffer);
    checkTimeout(options.timeout);
    signalName(options.killSignal);
    if (callback != null && typeof callback !== 'function') {
      throw nodeError('ERR_INVALID_ARG_TYPE', 'The "callback" argument must be of type function', TypeError);
    }

    const child = spawn(file, args, {
      cwd: options.cwd, env: options.env, uid: options.uid, gid: options.gid,
      shell: options.shell, signal: options.signal,
      [serverStop]: { timeout: options.timeout, killSignal: options.killSignal },
    });
    const encoding = options.encoding !== 'buffer' && Buffer.isEncoding(options.encoding)
      ? options.encoding : null;
    const chunks = { stdout: [], stderr: [] };
    const lengths = { stdout: 0, stderr: 0 };
    let killed = false;
    let exited = false;
    let failure = null;
    let timer = null;

    const joined = (name) => (encoding ? chunks[name].join('') : Buffer.concat(chunks[name]));

    function onDone(code, signal) {
      if (exited) return;
      exited = true;
      if (timer) clearTimeout(timer);
      if (!callback) return;
      const stdout = joined('stdout');
      const stderr = joined('stderr');
      if (!failure && code === 0 && signal === null) {
        callback(null, stdout, stderr);
        return;
      }
      const cmd = args.length ? `${file} ${args.join(' ')}` : file;
      if (!failure) {
        failure = new Error(`Command failed: ${cmd}\n${stderr}`);
        failure.code = code < 0 ? errnoName(code) : code;
        failure.killed = child.killed || killed;
        failure.signal = signal;
      }
      failure.cmd = cmd;
      callback(failure, stdout, stderr);
    }

    function kill() {
      child.stdout.destroy();
      child.stderr.destroy();
      killed = true;
      try {
        child.kill(options.killSignal);
      } catch (err) {
        failure = err;
        onDone();
      }
    }

    if (options.timeout > 0) {
      timer = setTimeout(() => {
        timer = null;
        kill();
      }, options.timeout);
    }

    for (const name of ['stdout', 'stderr']) {
      const stream = child[name];
      if (encoding) stream.setEncoding(encoding);
      stream.on('data', (chunk) => {
        if (options.maxBuffer === Infinity) {
          chunks[name].push(chunk);
          return;
        }
        const length = encoding ? Buffer.byteLength(chunk, encoding) : chunk.length;
        lengths[name] += length;
        if (lengths[name] > options.maxBuffer) {
          const keep = options.maxBuffer - (lengths[name] - length);
          chunks[name].push(chunk.slice(0, keep));
          failure = nodeError('ERR_CHILD_PROCESS_STDIO_MAXBUFFER', `${name} maxBuffer length exceeded`, RangeError);
          kill();
        } else {
          chunks[name].push(chunk);
        }
      });
    }

    child.addListener('close', onDone);
    child.addListener('error', (err) => {
      failure = err;
      child.stdout.destroy();
      child.stderr.destroy();
      onDone();
    });
    return child;
  }

  // exec(command, options, callback): the command run by options.shell
  // (default /bin/sh) with -c, as Node's.
  function exec(command, options, callback) {
    if (typeof command !== 'string') {
      throw nodeError('ERR_INVALID_ARG_TYPE', `The "command" argument must be of type string. Received ${typeof command}`, TypeError);
    }
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    }
    options = { ...options };
    options.shell = typeof options.shell === 'string' ? options.shell : true;
    return execFile(command, options, callback);
  }

  return { exec: withPromiseForm(exec), execFile: withPromiseForm(execFile) };
}

module.exports = { makeExecFunctions };
