// A local Node program that forks a remote child through `rexec fork`, as it
// would fork a local one: the 'ipc' stdio entry gives rexec the channel,
// and rexec bridges it to the remote child's. argv: REXEC SERVER DIR MODE.
// MODE "bye": the remote child disconnects itself after "bye"; MODE
// "disconnect": this program disconnects after its first echo. Prints one
// JSON line with what it received, then exits.
'use strict';
const {spawn} = require('child_process');
const [rexec, server, dir, mode] = process.argv.slice(2);
const child = spawn(
    rexec, ['--server', server, 'fork', '--cwd', dir, 'child.js', 'echo'],
    {stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
const got = [];
child.on('message', (m) => {
  got.push(m);
  if (m.ready && mode === 'bye') {
    child.send({n: 1});
    child.send('ünïcødé ✓');
    child.send('bye');
  } else if (m.ready) {
    child.send({n: 1});
  } else if (mode === 'disconnect') {
    child.disconnect();
  }
});
let disconnected = false;
child.on('disconnect', () => { disconnected = true; });
child.on('exit', (code, signal) => {
  console.log(JSON.stringify({got, disconnected, code, signal}));
});
