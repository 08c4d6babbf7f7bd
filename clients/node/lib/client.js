// createClient({server, credentials, token, maxCallsPerConnection,
// receiveLimit, keepaliveTime, keepaliveTimeout, childEnv}): Node's
// child_process functions (spawn, exec, execFile, fork and their Sync
// forms) running each child on one rexecd. They read Node's arguments as
// Node does (spawn_arguments.js); what Node does on its own side (timeout,
// killSignal, signal, exec's buffering) is done here as Node does it. Used
// from one thread's event loop.
'use strict';

const grpc = require('@grpc/grpc-js');
const { ChildProcess, kClient, kForkStart } = require('./child_process');
const { resolveChildEnv, inheritEnv } = require('./child_env');
const { resolveConnection } = require('./credentials');
const { ConnectionPool } = require('./connection_pool');
const { makeExecFunctions } = require('./exec_file');
const { makeSyncFunctions } = require('./sync');
const { abortError } = require('./node_errors');
const { normalizeSpawnArguments, normalizeForkArguments } = require('./spawn_arguments');
const { validateTimeout, validateAbortSignal, sanitizeKillSignal } = require('./validators');

// The connections a client's calls go on, for ChildProcess#spawn.
const kPool = Symbol('rexec.pool');

function abortChild(child, killSignal, reason) {
  try {
    if (child.kill(killSignal)) child.emit('error', abortError(reason));
  } catch (err) {
    child.emit('error', err);
  }
}

// Node's timeout and AbortSignal, each stopping the child with killSignal.
function watchChild(child, options, killSignal) {
  if (options.timeout > 0) {
    let timer = setTimeout(() => {
      if (timer) {
        try {
          child.kill(killSignal);
        } catch (err) {
          child.emit('error', err);
        }
        timer = null;
      }
    }, options.timeout);
    child.once('exit', () => {
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
    });
  }
  const { signal } = options;
  if (signal) {
    const onAbort = () => abortChild(child, killSignal, signal.reason);
    if (signal.aborted) {
      process.nextTick(onAbort);
    } else {
      signal.addEventListener('abort', onAbort, { once: true });
      child.once('exit', () => signal.removeEventListener('abort', onAbort));
    }
  }
}

function createClient(clientOptions = {}) {
  clientOptions = { __proto__: null, ...clientOptions }; // own options only
  const pool = new ConnectionPool(resolveConnection(clientOptions), clientOptions.maxCallsPerConnection);
  const childEnv = resolveChildEnv(clientOptions.childEnv);

  function spawn(file, args, options) {
    options = inheritEnv(normalizeSpawnArguments(file, args, options), childEnv);
    validateTimeout(options.timeout);
    validateAbortSignal(options.signal, 'options.signal');
    const killSignal = sanitizeKillSignal(options.killSignal);
    const child = new ChildProcess();
    options[kClient] = pool;
    child.spawn(options);
    watchChild(child, options, killSignal);
    return child;
  }

  // fork(modulePath, args, options): the module runs with the server's
  // node (--node) or options.execPath there, with a JSON channel.
  function fork(modulePath, args, options) {
    const forked = normalizeForkArguments(modulePath, args, options);
    const execPath = forked.execPath || 'node';
    return spawn(execPath, [...forked.execArgv, forked.modulePath, ...forked.args], {
      ...forked.options,
      [kForkStart]: forked,
    });
  }

  // `new client.ChildProcess()`, spawned by hand, is this client's too.
  class ClientChildProcess extends ChildProcess {
    spawn(options) {
      if (options !== null && typeof options === 'object' && options[kClient] === undefined) options[kClient] = pool;
      return super.spawn(options);
    }
  }

  const { exec, execFile } = makeExecFunctions(spawn);
  const { spawnSync, execSync, execFileSync } = makeSyncFunctions(clientOptions, childEnv);
  return {
    spawn,
    exec,
    execFile,
    fork,
    spawnSync,
    execSync,
    execFileSync,
    ChildProcess: ClientChildProcess,
    // Ends the client's connections; calls still running fail UNAVAILABLE.
    close() { pool.close(); },
    [kPool]: pool,
  };
}

module.exports = { createClient, kPool, grpcStatus: grpc.status };
