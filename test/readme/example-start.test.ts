// `npm run example` (README, "The example app") rebuilds only when a source is newer than dist/index.js.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const CHECK = join(__dirname, '..', '..', 'example-app', 'build-is-fresh.js');
const run = promisify(execFile);

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'netsync-fresh-'));
  await mkdir(join(root, 'lib', 'stores'), { recursive: true });
  await mkdir(join(root, 'dist'));
  for (const file of ['lib/index.ts', 'lib/stores/memory.ts', 'tsup.config.ts', 'package.json', 'dist/index.js']) await writeFile(join(root, file), '');
  for (const file of ['lib/index.ts', 'lib/stores/memory.ts', 'tsup.config.ts', 'package.json']) await touch(file, 1000);
  await touch('dist/index.js', 2000);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Set a file's modification time to `seconds` after the epoch. */
async function touch(file: string, seconds: number): Promise<void> {
  await utimes(join(root, file), seconds, seconds);
}

/** The check's exit code: 0 when the build is fresh. */
async function check(): Promise<number> {
  try {
    await run(process.execPath, [CHECK, root]);
    return 0;
  } catch (error) {
    return (error as { code: number }).code;
  }
}

test('a build newer than every source is fresh', async () => {
  expect(await check()).toBe(0);
});

test.each(['lib/stores/memory.ts', 'lib/index.ts', 'tsup.config.ts', 'package.json'])('a newer %s makes it stale', async (file) => {
  await touch(file, 3000);
  expect(await check()).toBe(1);
});

test('no build is stale', async () => {
  await rm(join(root, 'dist', 'index.js'));
  expect(await check()).toBe(1);
});
