// What a child started without options.env gets: one switch, the client's
// `childEnv` option or REXEC_CHILD_ENV. 'server' (the default): rexecd's
// environment (under a policy, its rule's). 'caller': our process.env, as
// a local child inherits it, sent as the API's caller_env, which the
// server filters by its policy's client_env instead of refusing. The
// default keeps our HOME, PATH and secrets, which describe this machine,
// here unless asked for.
'use strict';

const { kCallerEnv } = require('./child_process');

const CHILD_ENV_CHOICES = ['server', 'caller'];

// The choice of createClient's options, else of REXEC_CHILD_ENV; an
// unknown one is an error naming where it came from.
function resolveChildEnv(choice, env = process.env) {
  if (choice === undefined) {
    const value = env.REXEC_CHILD_ENV || 'server';
    if (!CHILD_ENV_CHOICES.includes(value)) {
      throw new TypeError(`rexec: REXEC_CHILD_ENV='${value}': it must be 'server' or 'caller'`);
    }
    return value;
  }
  if (!CHILD_ENV_CHOICES.includes(choice)) {
    throw new TypeError(`rexec: childEnv '${String(choice)}': it must be 'server' or 'caller'`);
  }
  return choice;
}

// Spawn options (normalizeSpawnArguments') without an env of their own,
// given ours as Node gives a local child, when the client's childEnv is
// 'caller'.
function inheritEnv(options, childEnv) {
  if (childEnv === 'caller' && options.envPairs === undefined) {
    options[kCallerEnv] = Object.entries(process.env);
  }
  return options;
}

module.exports = { resolveChildEnv, inheritEnv };
