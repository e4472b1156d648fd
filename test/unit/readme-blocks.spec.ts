// The README's TypeScript blocks are complete files (test/compat/readme.ts type-checks them in each
// compatibility cell): each names its file, no file twice.
import fs from 'node:fs';
import path from 'node:path';
import { ADDED, applyAdditions, readmeBlocks } from '../compat/readme.js';
import { REPO_ROOT } from '../compat/matrix.js';

describe('README TypeScript blocks', () => {
  it('each start with the file they belong in, and the Quick start has a main.ts', () => {
    const blocks = readmeBlocks(fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'));
    expect(blocks.map((b) => b.file)).toEqual(
      expect.arrayContaining(['src/app.module.ts', 'src/billing.service.ts', 'src/main.ts']),
    );
    const main = blocks.find((b) => b.file === 'src/main.ts')!;
    expect(main.code).toContain('app.enableShutdownHooks()');
  });

  it('import ScheduleModule.forRoot() once: a second import schedules every job again', () => {
    const blocks = readmeBlocks(fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'));
    const importing = blocks.filter((b) =>
      b.code
        .split('\n')
        .some((line) => !line.trim().startsWith('//') && line.includes('ScheduleModule.forRoot(')),
    );
    expect(importing.map((b) => b.file)).toEqual(['src/app.module.ts']);
  });

  it.each(['nest11', 'nest12'])(
    'extends the app.module.ts and main.ts that the %s CLI generated, keeping what it wrote',
    (project) => {
      const blocks = readmeBlocks(fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'));
      for (const file of ['src/app.module.ts', 'src/main.ts']) {
        const block = blocks.find((b) => b.file === file)!.code;
        const added = block
          .split('\n')
          .filter((line) => line.endsWith(ADDED))
          .map((line) => line.slice(0, -ADDED.length).trim());
        expect(added.length).toBeGreaterThan(0);
        const generated = fs.readFileSync(
          path.join(REPO_ROOT, 'test', 'compat', 'cli', project, file),
          'utf8',
        );
        const extended = applyAdditions(generated, block);
        const lines = extended.split('\n').map((line) => line.trim());
        for (const line of added) expect(lines).toContain(line);
        for (const line of generated.split('\n')) {
          if (line.trim() !== 'imports: [],') expect(lines).toContain(line.trim());
        }
      }
    },
  );

  it('refuses a block without a file name, and a file named twice', () => {
    expect(() => readmeBlocks('# x\n\n```ts\nconst a = 1;\n```\n')).toThrow(
      'README line 3: a TypeScript block must start with its file name',
    );
    const twice = '```ts\n// src/a.ts\n```\n\n```ts\n// src/a.ts\n```\n';
    expect(() => readmeBlocks(twice)).toThrow('src/a.ts is named by two blocks');
  });
});
