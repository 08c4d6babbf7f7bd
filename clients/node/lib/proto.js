// The rexec.v1.ChildProcess service, loaded from the package's protos/ (the
// repository's own protos, not a copy) once per thread.
//
// Its messages are read and made with null prototypes: protobufjs reads a
// request's fields as `object.field`, so a property another module set on
// Object.prototype (`cwd`, `signal`...) would otherwise go to the server
// as if the caller had set it, and an absent field of a response (proto3
// sends no zeros) would read as that property.
'use strict';

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const SERVICE = 'rexec.v1.ChildProcess';
let service;

// `value` with its objects (not arrays, not bytes) copied without a
// prototype, own enumerable properties only.
function withoutPrototypes(value) {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map(withoutPrototypes);
  const out = Object.create(null);
  for (const key of Object.keys(value)) out[key] = withoutPrototypes(value[key]);
  return out;
}

// The generated client constructor of rexec.v1.ChildProcess.
function childProcessService() {
  if (service === undefined) {
    const root = path.join(__dirname, '..', 'protos');
    const definition = protoLoader.loadSync('rexec/v1/child_process.proto', {
      includeDirs: [root],
      keepCase: true, // the field names as the proto writes them
      longs: Number,
      enums: String,
      defaults: false,
      oneofs: true, // `event` names which field a response carries
    });
    for (const method of Object.values(definition[SERVICE])) {
      const serialize = method.requestSerialize;
      const deserialize = method.responseDeserialize;
      method.requestSerialize = (value) => serialize(withoutPrototypes(value));
      method.responseDeserialize = (bytes) => withoutPrototypes(deserialize(bytes));
    }
    service = grpc.loadPackageDefinition(definition).rexec.v1.ChildProcess;
  }
  return service;
}

// The bytes `request` takes on the wire in `rpc` (e.g. 'Fork'), to keep
// under the server's 4 MiB a message before it is sent.
function requestBytes(rpc, request) {
  return childProcessService().service[rpc].requestSerialize(request).length;
}

module.exports = { childProcessService, requestBytes };
