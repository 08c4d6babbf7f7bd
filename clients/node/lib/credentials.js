// Where a client connects and with what credentials: what the caller gave,
// else the environment the `rexec` CLI reads (REXEC_SERVER, REXEC_TLS_CA,
// REXEC_TLS_CERT, REXEC_TLS_KEY, REXEC_TLS_SERVER_NAME, REXEC_TOKEN_FILE).
'use strict';

const fs = require('node:fs');
const grpc = require('@grpc/grpc-js');
const { checkReceiveLimit } = require('./receive_limit');
const { keepaliveChannelOptions } = require('./keepalive');

// rexecd's default --listen, as docker's clients find docker's socket.
const DEFAULT_SERVER = 'unix:/run/rexec/rexecd.sock';
// The environment a connection is made from.
const CONNECTION_ENV = ['REXEC_SERVER', 'REXEC_TLS_CA', 'REXEC_TLS_CERT', 'REXEC_TLS_KEY',
  'REXEC_TLS_SERVER_NAME', 'REXEC_TOKEN_FILE'];

function readFile(name, file) {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    err.message = `rexec: ${name} ${file}: ${err.message}`;
    throw err;
  }
}

// A bearer token's call credentials: `authorization: Bearer TOKEN` on each
// call. gRPC sends call credentials over TLS only.
function tokenCredentials(token) {
  if (typeof token !== 'string' || token === '' || /[\r\n]/.test(token)) {
    throw new TypeError('rexec: a bearer token must be a non-empty string of one line');
  }
  return grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    callback(null, metadata);
  });
}

// The first line of a token file, as the CLI's --token-file reads it.
function readTokenFile(file) {
  const token = readFile('token file', file).toString('utf8').split('\n')[0].trim();
  if (token === '') throw new Error(`rexec: token file ${file}: the first line is empty`);
  return token;
}

// {server, credentials, channelOptions, receiveLimit} for createClient's
// options; channelOptions has the keepalive of keepaliveTime and
// keepaliveTimeout, and then the caller's own channelOptions.
// `credentials` is a grpc.ChannelCredentials; `token` a bearer token that
// is combined with it. Without credentials: TLS when REXEC_TLS_CA is set,
// else insecure (loopback or a unix socket).
function resolveConnection(options = {}, env = process.env) {
  options = { __proto__: null, ...options }; // own options only
  const server = options.server || env.REXEC_SERVER || DEFAULT_SERVER;
  let credentials = options.credentials;
  const channelOptions = {};
  if (credentials === undefined) {
    if (env.REXEC_TLS_CA) {
      const cert = env.REXEC_TLS_CERT;
      const key = env.REXEC_TLS_KEY;
      if (Boolean(cert) !== Boolean(key)) {
        throw new Error('rexec: REXEC_TLS_CERT and REXEC_TLS_KEY go together (mTLS)');
      }
      credentials = grpc.credentials.createSsl(
        readFile('REXEC_TLS_CA', env.REXEC_TLS_CA),
        key ? readFile('REXEC_TLS_KEY', key) : null,
        cert ? readFile('REXEC_TLS_CERT', cert) : null);
      if (env.REXEC_TLS_SERVER_NAME) {
        channelOptions['grpc.ssl_target_name_override'] = env.REXEC_TLS_SERVER_NAME;
      }
    } else {
      credentials = grpc.credentials.createInsecure();
    }
  }
  let token = options.token;
  if (token === undefined && options.credentials === undefined && env.REXEC_TOKEN_FILE) {
    token = readTokenFile(env.REXEC_TOKEN_FILE);
  }
  if (token !== undefined) {
    credentials = grpc.credentials.combineChannelCredentials(
      credentials, tokenCredentials(token));
  }
  return {
    server,
    credentials,
    channelOptions: { ...channelOptions, ...keepaliveChannelOptions(options), ...options.channelOptions },
    receiveLimit: checkReceiveLimit(options.receiveLimit),
  };
}

module.exports = { resolveConnection, tokenCredentials, DEFAULT_SERVER, CONNECTION_ENV };
