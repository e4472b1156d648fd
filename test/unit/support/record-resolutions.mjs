// Loaded with `node --import`: appends every module URL Node resolves (static and dynamic imports),
// with the module that imported it, to the file named by NKL_RESOLVE_LOG. The layer test reads it to
// see which packages an app really loaded.
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

let log;

export function initialize(data) {
  log = data.log;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(log, `${resolved.url} <- ${context.parentURL ?? '(entry)'}\n`);
  return resolved;
}

// The same file is the hooks module (run on the loader thread) and registers itself.
if (isMainThread) register(import.meta.url, { data: { log: process.env.NKL_RESOLVE_LOG } });
