// Signal names and numbers as Node's kill() takes them, sent to rexecd by
// their canonical Linux names.
'use strict';

const { signals } = require('node:os').constants;
const { nodeError } = require('./errors');

// Number to the first name os.constants lists for it (SIGABRT, not SIGIOT).
const NAMES = new Map();
for (const [name, number] of Object.entries(signals)) {
  if (!NAMES.has(number)) NAMES.set(number, name);
}

// The canonical name of `signal` (a name or number), 0 for signal 0 (which
// only asks whether the process is there), or a TypeError with Node's code
// ERR_UNKNOWN_SIGNAL.
function signalName(signal) {
  if (signal === 0) return 0;
  const number = typeof signal === 'number' ? signal : signals[signal];
  if (number !== undefined && NAMES.has(number)) return NAMES.get(number);
  throw nodeError('ERR_UNKNOWN_SIGNAL', `Unknown signal: ${signal}`, TypeError);
}

module.exports = { signalName };
