// @rexec/child_process as an ES module with child_process's export names:
// what register.js makes `import ... from 'node:child_process'` load.
import { createRequire } from 'node:module';

const remote = createRequire(import.meta.url)('./index.js');

export default remote;
export const {
  ChildProcess, exec, execFile, execFileSync, execSync, fork, spawn, spawnSync,
  createClient, tokenCredentials, status,
} = remote;
