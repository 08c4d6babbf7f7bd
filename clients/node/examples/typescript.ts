// A TypeScript program on @rexec/child_process, checked with tsc --strict
// (tests/typescript.test.js): its functions are @types/node's own, so the
// same code compiles against either module.
import * as local from 'node:child_process';
import * as remote from '@rexec/child_process';
import { createClient, spawn, spawnSync, exec, fork, status, ChildProcess } from '@rexec/child_process';

// Exactly the same type, not merely assignable.
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
const sameSpawn: Same<typeof local.spawn, typeof remote.spawn> = true;
const sameExec: Same<typeof local.exec, typeof remote.exec> = true;
const sameExecFile: Same<typeof local.execFile, typeof remote.execFile> = true;
const sameFork: Same<typeof local.fork, typeof remote.fork> = true;
const sameSpawnSync: Same<typeof local.spawnSync, typeof remote.spawnSync> = true;
const sameExecSync: Same<typeof local.execSync, typeof remote.execSync> = true;
const sameExecFileSync: Same<typeof local.execFileSync, typeof remote.execFileSync> = true;
const sameClass: Same<typeof local.ChildProcess, typeof remote.ChildProcess> = true;

const ls = spawn('ls', ['-l'], { cwd: '/usr', stdio: ['ignore', 'pipe', 'inherit'] });
ls.stdout.on('data', (chunk: Buffer) => process.stdout.write(chunk));
ls.on('close', (code: number | null, signal: NodeJS.Signals | null) => console.log(code, signal));
const child: ChildProcess = ls;

const { stdout, status: code } = spawnSync('uname', ['-s'], { encoding: 'utf8' });
const text: string = stdout;

exec('echo $HOME', (error, out: string) => {
  if (error) console.log(error.code, error.signal);
  else console.log(out.trim());
});

const worker = fork('worker.js', ['--fast'], { silent: true });
worker.send({ hello: 'world' });
worker.on('message', (message) => console.log(message));

const client = createClient({ server: 'build-7:50051', maxCallsPerConnection: 50 });
client.execFile('make', ['-j8'], (error) => {
  if (error && (error.cause as { code?: number } | undefined)?.code === status.UNAVAILABLE) console.log('server down');
  client.close();
});

export { sameSpawn, sameExec, sameExecFile, sameFork, sameSpawnSync, sameExecSync, sameExecFileSync, sameClass, child, text, code };
