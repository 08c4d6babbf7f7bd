// Fork's messages: plain JS values as google.protobuf.Value and back. A value
// goes through JSON first, as Node's own 'json' IPC serialization does
// (toJSON, undefined and functions dropped, NaN as null), so that a remote
// child gets what a local one would.
//
// The field names are camelCase although the loader keeps the proto's case:
// protobufjs brings its own google/protobuf/struct.proto, written so.
'use strict';

// rexecd's bounds on a channel message (common/node_channel.h): arrays and
// objects nested 32 deep, 4 MiB a line. Past them the server would end the
// call, and the child with it; here send() throws instead.
const MAX_DEPTH = 32;
const MAX_BYTES = 4 << 20;

// protobuf strings are UTF-8, which a lone surrogate is not (JSON escapes
// it; Node's channel would carry it).
function checkString(text) {
  if (!text.isWellFormed()) {
    throw new TypeError('rexec: a message\'s strings must be well-formed Unicode: a lone surrogate cannot cross');
  }
  return text;
}

// An own property even for "__proto__", as JSON.parse makes it.
function setOwn(object, key, value) {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

function toValue(json, depth = 0) {
  if (json !== null && typeof json === 'object' && depth >= MAX_DEPTH) {
    throw new RangeError(`rexec: a message may nest arrays and objects ${MAX_DEPTH} deep, no deeper`);
  }
  if (json === null) return { nullValue: 'NULL_VALUE' };
  switch (typeof json) {
    case 'number': return { numberValue: json };
    case 'string': return { stringValue: checkString(json) };
    case 'boolean': return { boolValue: json };
    default: break;
  }
  if (Array.isArray(json)) {
    return { listValue: { values: json.map((v) => toValue(v, depth + 1)) } };
  }
  const fields = {};
  for (const [key, v] of Object.entries(json)) setOwn(fields, checkString(key), toValue(v, depth + 1));
  return { structValue: { fields } };
}

// The Value a message becomes; TypeError for what JSON cannot carry
// (undefined, a function, a symbol), as Node's send would.
function encodeMessage(message) {
  const text = JSON.stringify(message);
  if (text === undefined) {
    throw new TypeError(`rexec: a message must be a JSON value, not ${typeof message}`);
  }
  if (Buffer.byteLength(text) + 1 > MAX_BYTES) {
    throw new RangeError(`rexec: a message may be ${MAX_BYTES} bytes of JSON, this one is ${Buffer.byteLength(text)}`);
  }
  return toValue(JSON.parse(text));
}

function decodeMessage(value) {
  switch (value.kind) {
    case 'nullValue': return null;
    case 'numberValue': return value.numberValue;
    case 'stringValue': return value.stringValue;
    case 'boolValue': return value.boolValue;
    case 'listValue': return (value.listValue.values || []).map(decodeMessage);
    case 'structValue': {
      const object = {};
      for (const [key, v] of Object.entries(value.structValue.fields || {})) {
        setOwn(object, key, decodeMessage(v));
      }
      return object;
    }
    default: return null; // an unset Value is JSON's null
  }
}

module.exports = { encodeMessage, decodeMessage };
