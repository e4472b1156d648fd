// Every public symbol has a TSDoc comment: each export of the package's entry points, and each public
// member of the exported classes and interfaces.
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

function undocumented(): string[] {
  const files = ENTRIES.map((entry) => path.join(ROOT, 'lib', `${entry}.ts`));
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    experimentalDecorators: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const documented = (symbol: ts.Symbol) =>
    ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() !== '';
  const missing = new Set<string>();
  for (const file of files) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol =
        exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const name = exported.getName();
      if (!documented(symbol)) missing.add(name);
      for (const declaration of symbol.declarations ?? []) {
        if (!ts.isClassDeclaration(declaration) && !ts.isInterfaceDeclaration(declaration))
          continue;
        for (const member of declaration.members) {
          if (!member.name || ts.isConstructorDeclaration(member)) continue;
          if (ts.isPrivateIdentifier(member.name)) continue;
          const flags = ts.getCombinedModifierFlags(member as ts.Declaration);
          if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
          const memberSymbol = checker.getSymbolAtLocation(member.name);
          if (memberSymbol && !documented(memberSymbol)) {
            missing.add(`${name}.${member.name.getText()}`);
          }
        }
      }
    }
  }
  return [...missing].sort();
}

describe('TSDoc', () => {
  it('documents every export of the entry points and every public member', () => {
    expect(undocumented()).toEqual([]);
  });
});
