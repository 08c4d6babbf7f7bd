// The ESM resolve hook of register.js: `child_process` and
// `node:child_process` resolve to esm.mjs. Runs on Node's module loader
// thread; stateless but for esm.mjs's URL.
let esm;

export function initialize(data) {
  esm = data.esm;
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'child_process' || specifier === 'node:child_process') {
    return { url: esm, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
