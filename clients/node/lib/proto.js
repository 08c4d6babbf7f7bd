// The rexec.v1.ChildProcess service, loaded from the package's protos/ (the
// repository's own protos, not a copy) once per process.
'use strict';

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

let service;

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
