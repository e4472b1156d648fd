// Runs sample/Dockerfile's steps without Docker, so that they are tested and cannot rot:
//
//   node --import @swc-node/register/esm-register scripts/docker-steps.ts [work-dir]
//
// Each stage gets a directory under the work directory that stands for its file system root; COPY
// copies from the repository (the build context) or from another stage's directory, RUN runs the
// command with bash in the stage's WORKDIR, ENV is exported to later RUNs. Only the instructions the
// Dockerfile uses are understood, and anything else fails, as do RUN commands with absolute paths
// (they would escape the stage's directory). Prints, and returns, the last stage: its directory,
// WORKDIR, USER, ENV and CMD.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface BuiltImage {
  /** The final stage's directory: what the image's `/` would contain (of what the Dockerfile copied). */
  root: string;
  /** WORKDIR, as a path on this machine. */
  workdir: string;
  user: string | undefined;
  env: Record<string, string>;
  cmd: string[];
  /** How long each RUN took, ms. */
  runs: { command: string; ms: number }[];
}

interface Stage {
  name: string;
  root: string;
  workdir: string;
  user?: string;
  env: Record<string, string>;
  cmd: string[];
}

/** The Dockerfile's instructions: comments dropped, continuation lines joined. */
export function parseDockerfile(text: string): { keyword: string; args: string }[] {
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [, keyword, args] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
      if (!keyword) throw new Error(`cannot parse Dockerfile line: ${line}`);
      return { keyword: keyword.toUpperCase(), args: args!.trim() };
    });
}

export function runDockerfile(
  dockerfile = path.join(ROOT, 'sample', 'Dockerfile'),
  context = ROOT,
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-steps-')),
  log: (line: string) => void = () => {},
): BuiltImage {
  // The image's user must be able to reach its files, as in an image.
  fs.mkdirSync(workDir, { recursive: true });
  fs.chmodSync(workDir, 0o755);
  const stages: Stage[] = [];
  const runs: BuiltImage['runs'] = [];
  const current = () => {
    const stage = stages.at(-1);
    if (!stage) throw new Error('the Dockerfile must start with FROM');
    return stage;
  };
  const inStage = (stage: Stage, target: string) =>
    path.join(
      stage.root,
      path.posix.isAbsolute(target) ? target : path.join(stage.workdir, target),
    );

  for (const { keyword, args } of parseDockerfile(fs.readFileSync(dockerfile, 'utf8'))) {
    switch (keyword) {
      case 'FROM': {
        const [, , name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
        const root = path.join(workDir, `stage-${stages.length}`);
        fs.mkdirSync(root, { recursive: true });
        stages.push({ name: name ?? String(stages.length), root, workdir: '/', env: {}, cmd: [] });
        break;
      }
      case 'WORKDIR':
        current().workdir = path.posix.resolve(current().workdir, args);
        fs.mkdirSync(inStage(current(), '.'), { recursive: true });
        break;
      case 'COPY': {
        const words = args.split(/\s+/);
        const from = words[0]!.startsWith('--from=') ? words.shift()!.slice(7) : undefined;
        const source = from === undefined ? undefined : stages.find((s) => s.name === from);
        if (from !== undefined && !source) throw new Error(`COPY --from=${from}: no such stage`);
        const destination = words.pop()!;
        for (const word of words) {
          const src = source ? path.join(source.root, word) : path.join(context, word);
          const dest = inStage(current(), destination);
          // COPY of a directory copies its contents; a destination ending in / is a directory.
          const target = fs.statSync(src).isDirectory()
            ? dest
            : destination.endsWith('/') || destination === '.'
              ? path.join(dest, path.basename(word))
              : dest;
          fs.mkdirSync(path.dirname(target), { recursive: true });
          fs.cpSync(src, target, { recursive: true, verbatimSymlinks: true });
        }
        break;
      }
      case 'RUN': {
        if (/(^|[\s=])\/(?!dev\/null)/.test(args)) {
          throw new Error(`RUN with an absolute path cannot run outside a container: ${args}`);
        }
        log(`RUN ${args}`);
        const started = Date.now();
        execFileSync('bash', ['-euo', 'pipefail', '-c', args], {
          cwd: inStage(current(), '.'),
          env: { ...process.env, ...current().env },
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        runs.push({ command: args, ms: Date.now() - started });
        break;
      }
      case 'ENV': {
        const [, name, value] = /^(\w+)=(.*)$/.exec(args) ?? [];
        if (!name) throw new Error(`ENV: use NAME=value: ${args}`);
        current().env[name] = value!;
        break;
      }
      case 'USER':
        current().user = args;
        break;
      case 'CMD':
        current().cmd = JSON.parse(args) as string[];
        break;
      case 'EXPOSE':
        break;
      default:
        throw new Error(`${keyword} is not supported by scripts/docker-steps.ts`);
    }
  }
  const last = current();
  return {
    root: last.root,
    workdir: inStage(last, '.'),
    user: last.user,
    env: last.env,
    cmd: last.cmd,
    runs,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const image = runDockerfile(undefined, undefined, process.argv[2], (line) =>
    process.stderr.write(`${line}\n`),
  );
  console.log(JSON.stringify(image, null, 2));
}
