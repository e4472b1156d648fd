// The sample's image, built once by its Dockerfile's steps (scripts/docker-steps.ts) and shared by the
// tests that need it: the build takes most of a minute (an npm install from the lockfile). The
// directory is keyed by a hash of every input the Dockerfile copies, so a change rebuilds it.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDockerfile, type BuiltImage } from '../../scripts/docker-steps.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** What sample/Dockerfile copies from the repository, and the Dockerfile itself. */
const INPUTS = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'lib',
  'sample',
];

const PREFIX = 'nestjs-kube-leader-sample-image-';

export interface SampleImage extends BuiltImage {
  /** Whether this call ran the steps (false: an identical earlier build was reused). */
  readonly builtNow: boolean;
}

export function sampleImage(log: (line: string) => void = () => undefined): SampleImage {
  // In the temporary directory: the image's user (1000) must be able to reach the files.
  const dir = path.join(os.tmpdir(), `${PREFIX}${inputHash()}`);
  const record = path.join(dir, 'image.json');
  if (fs.existsSync(record)) {
    return { ...(JSON.parse(fs.readFileSync(record, 'utf8')) as BuiltImage), builtNow: false };
  }
  // Earlier builds (other inputs) are not needed any more: each holds a full dependency tree.
  for (const entry of fs.readdirSync(os.tmpdir())) {
    if (entry.startsWith(PREFIX))
      fs.rmSync(path.join(os.tmpdir(), entry), { recursive: true, force: true });
  }
  const image = runDockerfile(undefined, undefined, dir, log);
  fs.writeFileSync(record, JSON.stringify(image)); // last: a half-built directory is never reused
  return { ...image, builtNow: true };
}

function inputHash(): string {
  const hash = createHash('sha256');
  const add = (relative: string) => {
    const full = path.join(ROOT, relative);
    if (fs.statSync(full).isDirectory()) {
      for (const entry of fs.readdirSync(full).sort()) add(path.join(relative, entry));
    } else {
      hash.update(`${relative}\0`).update(fs.readFileSync(full)).update('\0');
    }
  };
  for (const input of INPUTS) add(input);
  return hash.digest('hex').slice(0, 16);
}
