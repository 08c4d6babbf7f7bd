// What a child started without `env` gets is one switch: the server's
// environment by default, ours with childEnv 'caller' (REXEC_CHILD_ENV),
// for spawn, exec, fork and the Sync forms alike.
'use strict';

const { before } = require('node:test');
const { test } = require('./compare');
const assert = require('node:assert');
const util = require('node:util');
const remote = require('..');
const { startRexecd } = require('./rexecd');

// A variable the server has and we do not, and one we have and it does not.
const SERVERS = 'REXEC_TEST_SERVERS_OWN';
const started = startRexecd([], { env: { [SERVERS]: 'theirs' } });
before(() => started);

const MARK = 'REXEC_TEST_CALLERS_OWN';
const SHOW = `echo "\${${MARK}:-unset} \${${SERVERS}:-unset}"`;

test("without env the child gets the server's environment, or ours with childEnv 'caller'", async () => {
  const address = await started;
  process.env[MARK] = 'ours';
  try {
    for (const [childEnv, seen] of [['server', 'unset theirs\n'], ['caller', 'ours unset\n']]) {
      const client = remote.createClient({ server: address, childEnv });
      const { stdout } = await util.promisify(client.exec)(SHOW);
      assert.strictEqual(stdout, seen, `exec, childEnv ${childEnv}`);
      assert.strictEqual(client.execSync(SHOW).toString(), seen, `execSync, childEnv ${childEnv}`);
      // fork's child too, through its channel.
      const forked = client.fork(require.resolve('./fixtures/env_child.js'), [MARK, SERVERS], { silent: true });
      const [message] = await new Promise((resolve, reject) => {
        forked.once('message', (m) => resolve([m]));
        forked.once('error', reject);
      });
      assert.strictEqual(`${message.join(' ')}\n`, seen, `fork, childEnv ${childEnv}`);
      await new Promise((resolve) => forked.once('close', resolve));
      // env given is the whole environment either way.
      assert.strictEqual(client.execFileSync('env', { env: { ONLY: '1' } }).toString(), 'ONLY=1\n');
      client.close();
    }
  } finally {
    delete process.env[MARK];
  }
});

test('REXEC_CHILD_ENV chooses for the clients made from the environment, and is checked', async () => {
  const address = await started;
  const saved = process.env.REXEC_CHILD_ENV;
  process.env[MARK] = 'ours';
  try {
    process.env.REXEC_CHILD_ENV = 'caller';
    const client = remote.createClient({ server: address });
    assert.strictEqual(client.execSync(SHOW).toString(), 'ours unset\n');
    client.close();
    process.env.REXEC_CHILD_ENV = 'local';
    assert.throws(() => remote.createClient({ server: address }),
      { name: 'TypeError', message: /REXEC_CHILD_ENV='local'/ });
    assert.throws(() => remote.createClient({ server: address, childEnv: 'ours' }),
      { name: 'TypeError', message: /childEnv 'ours'/ });
  } finally {
    delete process.env[MARK];
    if (saved === undefined) delete process.env.REXEC_CHILD_ENV;
    else process.env.REXEC_CHILD_ENV = saved;
  }
});
