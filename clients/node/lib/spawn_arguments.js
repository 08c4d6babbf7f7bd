// The arguments of spawn, spawnSync, exec(File)(Sync) and fork as Node reads
// them: the optional forms, the checks in Node's order with Node's errors,
// and only the options object's own properties (a property another module
// set on Object.prototype is not an option), into the options object that
// ChildProcess#spawn takes (file, args with argv[0] first, envPairs...).
// Stateless.
'use strict';

const {
  validateObject, validateString, validateBoolean, validateArray, validateFunction,
  validateInt32, nullCheck, nullCheckEach, validatedPath,
} = require('./validators');
const { codes } = require('./node_errors');

// The shell of `shell: true`: the server's, which is a POSIX machine
// whatever ours is.
const DEFAULT_SHELL = '/bin/sh';

// spawn(file, args, options) and spawnSync's: Node's normalizeSpawnArguments.
// envPairs ("KEY=value", inherited keys of options.env included, as Node)
// is there only when options.env is given: without it the child gets the
// server's environment.
function normalizeSpawnArguments(file, args, options) {
  validateString(file, 'file');
  nullCheck(file, 'file');
  if (file.length === 0) throw codes.ERR_INVALID_ARG_VALUE('file', file, 'cannot be empty');

  if (Array.isArray(args)) {
    args = args.slice();
  } else if (args == null) {
    args = [];
  } else if (typeof args !== 'object') {
    throw codes.ERR_INVALID_ARG_TYPE('args', 'object', args);
  } else {
    options = args;
    args = [];
  }
  nullCheckEach(args, 'args');

  if (options === undefined) options = {};
  else validateObject(options, 'options');
  options = { __proto__: null, ...options };

  let cwd = options.cwd;
  if (cwd != null) cwd = validatedPath(cwd, 'options.cwd');
  if (options.detached != null) validateBoolean(options.detached, 'options.detached');
  if (options.uid != null) validateInt32(options.uid, 'options.uid');
  if (options.gid != null) validateInt32(options.gid, 'options.gid');
  if (options.shell != null && typeof options.shell !== 'boolean' && typeof options.shell !== 'string') {
    throw codes.ERR_INVALID_ARG_TYPE('options.shell', ['boolean', 'string'], options.shell);
  }
  if (options.argv0 != null) {
    validateString(options.argv0, 'options.argv0');
    nullCheck(options.argv0, 'options.argv0');
  }
  if (options.windowsHide != null) validateBoolean(options.windowsHide, 'options.windowsHide');
  const { windowsVerbatimArguments } = options;
  if (windowsVerbatimArguments != null) {
    validateBoolean(windowsVerbatimArguments, 'options.windowsVerbatimArguments');
  }

  if (options.shell) {
    nullCheck(options.shell, 'options.shell');
    const command = [file, ...args].join(' ');
    file = typeof options.shell === 'string' ? options.shell : DEFAULT_SHELL;
    args = ['-c', command];
  }
  args.unshift(typeof options.argv0 === 'string' ? options.argv0 : file);

  let envPairs;
  if (options.env != null) {
    envPairs = [];
    for (const key in options.env) { // inherited keys too, as Node
      const value = options.env[key];
      if (value === undefined) continue;
      nullCheck(key, `options.env['${key}']`);
      nullCheck(value, `options.env['${key}']`);
      envPairs.push(`${key}=${value}`);
    }
  }

  return {
    __proto__: null,
    ...options,
    args,
    cwd,
    detached: !!options.detached,
    envPairs,
    file,
    windowsHide: !!options.windowsHide,
    windowsVerbatimArguments: !!windowsVerbatimArguments,
  };
}

// execFile(file, args, options, callback)'s optional forms.
function normalizeExecFileArgs(file, args, options, callback) {
  if (Array.isArray(args)) {
    args = args.slice();
  } else if (args != null && typeof args === 'object') {
    callback = options;
    options = args;
    args = null;
  } else if (typeof args === 'function') {
    callback = args;
    options = null;
    args = null;
  }
  if (args == null) args = [];

  if (typeof options === 'function') callback = options;
  else if (options != null) validateObject(options, 'options');
  if (options == null || typeof options === 'function') options = {};
  if (callback != null) validateFunction(callback, 'callback');

  if (options.argv0 != null) {
    validateString(options.argv0, 'options.argv0');
    nullCheck(options.argv0, 'options.argv0');
  }
  return { file, args, options, callback };
}

// exec(command, options, callback): the command for options.shell, by
// default the server's /bin/sh.
function normalizeExecArgs(command, options, callback) {
  validateString(command, 'command');
  nullCheck(command, 'command');
  if (typeof options === 'function') {
    callback = options;
    options = undefined;
  }
  options = { __proto__: null, ...options };
  options.shell = typeof options.shell === 'string' ? options.shell : true;
  return { file: command, options, callback };
}

// fork(modulePath, args, options): the spawn arguments of a Node child with
// a channel. Its runtime is options.execPath, else the server's (rexecd
// --node): ours is a path on this machine. execArgv likewise is only what
// is given. `shell` is ignored, as Node ignores it.
function normalizeForkArguments(modulePath, args, options) {
  modulePath = validatedPath(modulePath, 'modulePath');
  if (typeof modulePath !== 'string') modulePath = Buffer.from(modulePath).toString();
  if (args == null) {
    args = [];
  } else if (typeof args === 'object' && !Array.isArray(args)) {
    options = args;
    args = [];
  } else {
    validateArray(args, 'args');
  }
  if (options != null) validateObject(options, 'options');
  options = { __proto__: null, ...options, shell: false };
  if (options.execPath != null) nullCheck(options.execPath, 'options.execPath');
  const execArgv = options.execArgv || [];
  nullCheckEach(execArgv, 'options.execArgv');

  if (typeof options.stdio === 'string') {
    options.stdio = stdioStringToArray(options.stdio, 'ipc');
  } else if (!Array.isArray(options.stdio)) {
    options.stdio = stdioStringToArray(options.silent ? 'pipe' : 'inherit', 'ipc');
  } else if (!options.stdio.includes('ipc')) {
    throw codes.ERR_CHILD_PROCESS_IPC_REQUIRED('options.stdio');
  }
  return { execPath: options.execPath || null, execArgv, modulePath, args, options };
}

// 'pipe', 'overlapped', 'ignore' or 'inherit' as an array of three, and a
// channel entry after them when given.
function stdioStringToArray(stdio, channel) {
  let entries;
  switch (stdio) {
    case 'ignore':
    case 'overlapped':
    case 'pipe': entries = [stdio, stdio, stdio]; break;
    case 'inherit': entries = [0, 1, 2]; break;
    default: throw codes.ERR_INVALID_ARG_VALUE('stdio', stdio);
  }
  if (channel) entries.push(channel);
  return entries;
}

module.exports = {
  normalizeSpawnArguments,
  normalizeExecFileArgs,
  normalizeExecArgs,
  normalizeForkArguments,
  stdioStringToArray,
};
