// Each option's default is stated once, in its TSDoc `@default` tag: the README's configuration table
// must show the same text, options of the same name in the module and the engine must agree, and the
// engine's literal defaults must be what resolveElectorOptions applies.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { resolveElectorOptions } from '../../lib/core/elector-options.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../lib/core/memory-lock.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface OptionDoc {
  /** The `@default` tag's text, undefined without one. */
  readonly default: string | undefined;
  readonly optional: boolean;
}

/** The properties of `interfaceName` in `file`, with their `@default` tags. */
function optionDefaults(file: string, interfaceName: string): Map<string, OptionDoc> {
  const source = ts.createSourceFile(
    file,
    fs.readFileSync(path.join(ROOT, file), 'utf8'),
    ts.ScriptTarget.ES2022,
    true,
  );
  const declaration = source.statements.find(
    (s): s is ts.InterfaceDeclaration =>
      ts.isInterfaceDeclaration(s) && s.name.text === interfaceName,
  );
  if (!declaration) throw new Error(`${file}: no interface ${interfaceName}`);
  const options = new Map<string, OptionDoc>();
  for (const member of declaration.members) {
    if (!ts.isPropertySignature(member)) continue;
    const tag = ts.getJSDocTags(member).find((t) => t.tagName.text === 'default');
    const text = tag ? ts.getTextOfJSDocComment(tag.comment)?.trim() : undefined;
    options.set(member.name.getText(source), {
      default: text,
      optional: member.questionToken !== undefined,
    });
  }
  return options;
}

/** The README's configuration table: option -> default column. */
function readmeDefaults(markdown: string): Map<string, string> {
  const lines = markdown.split('\n');
  const header = lines.findIndex((line) => /^\|\s*option\s*\|\s*default\s*\|/.test(line));
  if (header < 0) throw new Error('README: no table with the columns "option | default"');
  const table = new Map<string, string>();
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const [option, value] = line
      .split('|')
      .slice(1, 3)
      .map((cell) => cell.trim());
    table.set(option.replace(/^`|`$/g, ''), value);
  }
  return table;
}

const MODULE = optionDefaults(
  'lib/interfaces/leader-election-options.interface.ts',
  'LeaderElectionModuleOptions',
);
const ENGINE = optionDefaults('lib/core/elector-options.ts', 'LeaderElectorOptions');

describe('option defaults', () => {
  it('every optional option has a @default tag', () => {
    const missing = [...MODULE, ...ENGINE]
      .filter(([, doc]) => doc.optional && !doc.default)
      .map(([name]) => name);
    expect(missing).toEqual([]);
  });

  it("the README's configuration table lists every module option with its @default", () => {
    const table = readmeDefaults(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    const expected = [...MODULE].map(([name, doc]) => [name, doc.default ?? 'required']);
    expect([...table]).toEqual(expected);
  });

  it('an option of the module and the engine has one default', () => {
    // Options optional in both; the module passes its own logger to the engine.
    const shared = [...MODULE]
      .filter(([name, doc]) => doc.optional && ENGINE.get(name)?.optional && name !== 'logger')
      .map(([name]) => name);
    expect(shared).toEqual(expect.arrayContaining(['leaseDuration', 'renewInterval', 'metrics']));
    for (const name of shared)
      expect([name, MODULE.get(name)!.default]).toEqual([name, ENGINE.get(name)!.default]);
  });

  it("the engine applies its literal defaults, and the default timings' derived ones", () => {
    const resolved = resolveElectorOptions({
      lock: new InMemoryLeaseLock(new InMemoryLeaseStore(), 'a'),
    }) as unknown as Record<string, unknown>;
    const literal = [...ENGINE].filter(([, doc]) => /^`(\d+|true|false)`$/.test(doc.default ?? ''));
    expect(literal.map(([name]) => name)).toEqual(
      expect.arrayContaining(['leaseDuration', 'renewDeadline', 'retryPeriod', 'releaseOnStop']),
    );
    for (const [name, doc] of literal) {
      expect([name, resolved[name]]).toEqual([name, JSON.parse(doc.default!.slice(1, -1))]);
    }
    // `renewDeadline / 2` (5000 keeps 5000 + 2500 + 2000 < 10000) and `renewDeadline / 4`, at least 2000.
    expect(ENGINE.get('renewInterval')!.default).toMatch(/^`renewDeadline \/ 2`/);
    expect(ENGINE.get('requestTimeout')!.default).toMatch(/^`renewDeadline \/ 4`, at least `2000`/);
    expect([resolved.renewInterval, resolved.requestTimeout]).toEqual([5000, 2500]);
  });
});
