const util = require('node:util');
const { spawn, exec } = require('@rexec/child_process');

const ls = spawn('ls', ['-d', '/usr']);
ls.stdout.on('data', (data) => console.log(`stdout: ${data.toString().trim()}`));
ls.on('close', async (code) => {
  console.log(`ls exited with code ${code}`);
  const { stdout } = await util.promisify(exec)('echo $((6 * 7))');
  console.log(`the answer: ${stdout.trim()}`);
});
