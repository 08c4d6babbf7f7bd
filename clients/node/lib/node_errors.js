// Errors as Node's child_process makes them: the same classes, `code`s and
// messages, a `String(err)` and stack that begin `TypeError
// [ERR_INVALID_ARG_TYPE]: ...`, and the errno errors of a failed spawn.
// Every error made from a gRPC failure keeps it as `cause` (its `code` is
// the gRPC status, `details` the server's message). Stateless.
'use strict';

const os = require('node:os');
const { format, inspect } = require('node:util');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');

const LIB = path.join(__dirname, path.sep);

// An error with Node's `code`: `name` stays the class's, and String(err)
// and the stack's first line carry the code, as Node's own errors.
function nodeError(Base, code, message, options) {
  const err = new Base(message, options);
  Object.defineProperty(err, 'name', { value: `${Base.name} [${code}]`, configurable: true });
  // Our own frames say nothing to the caller, as Node hides its own.
  err.stack = err.stack.split('\n').filter((line) => !line.includes(LIB)).join('\n');
  delete err.name;
  Object.defineProperty(err, 'toString', {
    value() { return `${this.name} [${code}]: ${this.message}`; },
    configurable: true,
    writable: true,
  });
  err.code = code;
  return err;
}

// Node's words for a list: "a, b, or c".
function formatList(items) {
  if (items.length <= 2) return items.join(' or ');
  return `${items.slice(0, -1).join(', ')}, or ${items[items.length - 1]}`;
}

// What Node says a wrong value was: "type number (1)", "an instance of Array".
function described(value) {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'bigint': return `type bigint (${value}n)`;
    case 'number': return `type number (${Object.is(value, -0) ? '-0' : value})`;
    case 'boolean': return `type boolean (${value})`;
    case 'symbol': return `type symbol (${String(value)})`;
    case 'function': return `function ${value.name}`;
    case 'object':
      if (value.constructor && 'name' in value.constructor) return `an instance of ${value.constructor.name}`;
      return inspect(value, { depth: -1 });
    default: {
      const text = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return text.includes("'") ? `type string (${JSON.stringify(text)})` : `type string ('${text}')`;
    }
  }
}

const TYPE_NAMES = new Set(['string', 'function', 'number', 'object', 'boolean', 'bigint', 'symbol']);
const CLASS_NAME = /^[A-Z][a-zA-Z0-9]*$/;

// ERR_INVALID_ARG_TYPE: `expected` lists type names ('string'), classes
// ('Array', 'AbortSignal') or other words ('int32').
function invalidArgType(name, expected, actual) {
  const all = Array.isArray(expected) ? expected : [expected];
  const types = all.filter((e) => TYPE_NAMES.has(e.toLowerCase())).map((e) => e.toLowerCase());
  const instances = all.filter((e) => !TYPE_NAMES.has(e.toLowerCase()) && CLASS_NAME.test(e));
  const other = all.filter((e) => !TYPE_NAMES.has(e.toLowerCase()) && !CLASS_NAME.test(e));
  if (instances.length > 0 && types.includes('object')) {
    types.splice(types.indexOf('object'), 1);
    instances.push('Object');
  }
  const what = name.endsWith(' argument') ? name : `"${name}" ${name.includes('.') ? 'property' : 'argument'}`;
  const parts = [];
  if (types.length) parts.push(`${types.length > 1 ? 'one of type' : 'of type'} ${formatList(types)}`);
  if (instances.length) parts.push(`an instance of ${formatList(instances)}`);
  if (other.length > 1) parts.push(`one of ${formatList(other)}`);
  else if (other.length) parts.push(`${other[0].toLowerCase() !== other[0] ? 'an ' : ''}${other[0]}`);
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE',
    `The ${what} must be ${parts.join(' or ')}. Received ${described(actual)}`);
}

function invalidArgValue(name, value, reason = 'is invalid') {
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  return nodeError(TypeError, 'ERR_INVALID_ARG_VALUE',
    `The ${name.includes('.') ? 'property' : 'argument'} '${name}' ${reason}. Received ${shown}`);
}

function withSeparators(digits) {
  const start = digits[0] === '-' ? 1 : 0;
  let out = '';
  let i = digits.length;
  for (; i >= start + 4; i -= 3) out = `_${digits.slice(i - 3, i)}${out}`;
  return `${digits.slice(0, i)}${out}`;
}

function outOfRange(name, range, input) {
  const received = Number.isInteger(input) && Math.abs(input) > 2 ** 32
    ? withSeparators(String(input)) : inspect(input);
  return nodeError(RangeError, 'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${received}`);
}

// The errno error of a failed start or of spawnSync: "spawn foo ENOENT",
// with errno (negative), code, syscall, path and spawnargs.
function errnoError(name, syscall, file, spawnargs, cause) {
  const err = new Error(`${syscall} ${name}`, cause === undefined ? undefined : { cause });
  err.errno = -os.constants.errno[name];
  err.code = name;
  err.syscall = syscall;
  err.path = file;
  err.spawnargs = spawnargs;
  return err;
}

// rexecd ends a start error that an errno explains with its name:
// "spawn nosuch: not found in PATH (ENOENT)".
const ERRNO_SUFFIX = /\((E[A-Z0-9]+)\)$/;

// The errno name a failed call's status carries, or null for a failure no
// errno explains (a policy's refusal, the server unreachable).
function errnoOfCall(grpcError) {
  if (grpcError.code === grpc.status.UNAVAILABLE) return null;
  const match = ERRNO_SUFFIX.exec(grpcError.details || '');
  return match && os.constants.errno[match[1]] ? match[1] : null;
}

function abortError(reason) {
  const err = new Error('The operation was aborted', { cause: reason });
  err.name = 'AbortError';
  err.code = 'ABORT_ERR';
  return err;
}

const codes = {
  ERR_INVALID_ARG_TYPE: invalidArgType,
  ERR_INVALID_ARG_VALUE: invalidArgValue,
  ERR_OUT_OF_RANGE: outOfRange,
  ERR_UNKNOWN_SIGNAL: (signal) => nodeError(TypeError, 'ERR_UNKNOWN_SIGNAL', format('Unknown signal: %s', signal)),
  ERR_MISSING_ARGS: (name) => nodeError(TypeError, 'ERR_MISSING_ARGS', `The "${name}" argument must be specified`),
  ERR_IPC_CHANNEL_CLOSED: () => nodeError(Error, 'ERR_IPC_CHANNEL_CLOSED', 'Channel closed'),
  ERR_IPC_DISCONNECTED: () => nodeError(Error, 'ERR_IPC_DISCONNECTED', 'IPC channel is already disconnected'),
  ERR_IPC_ONE_PIPE: () => nodeError(Error, 'ERR_IPC_ONE_PIPE', 'Child process can have only one IPC pipe'),
  ERR_IPC_SYNC_FORK: () => nodeError(Error, 'ERR_IPC_SYNC_FORK', 'IPC cannot be used with synchronous forks'),
  ERR_INVALID_SYNC_FORK_INPUT: (value) => nodeError(TypeError, 'ERR_INVALID_SYNC_FORK_INPUT',
    `Asynchronous forks do not support Buffer, TypedArray, DataView or string input: ${inspect(value)}`),
  ERR_CHILD_PROCESS_IPC_REQUIRED: (name) => nodeError(Error, 'ERR_CHILD_PROCESS_IPC_REQUIRED',
    `Forked processes must have an IPC channel, missing value 'ipc' in ${name}`),
  ERR_CHILD_PROCESS_STDIO_MAXBUFFER: (stream) => nodeError(RangeError, 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER',
    `${stream} maxBuffer length exceeded`),
};

module.exports = { nodeError, codes, errnoError, errnoOfCall, abortError };
