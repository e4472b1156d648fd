// Compiles the library and the bench fixtures to plain JavaScript (with @swc/core, already a dev
// dependency) so that benchmark processes run the way users run the package: compiled JS, no
// TypeScript loader. Under `--import @swc-node/register/esm-register` an idle candidate process
// takes about 280 MB RSS and 3 s of CPU to start, against about 120 MB and 0.8 s compiled; that
// would distort every CPU and memory figure and perturb the runs next to a starting process.
import fs from 'node:fs';
import path from 'node:path';
import { transformFile } from '@swc/core';

/** Directories and files (relative to the repository root) that the fixtures import. */
const SOURCES = ['lib', 'test/fixtures', 'test/support/counting-lock.ts', 'bench/fixtures'];

/**
 * Compiles SOURCES under `repoRoot` into `outDir`, keeping the directory layout (imports already end
 * in `.js`). `outDir` must be inside the repository so that `node_modules` and `"type": "module"`
 * resolve from the repository's package.json. Returns the number of files written.
 */
export async function compileForBench(repoRoot: string, outDir: string): Promise<number> {
  const files: string[] = [];
  const collect = (relative: string) => {
    const absolute = path.join(repoRoot, relative);
    const stat = fs.statSync(absolute);
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(absolute)) collect(path.join(relative, entry));
    } else if (relative.endsWith('.ts') && !relative.endsWith('.d.ts')) {
      files.push(relative);
    }
  };
  SOURCES.forEach(collect);
  await Promise.all(
    files.map(async (relative) => {
      const output = await transformFile(path.join(repoRoot, relative), {
        swcrc: false,
        configFile: false,
        sourceMaps: false,
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'es6' },
      });
      const target = path.join(outDir, relative.replace(/\.ts$/, '.js'));
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, output.code);
    }),
  );
  return files.length;
}
