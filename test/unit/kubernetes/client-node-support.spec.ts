// A client-node too new for the running Node is refused before it loads, with both versions and the
// fix in the message (client-node 2.x on Node 20 otherwise crashes inside its HTTP client with
// "Cannot read properties of undefined (reading 'bind')").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  assertClientNodeRuns,
  installedClientNode,
  minimumNodeFor,
} from '../../../lib/kubernetes/client-node-support.js';

/** A directory whose node_modules holds only client-node's package.json with `manifest`. */
function appWith(manifest: object): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nkl-client-node-'));
  const pkg = path.join(dir, 'node_modules', '@kubernetes', 'client-node');
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(
    path.join(pkg, 'package.json'),
    JSON.stringify({ name: '@kubernetes/client-node', main: 'index.js', ...manifest }),
  );
  fs.writeFileSync(path.join(pkg, 'index.js'), 'throw new Error("client-node was loaded");');
  return dir;
}

describe('client-node support check', () => {
  it('refuses client-node 2.x on Node 20, naming both versions and the install command', () => {
    expect(() => assertClientNodeRuns('20.20.2', { version: '2.0.1' })).toThrow(
      '@kubernetes/client-node 2.0.1 needs Node >= 22.19.0, but this process runs Node 20.20.2. ' +
        'Install the client-node that supports it: npm install @kubernetes/client-node@^1.4.0 ' +
        '(or run on Node 22.19.0 or later).',
    );
    expect(() => assertClientNodeRuns('v22.18.9', { version: '2.0.1' })).toThrow('needs Node');
  });

  it('passes supported pairs and what it knows nothing about', () => {
    expect(() => assertClientNodeRuns('22.19.0', { version: '2.0.1' })).not.toThrow();
    expect(() => assertClientNodeRuns('24.11.0', { version: '2.3.0' })).not.toThrow();
    expect(() => assertClientNodeRuns('20.19.0', { version: '1.4.0' })).not.toThrow();
    expect(() => assertClientNodeRuns('20.19.0', { version: '3.0.0' })).not.toThrow();
    expect(() => assertClientNodeRuns('20.19.0', undefined)).not.toThrow();
  });

  it("prefers the package's own engines field when it is a plain lower bound", () => {
    expect(minimumNodeFor({ version: '3.0.0', enginesNode: '>=24.0.0' })).toBe('24.0.0');
    expect(minimumNodeFor({ version: '2.0.1', enginesNode: '^22 || ^24' })).toBe('22.19.0');
    expect(() =>
      assertClientNodeRuns('22.20.0', { version: '3.0.0', enginesNode: '>= 24.0.0' }),
    ).toThrow('needs Node >= 24.0.0');
  });

  it("reads the installed version from the app's node_modules without loading client-node", () => {
    const dir = appWith({ version: '2.0.1' });
    try {
      const from = pathToFileURL(path.join(dir, 'main.js')).href;
      expect(installedClientNode(from)).toEqual({ version: '2.0.1' });
      expect(() => assertClientNodeRuns('20.20.2', installedClientNode(from))).toThrow(
        'client-node 2.0.1 needs Node >= 22.19.0',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds package.json above the entry point when an exports map hides it', () => {
    const dir = appWith({ version: '2.0.1', exports: { '.': './index.js' } });
    try {
      const from = pathToFileURL(path.join(dir, 'main.js')).href;
      expect(installedClientNode(from)).toEqual({ version: '2.0.1' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
