// What the packed package (`npm pack`, as published) ships: every source a source map or declaration
// map names is in the package, so that a stack trace through the package, or "go to definition" in
// an editor, lands on a file the user has.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, packPackage } from './matrix.js';

let unpacked: string;

beforeAll(() => {
  const workDir = fs.mkdtempSync(path.join(REPO_ROOT, '.control-plane', 'package-files-'));
  const tarball = packPackage(workDir);
  execFileSync('tar', ['-xzf', tarball, '-C', workDir]);
  unpacked = path.join(workDir, 'package');
});

afterAll(() => {
  if (unpacked) fs.rmSync(path.dirname(unpacked), { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships every source its maps name', () => {
    const maps = fs
      .readdirSync(path.join(unpacked, 'dist'), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.map'))
      .map((file) => path.join(unpacked, 'dist', file));
    expect(maps.length).toBeGreaterThan(100); // .js.map and .d.ts.map of every module
    const missing = new Set<string>();
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(fs.readFileSync(map, 'utf8')) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      sources.forEach((source, i) => {
        if (typeof sourcesContent?.[i] === 'string') return;
        const file = path.resolve(path.dirname(map), source);
        if (!fs.existsSync(file)) missing.add(path.relative(unpacked, file));
      });
    }
    expect([...missing].sort()).toEqual([]);
  });
});
