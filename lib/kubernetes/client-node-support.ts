// Checks that the installed @kubernetes/client-node runs on this Node before anything loads it: a
// client-node too new for the runtime otherwise crashes deep inside its HTTP stack with a message that
// names neither package. Reads client-node's package.json only; never imports client-node, and
// imports nothing that loads it (the local mode asks too).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LeaderElectionError } from '../core/index.js';
import { CLIENT_NODE_NEEDS_NEWER_NODE } from './kubernetes.messages.js';

const PACKAGE = '@kubernetes/client-node';

/**
 * The oldest Node each client-node major runs on, where its package.json does not say so itself
 * (2.0 has no `engines` field, yet its HTTP client needs Node >= 22.19).
 */
const MINIMUM_NODE: Readonly<Record<number, string>> = { 2: '22.19.0' };

/** The client-node major that supports Node older than what a newer major needs. */
const FALLBACK_RANGE = '^1.4.0';

/**
 * client-node's version and `engines.node`, found without loading it; undefined if absent. Looked
 * for as Node resolves a package, in the `node_modules` folders above each of `from` (file paths or
 * URLs; by default the main script and the working directory). Not from this file's own location:
 * that needs `import.meta`, which jest's CommonJS transform (a Nest 11 project's tests) cannot
 * compile.
 */
export function installedClientNode(
  from: string | readonly string[] = [process.argv[1] ?? '', path.join(process.cwd(), 'main.js')],
): { version: string; enginesNode?: string } | undefined {
  const file = packageJsonOf(typeof from === 'string' ? [from] : from);
  if (!file) return undefined;
  try {
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      version?: unknown;
      engines?: { node?: unknown };
    };
    if (typeof manifest.version !== 'string') return undefined;
    const enginesNode = manifest.engines?.node;
    return {
      version: manifest.version,
      ...(typeof enginesNode === 'string' ? { enginesNode } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The first `node_modules/@kubernetes/client-node/package.json` above any of `starts`. */
function packageJsonOf(starts: readonly string[]): string | undefined {
  for (const start of starts.filter(Boolean)) {
    const file = start.startsWith('file:') ? fileURLToPath(start) : path.resolve(start);
    for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
      if (path.basename(dir) !== 'node_modules') {
        const candidate = path.join(dir, 'node_modules', ...PACKAGE.split('/'), 'package.json');
        if (fs.existsSync(candidate)) return candidate;
      }
      if (dir === path.dirname(dir)) break;
    }
  }
  return undefined;
}

/** [major, minor, patch] of a version string, or undefined. */
function parts(version: string): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

function atLeast(version: [number, number, number], minimum: [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) if (version[i] !== minimum[i]) return version[i] > minimum[i];
  return true;
}

/**
 * The oldest Node the given client-node needs: its `engines.node` when that is a plain `>=x.y.z`,
 * else what is known of its major; undefined when nothing is known.
 */
export function minimumNodeFor(client: {
  version: string;
  enginesNode?: string;
}): string | undefined {
  const stated = /^\s*>=\s*v?(\d+\.\d+\.\d+)\s*$/.exec(client.enginesNode ?? '');
  if (stated) return stated[1];
  const major = parts(client.version)?.[0];
  return major === undefined ? undefined : MINIMUM_NODE[major];
}

/**
 * What is wrong when the installed client-node needs a newer Node than `nodeVersion`: both versions
 * and the fix. Undefined when client-node is missing (its import then fails with Node's own clear
 * error) or when nothing is known about its needs.
 */
export function clientNodeProblem(
  nodeVersion: string = process.versions.node,
  client = installedClientNode(),
): string | undefined {
  if (!client) return undefined;
  const minimum = minimumNodeFor(client);
  const node = parts(nodeVersion);
  const needed = minimum === undefined ? undefined : parts(minimum);
  if (!node || !needed || atLeast(node, needed)) return undefined;
  return CLIENT_NODE_NEEDS_NEWER_NODE(
    PACKAGE,
    client.version,
    minimum,
    nodeVersion.replace(/^v/, ''),
    FALLBACK_RANGE,
  );
}

/** Throws {@link clientNodeProblem} as a {@link LeaderElectionError}, if there is one. */
export function assertClientNodeRuns(
  nodeVersion: string = process.versions.node,
  client = installedClientNode(),
): void {
  const problem = clientNodeProblem(nodeVersion, client);
  if (problem) throw new LeaderElectionError(problem);
}
