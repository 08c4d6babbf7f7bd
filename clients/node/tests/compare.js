// What the side-by-side tests compare: the same case run through
// node:child_process and @rexec/child_process (on a rexecd on loopback,
// the same machine) must be seen the same way.
'use strict';

const assert = require('node:assert');
const nodeTest = require('node:test');
const local = require('node:child_process');
const remote = require('..');

const ERROR_FIELDS = ['name', 'message', 'code', 'errno', 'syscall', 'path', 'spawnargs',
  'killed', 'signal', 'cmd', 'stdout', 'stderr'];

function errorFields(err) {
  const fields = {};
  for (const key of ERROR_FIELDS) if (err[key] !== undefined) fields[key] = err[key];
  return fields;
}

// Everything a program sees of a child until its 'close': events in order
// (output aside, whose timing against 'exit' is the scheduler's), output,
// and the child's properties then.
function observe(child, { onSpawn } = {}) {
  const events = [];
  const output = { stdout: '', stderr: '' };
  child.on('spawn', () => {
    events.push('spawn');
    if (onSpawn) onSpawn(child);
  });
  child.on('exit', (code, signal) => events.push(['exit', code, signal]));
  child.on('error', (err) => events.push(['error', errorFields(err)]));
  child.on('disconnect', () => events.push('disconnect'));
  child.on('message', (message) => events.push(['message', message]));
  for (const name of ['stdout', 'stderr']) {
    if (child[name]) child[name].on('data', (chunk) => { output[name] += chunk; });
  }
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      events.push(['close', code, signal]);
      resolve({
        events,
        ...output,
        killed: child.killed,
        exitCode: child.exitCode,
        signalCode: child.signalCode,
        pid: typeof child.pid,
        connected: child.connected,
        stdio: child.stdio.map((stream) => stream === null),
      });
    });
  });
}

// Runs `scenario` with each module; they must observe the same.
async function sameAsNode(scenario) {
  const [mine, theirs] = await Promise.all([scenario(remote), scenario(local)]);
  assert.deepStrictEqual(mine, theirs);
  return mine;
}

// The fields Node's errors of a thrown argument check have, String(err)
// (which carries the code) among them.
function thrownBy(fn) {
  try {
    fn();
  } catch (err) {
    return { name: err.name, code: err.code, message: err.message, string: String(err) };
  }
  return null;
}

// node:test's test([options,] fn), bounded in time: a case that hangs
// fails alone.
function test(name, options, fn) {
  if (fn === undefined) [options, fn] = [{}, options];
  return nodeTest.test(name, { timeout: 60000, ...options }, fn);
}

module.exports = { test, local, remote, errorFields, observe, sameAsNode, thrownBy };
