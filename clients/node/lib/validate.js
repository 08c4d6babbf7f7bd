// Node's checks of child_process arguments, with Node's error codes and
// messages: what spawn and exec_file share.
'use strict';

const { nodeError } = require('./errors');

function invalidType(name, expected, value) {
  return nodeError('ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be ${expected}. Received ${typeof value}`, TypeError);
}

function checkNoNul(value, name) {
  if (typeof value === 'string' && value.includes('\u0000')) {
    throw nodeError('ERR_INVALID_ARG_VALUE',
      `The argument '${name}' must be a string without null bytes. Received '${value}'`, TypeError);
  }
}

function checkSignalOption(signal) {
  if (signal !== undefined && !(signal && typeof signal.aborted === 'boolean' &&
      typeof signal.addEventListener === 'function')) {
    throw invalidType('options.signal', 'an instance of AbortSignal', signal);
  }
}

function checkTimeout(timeout) {
  if (timeout != null && !(Number.isInteger(timeout) && timeout >= 0)) {
    throw nodeError('ERR_OUT_OF_RANGE',
      `The value of "timeout" is out of range. It must be an unsigned integer. Received ${timeout}`,
      RangeError);
  }
}

function checkMaxBuffer(maxBuffer) {
  if (maxBuffer != null && !(typeof maxBuffer === 'number' && maxBuffer >= 0)) {
    throw nodeError('ERR_OUT_OF_RANGE',
      `The value of "options.maxBuffer" is out of range. It must be a positive number. Received ${maxBuffer}`,
      RangeError);
  }
}

module.exports = { invalidType, checkNoNul, checkSignalOption, checkTimeout, checkMaxBuffer };
