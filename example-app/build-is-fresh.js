// Exits 0 when dist/index.js is newer than every source it is built from, else 1: `npm run example` rebuilds
// (types included, which takes seconds) only after a change, and otherwise starts at once.
const { readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

/** The package root to check; the repository by default (a test passes a directory of its own). */
const root = process.argv[2] ?? join(__dirname, '..');

/** Modification time in ms, or undefined when the path does not exist. */
function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The newest modification time of the files under `dir`. */
function newestUnder(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestUnder(path));
    else if (entry.isFile()) newest = Math.max(newest, mtime(path) ?? 0);
  }
  return newest;
}

const built = mtime(join(root, 'dist', 'index.js'));
const sources = Math.max(newestUnder(join(root, 'lib')), mtime(join(root, 'tsup.config.ts')) ?? 0, mtime(join(root, 'package.json')) ?? 0);
process.exitCode = built !== undefined && built >= sources ? 0 : 1;
