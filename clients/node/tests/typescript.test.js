// index.d.ts: examples/typescript.ts compiles with tsc --strict, its types
// the same as @types/node's child_process (typescript and @types/node are
// devDependencies pinned in package-lock.json), and it declares every name
// the module exports.
'use strict';

const { test } = require('./compare');
const assert = require('node:assert');
const path = require('node:path');
const ts = require('typescript');

const PACKAGE = path.join(__dirname, '..');

test('examples/typescript.ts compiles with tsc --strict against index.d.ts', () => {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(__dirname, 'tsconfig.json'), {}, {
    ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
  });
  assert.strictEqual(config.options.strict, true);
  const program = ts.createProgram(config.fileNames, config.options);
  const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.formatDiagnostic(d, {
    getCanonicalFileName: (f) => f, getCurrentDirectory: () => PACKAGE, getNewLine: () => '\n',
  }));
  assert.deepStrictEqual(problems, []);

  const checker = program.getTypeChecker();
  const declarations = program.getSourceFile(path.join(PACKAGE, 'index.d.ts'));
  const declared = checker.getExportsOfModule(checker.getSymbolAtLocation(declarations)).map((s) => s.name);
  assert.deepStrictEqual(Object.keys(require('..')).filter((name) => !declared.includes(name)), []);
});
