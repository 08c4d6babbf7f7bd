// exec and execFile over a spawn function, as Node builds them over its own:
// the output buffered up to maxBuffer (past it
// ERR_CHILD_PROCESS_STDIO_MAXBUFFER and the child is killed), timeout and
// killSignal, and the callback's (error, stdout, stderr) with the error's
// code, killed, signal and cmd. Both work with util.promisify, resolving
// {stdout, stderr}. Stateless.
'use strict';

const { promisify, getSystemErrorName } = require('node:util');
const { codes } = require('./node_errors');
const { kServerStop } = require('./child_process');
const { normalizeExecFileArgs, normalizeExecArgs } = require('./spawn_arguments');
const { validateTimeout, validateMaxBuffer, sanitizeKillSignal } = require('./validators');

const MAX_BUFFER = 1024 * 1024;

// A promisified form as Node's: the error also carries stdout and stderr;
// the promise has the child as `child`.
function withPromiseForm(fn) {
  Object.defineProperty(fn, promisify.custom, {
    enumerable: false,
    value: (...args) => {
      let settle;
      const promise = new Promise((resolve, reject) => { settle = { resolve, reject }; });
      // Called here, not in the executor: bad arguments throw, as Node's.
      promise.child = fn(...args, (err, stdout, stderr) => {
        if (err !== null) {
          err.stdout = stdout;
          err.stderr = stderr;
          settle.reject(err);
        } else {
          settle.resolve({ stdout, stderr });
        }
      });
      return promise;
    },
  });
  return fn;
}

// Node's "Command failed" error, its fields in Node's order.
function commandFailed(message, fields) {
  const err = new Error(message);
  Object.assign(err, fields);
  return err;
}

function makeExecFunctions(spawn) {
  function execFile(file, args, options, callback) {
    ({ file, args, options, callback } = normalizeExecFileArgs(file, args, options, callback));
    options = {
      __proto__: null,
      encoding: 'utf8',
      timeout: 0,
      maxBuffer: MAX_BUFFER,
      killSignal: 'SIGTERM',
      cwd: null,
      env: null,
      shell: false,
      ...options,
    };
    validateTimeout(options.timeout);
    validateMaxBuffer(options.maxBuffer);
    options.killSignal = sanitizeKillSignal(options.killSignal);

    const spawnOptions = {
      cwd: options.cwd,
      env: options.env,
      gid: options.gid,
      shell: options.shell,
      signal: options.signal,
      uid: options.uid,
      windowsHide: !!options.windowsHide,
      windowsVerbatimArguments: !!options.windowsVerbatimArguments,
      [kServerStop]: { timeout: options.timeout, killSignal: options.killSignal },
    };
    const child = spawn(file, args, spawnOptions);

    const encoding = options.encoding !== 'buffer' && Buffer.isEncoding(options.encoding)
      ? options.encoding : null;
    const chunks = { stdout: [], stderr: [] };
    const lengths = { stdout: 0, stderr: 0 };
    let killed = false;
    let exited = false;
    let timer = null;
    let failure = null;
    let cmd = file;

    // What came, joined as the stream gave it: strings once it has an
    // encoding (ours, or one its reader set), Buffers otherwise.
    const joined = (name) => (encoding || (child[name] && child[name].readableEncoding)
      ? chunks[name].join('') : Buffer.concat(chunks[name]));

    function exithandler(code, signal) {
      if (exited) return;
      exited = true;
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      if (!callback) return;
      const stdout = joined('stdout');
      const stderr = joined('stderr');
      if (!failure && code === 0 && signal === null) {
        callback(null, stdout, stderr);
        return;
      }
      if (args.length) cmd += ` ${args.join(' ')}`;
      if (!failure) {
        failure = commandFailed(`Command failed: ${cmd}\n${stderr}`, {
          code: code < 0 ? getSystemErrorName(code) : code,
          killed: child.killed || killed,
          signal,
        });
      }
      failure.cmd = cmd;
      callback(failure, stdout, stderr);
    }

    function errorhandler(err) {
      failure = err;
      if (child.stdout) child.stdout.destroy();
      if (child.stderr) child.stderr.destroy();
      exithandler();
    }

    function kill() {
      if (child.stdout) child.stdout.destroy();
      if (child.stderr) child.stderr.destroy();
      killed = true;
      try {
        child.kill(options.killSignal);
      } catch (err) {
        failure = err;
        exithandler();
      }
    }

    if (options.timeout > 0) {
      timer = setTimeout(() => {
        kill();
        timer = null;
      }, options.timeout);
    }

    for (const name of ['stdout', 'stderr']) {
      const stream = child[name];
      if (!stream) continue;
      if (encoding) stream.setEncoding(encoding);
      stream.on('data', (chunk) => {
        if (options.maxBuffer === Infinity) {
          chunks[name].push(chunk);
          return;
        }
        const streamEncoding = stream.readableEncoding;
        const length = streamEncoding ? Buffer.byteLength(chunk, streamEncoding) : chunk.length;
        lengths[name] += length;
        if (lengths[name] > options.maxBuffer) {
          chunks[name].push(chunk.slice(0, options.maxBuffer - (lengths[name] - length)));
          failure = codes.ERR_CHILD_PROCESS_STDIO_MAXBUFFER(name);
          kill();
        } else {
          chunks[name].push(chunk);
        }
      });
    }

    child.addListener('close', exithandler);
    child.addListener('error', errorhandler);
    return child;
  }

  // exec(command, options, callback): the command run by options.shell
  // (default the server's /bin/sh) with -c, as Node's.
  function exec(command, options, callback) {
    const normalized = normalizeExecArgs(command, options, callback);
    return execFile(normalized.file, normalized.options, normalized.callback);
  }

  return { exec: withPromiseForm(exec), execFile: withPromiseForm(execFile) };
}

module.exports = { makeExecFunctions, MAX_BUFFER };
