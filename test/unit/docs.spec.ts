// The documentation's shape: the README is a landing page, links between the documents resolve,
// CONTRIBUTING.md's code map names every file of lib/, and the fault kinds the docs count and list are
// the ones the chaos suite has.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVERY_FAULT, EXTRA_FAULTS, HA_FAULTS, SPREAD_FAULTS } from '../chaos/fault-kinds.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

/** The longest the README may be: what it is, Install, Quick start, options, links. */
const README_MAX_LINES = 300;

/** The Markdown documents of the repository whose links are checked. */
const DOCUMENTS = [
  'README.md',
  'CONTRIBUTING.md',
  'CHANGELOG.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`),
];

/** `markdown` without its fenced blocks (their text is code, not links or headings). */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
}

/** GitHub's anchors for the headings of `markdown`. */
function anchors(markdown: string): Set<string> {
  const seen = new Set<string>();
  for (const match of prose(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = match[1]
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    let unique = slug;
    for (let n = 1; seen.has(unique); n++) unique = `${slug}-${n}`;
    seen.add(unique);
  }
  return seen;
}

/** The relative links of `file` that do not resolve: a missing file, or a missing heading. */
function brokenLinks(file: string, markdown: string): string[] {
  const broken: string[] = [];
  for (const match of prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)) {
    const link = match[1];
    if (/^[a-z]+:/.test(link)) continue; // https:, mailto:
    const [target, anchor] = link.split('#');
    const resolved = target ? path.join(path.dirname(file), target) : file;
    if (!fs.existsSync(path.join(ROOT, resolved))) {
      broken.push(`${file}: ${link} (no ${resolved})`);
    } else if (anchor !== undefined && !anchors(read(resolved)).has(anchor)) {
      broken.push(`${file}: ${link} (no heading #${anchor} in ${resolved})`);
    }
  }
  return broken;
}

/**
 * The paths CONTRIBUTING.md's code map names in its `file` column: full paths from the repository
 * root, a folder (ending in `/`) covering everything under it.
 */
function codeMapPaths(markdown: string): string[] {
  const lines = markdown.split('\n');
  const header = lines.findIndex((line) => /^\|\s*file\s*\|\s*holds\s*\|/.test(line));
  if (header < 0) throw new Error('CONTRIBUTING.md: no code map (a table with "file | holds")');
  const paths: string[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const cell = line.split('|')[1];
    paths.push(...[...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]));
  }
  return paths;
}

/** Every file under lib/, relative to the repository root. */
function libFiles(dir = 'lib'): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = `${dir}/${entry.name}`;
    return entry.isDirectory() ? libFiles(file) : [file];
  });
}

/** The files of `files` that no path of the code map covers. */
function unmapped(files: string[], mapped: string[]): string[] {
  return files.filter(
    (file) =>
      !mapped.some((entry) => (entry.endsWith('/') ? file.startsWith(entry) : file === entry)),
  );
}

describe('documentation', () => {
  it(`README.md is a landing page of at most ${README_MAX_LINES} lines`, () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it('relative links resolve to a file and a heading', () => {
    expect(DOCUMENTS.flatMap((file) => brokenLinks(file, read(file)))).toEqual([]);
  });

  it('the link check finds a missing file and a missing heading', () => {
    expect(brokenLinks('README.md', '[a](docs/none.md) [b](docs/faq.md#no-such-heading)')).toEqual([
      'README.md: docs/none.md (no docs/none.md)',
      'README.md: docs/faq.md#no-such-heading (no heading #no-such-heading in docs/faq.md)',
    ]);
    expect([...anchors('# A `b` (c)\n\n## A `b` (c)\n')]).toEqual(['a-b-c', 'a-b-c-1']);
  });

  it("CONTRIBUTING.md's code map covers every file of lib/, and names only files that exist", () => {
    const mapped = codeMapPaths(read('CONTRIBUTING.md'));
    expect(unmapped(libFiles(), mapped)).toEqual([]);
    expect(mapped.filter((entry) => !fs.existsSync(path.join(ROOT, entry)))).toEqual([]);
  });

  it('the code map check: a file is covered by its own row or by a folder row', () => {
    expect(unmapped(['lib/a.ts', 'lib/b/c.ts', 'lib/d.ts'], ['lib/a.ts', 'lib/b/'])).toEqual([
      'lib/d.ts',
    ]);
  });

  it('the fault kinds the docs count and list are those of test/chaos/fault-kinds.ts', () => {
    const counts = DOCUMENTS.flatMap((file) =>
      [...read(file).matchAll(/(\d+) kinds of `test\/chaos\/fault-kinds\.ts`/g)].map((m) =>
        Number(m[1]),
      ),
    );
    expect(counts.length).toBeGreaterThan(0);
    expect(new Set(counts)).toEqual(new Set([EVERY_FAULT.length]));
    const reliability = read('docs/reliability.md');
    const start = reliability.indexOf('## What the suite injects');
    const table = reliability.slice(start, reliability.indexOf('\n## ', start + 1));
    const listed = [...table.matchAll(/^\| `([a-z-]+)` +\|/gm)].map((m) => m[1]);
    expect(listed).toEqual([...EVERY_FAULT, ...SPREAD_FAULTS, ...HA_FAULTS]);
    expect(reliability).toContain(`selects the ${EXTRA_FAULTS.length} kinds added`);
  });
});
