// The TypeScript blocks of the README and of docs/*.md, compiled as a user would paste them into a
// project made by the Nest CLI: each block names its file in its first line (`// src/app.module.ts`),
// no file is named twice across the documents, and all of them are type-checked together with the
// CLI's own tsconfig (test/compat/cli/) and module format, against the packed package and the peers
// installed in a compatibility cell.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, type Cell } from './matrix.js';

const CLI_DIR = path.join(REPO_ROOT, 'test', 'compat', 'cli');

/** The Nest CLI projects the README is checked against (test/compat/cli/<name>). */
export const CLI_PROJECTS = {
  nest11: { type: 'commonjs', compiler: 'typescript 5.9 (the project pins ^5.7.3)' },
  nest12: { type: 'module', compiler: 'typescript 6.0' },
} as const;
export type CliProject = keyof typeof CLI_PROJECTS;

export interface ReadmeBlock {
  /** Where the block says it goes, e.g. `src/app.module.ts`. */
  file: string;
  /** The document it is in, e.g. `README` or `docs/testing.md`. */
  source: string;
  /** The document's line of the opening fence. */
  line: number;
  code: string;
}

/** The documents whose TypeScript blocks are compiled: the README, then docs/*.md by name. */
export function documentationFiles(): string[] {
  const docs = fs
    .readdirSync(path.join(REPO_ROOT, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .sort()
    .map((file) => `docs/${file}`);
  return ['README.md', ...docs];
}

/**
 * Every TypeScript block of the README and of docs/*.md; throws when a block does not start with
 * its file name, or when two blocks (in one document or in two) name the same file.
 */
export function documentationBlocks(files = documentationFiles()): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  for (const file of files) {
    const source = file === 'README.md' ? 'README' : file;
    for (const block of readmeBlocks(
      fs.readFileSync(path.resolve(REPO_ROOT, file), 'utf8'),
      source,
    )) {
      const earlier = blocks.find((b) => b.file === block.file);
      if (earlier) {
        throw new Error(
          `${source} line ${block.line}: ${block.file} is named by ${earlier.source} line ${earlier.line} too`,
        );
      }
      blocks.push(block);
    }
  }
  return blocks;
}

/**
 * The jest keys docs/testing.md gives Nest 11 projects: the ```json block with
 * `transformIgnorePatterns`, which goes into the `"jest"` section of package.json and into
 * test/jest-e2e.json.
 */
export function readmeJestKeys(
  markdown = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'testing.md'), 'utf8'),
): Record<string, unknown> {
  const block = /```json\n(\{\n {2}"transformIgnorePatterns"[\s\S]*?)```/.exec(markdown);
  if (!block) throw new Error('docs/testing.md: no ```json block with "transformIgnorePatterns"');
  return JSON.parse(block[1]) as Record<string, unknown>;
}

/** How the README marks the lines a user adds to a file the Nest CLI generated. */
export const ADDED = '// added';

/**
 * `generated` (a file the Nest CLI made) with the lines of the README's `block` marked `// added`:
 * imports after the generated imports; every other run of added lines where the block puts it, next
 * to the line that follows it in the block (`await app.listen(...)`, the `]` closing `imports`) or,
 * when the generated file has no such line, after the one before it (`imports: [`, which Nest 11
 * writes as `imports: [],`). Throws when neither is found: the README no longer fits the project.
 */
export function applyAdditions(generated: string, block: string): string {
  const lines = block.trimEnd().split('\n');
  const isAdded = (line: string) => line.trimEnd().endsWith(ADDED);
  const clean = (line: string) => line.slice(0, line.lastIndexOf(ADDED)).trimEnd();
  const out = generated.trimEnd().split('\n');
  const imports = lines.filter((line) => isAdded(line) && line.startsWith('import '));
  const lastImport = out.findLastIndex((line) => line.startsWith('import '));
  out.splice(lastImport + 1, 0, ...imports.map(clean));
  for (let i = 0; i < lines.length; i++) {
    if (!isAdded(lines[i]) || lines[i].startsWith('import ')) continue;
    const run: string[] = [];
    const before = lines[i - 1]?.trim() ?? '';
    for (; i < lines.length && isAdded(lines[i]); i++) run.push(clean(lines[i]));
    const after = lines[i]?.trim() ?? '';
    const next = out.filter((line) => line.trim() === after);
    if (after && next.length === 1) {
      out.splice(out.indexOf(next[0]), 0, ...run);
      continue;
    }
    const at = out.findIndex((line) => before && line.trim().startsWith(before));
    if (at < 0) throw new Error(`the generated file has neither "${after}" nor "${before}"`);
    const empty = /^(\s*)(.*\[)\](,?)\s*$/.exec(out[at]); // `imports: [],`
    if (empty) out.splice(at, 1, `${empty[1]}${empty[2]}`, ...run, `${empty[1]}]${empty[3]}`);
    else out.splice(at + 1, 0, ...run);
  }
  return `${out.join('\n')}\n`;
}

/** The generated files the README's blocks import or add lines to (not the specs). */
export const GENERATED_SOURCES = ['src/app.controller.ts', 'src/app.service.ts'];

/**
 * Every ```ts block of `markdown` (the document `source`); throws when one does not start with its
 * file name, or names a file an earlier block named.
 */
export function readmeBlocks(markdown: string, source = 'README'): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```ts') continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i].trim() !== '```'; i++) body.push(lines[i]);
    const named = /^\/\/ (src\/[\w./-]+\.ts)\s*$/.exec(body[0] ?? '');
    if (!named) {
      throw new Error(
        `${source} line ${start + 1}: a TypeScript block must start with its file name, e.g. "// src/app.module.ts"`,
      );
    }
    if (blocks.some((b) => b.file === named[1])) {
      throw new Error(`${source} line ${start + 1}: ${named[1]} is named by two blocks`);
    }
    blocks.push({ file: named[1], source, line: start + 1, code: body.join('\n') + '\n' });
  }
  return blocks;
}

/**
 * Writes the blocks (by default those of the README and docs/*.md) into `<cell>/readme-<project>/`
 * with the CLI project's tsconfig and module
 * format, and runs the cell's own TypeScript on it. The cell's node_modules (one level up) hold the
 * packed package and the peers. Nest 12's tsconfig lists `vitest/globals` for the test globals; the
 * Nest 11 project gets them from `@types/jest`, which its tsconfig picks up by default.
 */
export function typeCheckReadme(
  cell: Cell,
  project: CliProject,
  blocks: ReadmeBlock[] = documentationBlocks(),
): { status: number | null; output: string; files: string[] } {
  const dir = path.join(cell.dir, `readme-${project}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(CLI_DIR, project, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: `readme-${project}`, private: true, type: CLI_PROJECTS[project].type }),
  );
  // The Quick start's AppModule imports the generated controller and service.
  for (const file of GENERATED_SOURCES) {
    fs.mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
    fs.copyFileSync(path.join(CLI_DIR, project, file), path.join(dir, file));
  }
  for (const block of blocks) {
    const file = path.join(dir, block.file);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, block.code);
  }
  const tsc = path.join(cell.dir, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmit'], {
    cwd: dir,
    encoding: 'utf8',
  });
  return {
    status: result.status,
    output: `${result.stdout}${result.stderr}`.trim(),
    files: blocks.map((b) => b.file),
  };
}
