// Optional peers (terminus, prom-client) are loaded only by their own entry points: an app without
// them installed can import the main entry and `nestjs-kube-leader/testing`, and compile against
// their types (the .d.ts files follow the same imports).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const LIB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../lib');
const OPTIONAL_PEERS = ['@nestjs/terminus', 'prom-client'];

/** Every package imported (statically or dynamically, types included) from `entry`, by file. */
function packagesReachableFrom(entry: string): Map<string, string> {
  const found = new Map<string, string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = fs.readFileSync(file, 'utf8');
    for (const match of source.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'([^']+)'/g)) {
      const specifier = match[1];
      if (specifier.startsWith('.')) {
        visit(path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.ts')));
      } else {
        found.set(specifier, path.relative(LIB, file));
      }
    }
  };
  visit(path.join(LIB, entry));
  return found;
}

describe('entry points', () => {
  it.each(['index.ts', 'core/index.ts', 'kubernetes/index.ts', 'testing/index.ts'])(
    '%s never imports an optional peer',
    (entry) => {
      const packages = packagesReachableFrom(entry);
      for (const peer of OPTIONAL_PEERS) {
        expect([peer, packages.get(peer)]).toEqual([peer, undefined]);
      }
    },
  );

  it.each([
    ['health/index.ts', '@nestjs/terminus'],
    ['metrics/index.ts', 'prom-client'],
  ])('%s is where %s is imported', (entry, peer) => {
    expect(packagesReachableFrom(entry).has(peer)).toBe(true);
  });

  it('exports every entry point from package.json', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(LIB, '../package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    expect(Object.keys(manifest.exports)).toEqual([
      '.',
      './core',
      './kubernetes',
      './health',
      './metrics',
      './testing',
      './package.json',
    ]);
  });
});
