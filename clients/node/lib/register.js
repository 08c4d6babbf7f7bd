// Makes `require('child_process')`, `require('node:child_process')`, ESM
// `import` of either (static or dynamic) and process.getBuiltinModule()
// return @rexec/child_process for the whole program, without changing it:
// what `register.js` at the package's root installs.
//
// Node's own internals (cluster, the inspector) keep the local module: they
// do not load it through Module._load, and cluster's handles could not
// cross the network anyway. This library itself has no use for it.
// Installed once per thread (a worker thread runs preloads again), on its
// event loop.
'use strict';

const Module = require('node:module');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const NAMES = new Set(['child_process', 'node:child_process']);
const installed = Symbol.for('rexec.child_process.register');

function install() {
  if (globalThis[installed]) return;
  globalThis[installed] = true;
  const remote = require('./index');

  const load = Module._load;
  Module._load = function _load(request, parent, isMain) {
    if (NAMES.has(request)) return remote;
    return load.call(this, request, parent, isMain);
  };

  if (typeof process.getBuiltinModule === 'function') {
    const getBuiltinModule = process.getBuiltinModule;
    process.getBuiltinModule = function (id) {
      return NAMES.has(id) ? remote : getBuiltinModule.call(this, id);
    };
  }

  // ESM resolves builtins without Module._load: a resolve hook (run on
  // the loader's thread) points them at esm.mjs, which re-exports ours.
  Module.register(pathToFileURL(path.join(__dirname, 'register_hooks.mjs')), {
    data: { esm: pathToFileURL(path.join(__dirname, 'esm.mjs')).href },
  });
}

module.exports = { install };
