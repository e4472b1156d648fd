// The kubelet's projected service-account volume on disk: files are written into a new timestamped
// directory, `..data` is switched to it by renaming a symlink (atomic), and the visible names are
// symlinks through `..data` (`token -> ..data/token`). A reader therefore sees the old set of files or
// the new one, never a mix; that is how Kubernetes' AtomicWriter lays out and rotates the volume.
import fs from 'node:fs';
import path from 'node:path';

export type VolumeFiles = Readonly<Record<string, string>>;

export class ServiceAccountVolume {
  private current: string | undefined;

  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.chmodSync(dir, 0o755);
  }

  /** Writes `files` as the volume's new content, atomically. */
  write(files: VolumeFiles): void {
    const stamp = new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').slice(0, -1);
    const versioned = `..${stamp}.${process.hrtime.bigint() % 1_000_000n}`;
    const target = path.join(this.dir, versioned);
    fs.mkdirSync(target, { mode: 0o755 });
    // Projected service-account files are world-readable (defaultMode 0644) unless fsGroup says else.
    for (const [name, content] of Object.entries(files)) {
      fs.writeFileSync(path.join(target, name), content, { mode: 0o644 });
    }
    const temporary = path.join(this.dir, '..data_tmp');
    fs.rmSync(temporary, { force: true });
    fs.symlinkSync(versioned, temporary);
    fs.renameSync(temporary, path.join(this.dir, '..data'));
    for (const name of Object.keys(files)) {
      const link = path.join(this.dir, name);
      if (!fs.existsSync(link)) fs.symlinkSync(path.join('..data', name), link);
    }
    if (this.current)
      fs.rmSync(path.join(this.dir, this.current), { recursive: true, force: true });
    this.current = versioned;
  }
}
