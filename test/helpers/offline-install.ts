/**
 * Installs package tarballs into a fresh project from the local npm cache only, with no registry:
 * `npm install --offline` would still need each dependency's registry metadata, which an
 * install from a lock file never caches. So the fresh project gets a lock file of its own, cut
 * from the repository's (the same versions, tarball URLs and integrity hashes, all in the cache
 * since the repository's own install), and `npm install --offline` installs exactly that.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '../..');

type LockEntry = {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [k: string]: unknown;
};

/** The manifest inside a tarball (`package/package.json`). */
function manifestOf(tarball: string): LockEntry & { name: string } {
  return JSON.parse(
    execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
  ) as LockEntry & { name: string };
}

/** Creates `dir` as a project depending on `tarballs` and installs them offline; returns `dir`. */
export function installOffline(dir: string, tarballs: string[]): string {
  const repoLock = (
    JSON.parse(fs.readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }
  ).packages;
  const manifests = tarballs.map((t) => ({ tarball: path.resolve(t), manifest: manifestOf(t) }));
  const dependencies = Object.fromEntries(manifests.map(({ tarball, manifest }) => [manifest.name, `file:${tarball}`]));
  const packages: Record<string, LockEntry> = { '': { name: path.basename(dir), dependencies } };
  const queue: Array<[name: string, from: string]> = [];
  const wanted = (entry: LockEntry, at: string): void => {
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies }))
      queue.push([name, at]);
  };
  for (const { tarball, manifest } of manifests) {
    const at = `node_modules/${manifest.name}`;
    const { name: _n, ...rest } = manifest;
    packages[at] = {
      version: manifest.version,
      resolved: `file:${tarball}`,
      bin: rest.bin,
      dependencies: rest.dependencies,
      optionalDependencies: rest.optionalDependencies,
      peerDependencies: rest.peerDependencies,
    };
    wanted(manifest, at);
  }
  while (queue.length > 0) {
    const [name, from] = queue.shift() as [string, string];
    // Node's resolution: the nearest node_modules/<name> from `from` upwards, as the repository's lock laid it out.
    let at: string | undefined;
    for (let dirPath = from; ; dirPath = dirPath.slice(0, Math.max(0, dirPath.lastIndexOf('/node_modules/')))) {
      const candidate = dirPath === '' ? `node_modules/${name}` : `${dirPath}/node_modules/${name}`;
      if (repoLock[candidate] && !repoLock[candidate].link) {
        at = candidate;
        break;
      }
      if (dirPath === '') break;
    }
    if (!at || packages[at]) continue; // an optional dependency of another platform, or done
    const { dev: _d, devOptional: _o, peer: _p, ...entry } = repoLock[at] as LockEntry;
    packages[at] = entry;
    wanted(entry, at);
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: path.basename(dir), private: true, type: 'module', dependencies }, null, 2),
  );
  fs.writeFileSync(
    path.join(dir, 'package-lock.json'),
    JSON.stringify({ name: path.basename(dir), lockfileVersion: 3, requires: true, packages }, null, 2),
  );
  // `npm install`, not `npm ci`: the lock holds only this platform's optional packages (chdb's), which npm ci refuses.
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  return dir;
}
