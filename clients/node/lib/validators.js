// Node's checks of child_process arguments, each throwing the error Node's
// own throws for the same value (node_errors.js). Stateless.
'use strict';

const { fileURLToPath } = require('node:url');
const { signals } = require('node:os').constants;
const { codes } = require('./node_errors');

function validateObject(value, name) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw codes.ERR_INVALID_ARG_TYPE(name, 'Object', value);
  }
}

function validateString(value, name) {
  if (typeof value !== 'string') throw codes.ERR_INVALID_ARG_TYPE(name, 'string', value);
}

function validateBoolean(value, name) {
  if (typeof value !== 'boolean') throw codes.ERR_INVALID_ARG_TYPE(name, 'boolean', value);
}

function validateArray(value, name) {
  if (!Array.isArray(value)) throw codes.ERR_INVALID_ARG_TYPE(name, 'Array', value);
}

function validateFunction(value, name) {
  if (typeof value !== 'function') throw codes.ERR_INVALID_ARG_TYPE(name, 'Function', value);
}

function validateOneOf(value, name, allowed) {
  if (!allowed.includes(value)) {
    const list = allowed.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ');
    throw codes.ERR_INVALID_ARG_VALUE(name, value, `must be one of: ${list}`);
  }
}

// An AbortSignal, or anything with `aborted` as Node accepts (an
// EventTarget given one).
function validateAbortSignal(signal, name) {
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
    throw codes.ERR_INVALID_ARG_TYPE(name, 'AbortSignal', signal);
  }
}

function validateInt32(value, name) {
  if (!(Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31)) {
    throw codes.ERR_INVALID_ARG_TYPE(name, 'int32', value);
  }
}

function nullCheck(value, name) {
  if (typeof value === 'string' && value.includes('\u0000')) {
    throw codes.ERR_INVALID_ARG_VALUE(name, value, 'must be a string without null bytes');
  }
}

function nullCheckEach(values, name) {
  for (let i = 0; i < values.length; i++) nullCheck(values[i], `${name}[${i}]`);
}

function validateTimeout(timeout) {
  if (timeout != null && !(Number.isInteger(timeout) && timeout >= 0)) {
    throw codes.ERR_OUT_OF_RANGE('timeout', 'an unsigned integer', timeout);
  }
}

function validateMaxBuffer(maxBuffer) {
  if (maxBuffer != null && !(typeof maxBuffer === 'number' && maxBuffer >= 0)) {
    throw codes.ERR_OUT_OF_RANGE('options.maxBuffer', 'a positive number', maxBuffer);
  }
}

// A path, or a file: URL (a WHATWG URL or one like it), as a string or
// Uint8Array: Node's getValidatedPath.
function validatedPath(value, name) {
  const isUrl = value != null && value.href !== undefined && value.protocol !== undefined &&
    value.auth === undefined && value.path === undefined;
  const path = isUrl ? fileURLToPath(value) : value;
  if (typeof path !== 'string' && !(path instanceof Uint8Array)) {
    throw codes.ERR_INVALID_ARG_TYPE(name, ['string', 'Buffer', 'URL'], path);
  }
  if (typeof path === 'string' ? path.includes('\u0000') : path.includes(0)) {
    throw codes.ERR_INVALID_ARG_VALUE(name, path, 'must be a string, Uint8Array, or URL without null bytes');
  }
  return path;
}

// Number to the first name os.constants lists for it (SIGABRT, not SIGIOT).
const SIGNAL_NAMES = new Map();
for (const [name, number] of Object.entries(signals)) {
  if (!SIGNAL_NAMES.has(number)) SIGNAL_NAMES.set(number, name);
}

// A signal's number, from a number or a name in any case; Node's
// ERR_UNKNOWN_SIGNAL for anything else.
function signalNumber(signal) {
  if (typeof signal === 'number' && SIGNAL_NAMES.has(signal)) return signal;
  if (typeof signal === 'string' && Object.hasOwn(signals, signal.toUpperCase())) {
    return signals[signal.toUpperCase()];
  }
  throw codes.ERR_UNKNOWN_SIGNAL(signal);
}

// The canonical name rexecd is sent for a signal's number.
function signalName(number) {
  return SIGNAL_NAMES.get(number);
}

// options.killSignal as a signal number, undefined when unset.
function sanitizeKillSignal(killSignal) {
  if (typeof killSignal === 'string' || typeof killSignal === 'number') return signalNumber(killSignal);
  if (killSignal != null) throw codes.ERR_INVALID_ARG_TYPE('options.killSignal', ['string', 'number'], killSignal);
  return undefined;
}

module.exports = {
  validateObject,
  validateString,
  validateBoolean,
  validateArray,
  validateFunction,
  validateOneOf,
  validateAbortSignal,
  validateInt32,
  nullCheck,
  nullCheckEach,
  validateTimeout,
  validateMaxBuffer,
  validatedPath,
  signalNumber,
  signalName,
  sanitizeKillSignal,
};
