// Builds the package into a temporary directory laid out like an install, so tests consume what npm would ship.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root. */
export const REPO = resolve(__dirname, '../..');

/** A freshly built copy of the package. */
export interface BuiltPackage {
  /** Temporary root; its `node_modules` links to the repository's, so `express` resolves as for an installed package. */
  readonly root: string;
  /** The package directory (package.json, README.md, openapi.yaml, dist/). */
  readonly dir: string;
  /** The built standalone server. */
  readonly cli: string;
  /** Remove everything. */
  remove(): Promise<void>;
}

/**
 * Build with tsup into `<tmp>/netsync/dist`. A private build (not the repository's dist/) cannot be
 * cleaned away by another suite or a concurrent `npm run build` while a test runs from it.
 */
export async function buildPackage(): Promise<BuiltPackage> {
  const root = await mkdtemp(join(tmpdir(), 'netsync-pkg-'));
  const dir = join(root, 'netsync');
  await mkdir(dir);
  await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  await copyFile(join(REPO, 'package.json'), join(dir, 'package.json'));
  await copyFile(join(REPO, 'README.md'), join(dir, 'README.md')).catch(() => undefined);
  await copyFile(join(REPO, 'openapi.yaml'), join(dir, 'openapi.yaml'));
  await run('npx', ['tsup', '--out-dir', join(dir, 'dist')], { cwd: REPO });
  return { root, dir, cli: join(dir, 'dist', 'cli.js'), remove: () => rm(root, { recursive: true, force: true }) };
}

/** A consumer project `<root>/<name>` whose `node_modules/netsync` links to the built package. */
export async function consumerProject(pkg: BuiltPackage, name: string): Promise<string> {
  const project = join(pkg.root, name);
  await mkdir(join(project, 'node_modules'), { recursive: true });
  await symlink(pkg.dir, join(project, 'node_modules', 'netsync'), 'dir');
  return project;
}
