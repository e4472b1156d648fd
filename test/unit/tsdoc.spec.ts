// Every public symbol has a TSDoc comment: each export of the package's entry points, and each public
// member of the exported classes and interfaces (constructor parameter properties included).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRIES = [
  'index',
  'core/index',
  'kubernetes/index',
  'health/index',
  'metrics/index',
  'testing/index',
];
const FILES = ENTRIES.map((entry) => path.join(ROOT, 'lib', `${entry}.ts`));

/** The public members of a class or interface: `readonly x` constructor parameters included. */
function publicMembers(
  declaration: ts.ClassDeclaration | ts.InterfaceDeclaration,
): ts.NamedDeclaration[] {
  const members: ts.NamedDeclaration[] = [];
  for (const member of declaration.members) {
    if (ts.isConstructorDeclaration(member)) {
      members.push(
        ...member.parameters.filter((p) => ts.isParameterPropertyDeclaration(p, member)),
      );
    } else {
      members.push(member);
    }
  }
  return members.filter((member) => {
    if (!member.name || ts.isPrivateIdentifier(member.name)) return false;
    const flags = ts.getCombinedModifierFlags(member as ts.Declaration);
    return !(flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected));
  });
}

function undocumented(program: ts.Program): string[] {
  const checker = program.getTypeChecker();
  const documented = (symbol: ts.Symbol) =>
    ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() !== '';
  const missing = new Set<string>();
  for (const file of FILES) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol =
        exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const name = exported.getName();
      if (!documented(symbol)) missing.add(name);
      for (const declaration of symbol.declarations ?? []) {
        if (!ts.isClassDeclaration(declaration) && !ts.isInterfaceDeclaration(declaration))
          continue;
        for (const member of publicMembers(declaration)) {
          const memberSymbol = checker.getSymbolAtLocation(member.name!);
          if (memberSymbol && !documented(memberSymbol)) {
            missing.add(`${name}.${member.name!.getText()}`);
          }
        }
      }
    }
  }
  return [...missing].sort();
}

describe('TSDoc', () => {
  let program: ts.Program;

  beforeAll(() => {
    program = ts.createProgram(FILES, {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      experimentalDecorators: true,
      skipLibCheck: true,
      noEmit: true,
    });
  });

  it('documents every export of the entry points and every public member', () => {
    expect(undocumented(program)).toEqual([]);
  });
});
