// `npm run compat:cli-regenerate [-- nest11 | nest12]`: makes the Nest CLI projects of test/compat/cli
// again (both, or the one named), as a user would following the README: `nest new` at the pinned CLI
// version, `npm install`, the README's `npm install @nestjs/schedule @kubernetes/client-node`, and
// (Nest 11) the README's jest keys in package.json and test/jest-e2e.json. The result replaces
// test/compat/cli/<project> (node_modules and dist aside); `git diff` shows what changed. Needs the
// npm registry; takes about two minutes.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './matrix.js';
import { CLI_DIR } from './cli-projects.js';
import { readmeJestKeys } from './readme.js';

/** The CLI version each project is generated with. */
const CLI_VERSIONS = { nest11: '11.0.24', nest12: '12.0.15' } as const;
const only = process.argv.slice(2);

function sh(command: string, args: string[], cwd: string): void {
  console.log(`$ ${command} ${args.join(' ')}   (in ${cwd})`);
  execFileSync(command, args, { cwd, stdio: 'inherit' });
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nkl-cli-'));
try {
  for (const [project, version] of Object.entries(CLI_VERSIONS)) {
    if (only.length && !only.includes(project)) continue;
    const name = `app${project.slice('nest'.length)}`;
    sh(
      'npx',
      ['-y', `@nestjs/cli@${version}`, 'new', name, '--package-manager', 'npm', '--skip-git'],
      work,
    );
    const app = path.join(work, name);
    sh(
      'npm',
      ['install', '--no-audit', '--no-fund', '@nestjs/schedule', '@kubernetes/client-node'],
      app,
    );
    if (project === 'nest11') {
      const manifestPath = path.join(app, 'package.json');
      const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as {
        jest: Record<string, unknown>;
      };
      manifest.jest = { ...manifest.jest, ...readmeJestKeys() };
      fs.writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
      const e2ePath = path.join(app, 'test', 'jest-e2e.json');
      const e2e = JSON.parse(fs.readFileSync(e2ePath, 'utf8')) as Record<string, unknown>;
      fs.writeFileSync(e2ePath, `${JSON.stringify({ ...e2e, ...readmeJestKeys() }, null, 2)}\n`);
    }
    const target = path.join(CLI_DIR, project);
    for (const entry of fs.readdirSync(target)) {
      if (entry !== 'node_modules') fs.rmSync(path.join(target, entry), { recursive: true });
    }
    for (const entry of fs.readdirSync(app)) {
      // Notes the CLI writes for coding assistants: not part of the app the tests build on.
      if (['node_modules', 'dist', 'AGENTS.md', 'CLAUDE.md'].includes(entry)) continue;
      fs.cpSync(path.join(app, entry), path.join(target, entry), { recursive: true });
    }
  }
  sh('git', ['status', '--short', '--', 'test/compat/cli'], REPO_ROOT);
  sh('git', ['diff', '--stat', '--', 'test/compat/cli'], REPO_ROOT);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
