// The TypeScript blocks of the README and docs/ are complete files (test/compat/readme.ts type-checks
// them in each compatibility cell): each names its file, no file twice, in one document or in two.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ADDED,
  applyAdditions,
  documentationBlocks,
  documentationFiles,
  readmeBlocks,
} from '../compat/readme.js';
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

  it('are collected from docs/ too, where the Quick start moved its other examples', () => {
    expect(documentationFiles()).toEqual(
      expect.arrayContaining(['README.md', 'docs/testing.md', 'docs/operations.md']),
    );
    const sources = Object.fromEntries(documentationBlocks().map((b) => [b.file, b.source]));
    expect(sources).toMatchObject({
      'src/app.module.ts': 'README',
      'src/billing.service.spec.ts': 'docs/testing.md',
      'src/health.module.ts': 'docs/operations.md',
      'src/engine.ts': 'docs/how-it-works.md',
    });
    // Every ```ts block of every document is among them (none skipped for want of a name).
    const fences = documentationFiles()
      .map((file) => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8'))
      .join('\n')
      .split('\n')
      .filter((line) => line.trim() === '```ts').length;
    expect(documentationBlocks()).toHaveLength(fences);
  });

  it('refuses a file named by blocks of two documents', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-blocks-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.md'), '```ts\n// src/a.ts\n```\n');
      fs.writeFileSync(path.join(dir, 'b.md'), '# b\n\n```ts\n// src/a.ts\n```\n');
      const [a, b] = ['a.md', 'b.md'].map((file) => path.join(dir, file));
      expect(() => documentationBlocks([a, b])).toThrow(
        `${b} line 3: src/a.ts is named by ${a} line 1 too`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
