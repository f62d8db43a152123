// The built package as hosts consume it: CommonJS require, ESM import, TypeScript (NodeNext) and the packed file list.
import { execFile } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildPackage, consumerProject, REPO, type BuiltPackage } from './package';

const run = promisify(execFile);
const FIXTURES = join(__dirname, 'fixtures');
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const PAIR = { actor1: 'p1', actor2: 'p2' };

let pkg: BuiltPackage;

beforeAll(async () => {
  pkg = await buildPackage();
}, 120_000);

afterAll(async () => {
  await pkg?.remove();
});

/** Run a consumer script with node and parse the JSON it prints. */
async function runNode(cwd: string, file: string): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [file], { cwd });
  return JSON.parse(stdout) as Record<string, unknown>;
}

async function project(name: string, files: readonly string[]): Promise<string> {
  const dir = await consumerProject(pkg, name);
  for (const file of files) await copyFile(join(FIXTURES, file), join(dir, file.split('/').pop() ?? file));
  return dir;
}

describe('the built package', () => {
  it('serves a pair to a CommonJS host that requires it', async () => {
    const dir = await project('cjs', ['cjs.cjs']);
    expect(await runNode(dir, 'cjs.cjs')).toEqual({
      exports: ['function', 'function', 'function', 'function'],
      hub: true,
      statuses: [200, 200],
      bodies: [expect.objectContaining({ payloads: PAIR }), expect.objectContaining({ payloads: PAIR })],
      health: 'ok',
    });
  });

  it('serves a pair to an ESM host, with the default export and the programmatic hub', async () => {
    const dir = await project('esm', ['esm.mjs']);
    const chocolate = { SHOP: 'here it is', CUST: 'Please give me a chocolate' };
    expect(await runNode(dir, 'esm.mjs')).toEqual({
      defaultIsNamed: true,
      statuses: [200, 200],
      bodies: [expect.objectContaining({ payloads: PAIR }), expect.objectContaining({ payloads: PAIR })],
      programmatic: [chocolate, chocolate],
    });
  });

  it('type-checks TypeScript hosts (ESM and CommonJS, NodeNext) and serves a pair to each', async () => {
    const dir = await project('ts', ['ts/tsconfig.json', 'ts/consumer.mts', 'ts/consumer.cts', 'ts/client.mts']);
    await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: dir });
    expect(await runNode(dir, 'out/consumer.mjs')).toEqual({ statuses: [200, 200], payloads: [PAIR, PAIR], timedOut: 'timeout' });
    expect(await runNode(dir, 'out/consumer.cjs')).toEqual({ statuses: [200, 200], payloads: [PAIR, PAIR] });
  }, 120_000);

  it.each(['client.cjs', 'client.mjs'])('%s: netsync/client loads no server module, meets a pair, and throws the server\'s NetsyncError', async (file) => {
    const dir = await project(file.replace('.', '-'), [file]);
    expect(await runNode(dir, file)).toEqual({
      serverModules: [],
      payloads: [PAIR, PAIR],
      error: [true, true, 'bad_request', 400],
    });
  });

  it('ships a client build for browsers: its ESM files reach no Node.js module or global', async () => {
    const seen = new Set<string>();
    const pending = ['client.mjs'];
    let code = '';
    while (pending.length > 0) {
      const file = pending.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = await readFile(join(pkg.dir, 'dist', file), 'utf8');
      code += text;
      for (const [, local] of text.matchAll(/from\s*["']\.\/([^"']+)["']/g)) pending.push(local as string);
    }
    expect(seen.size).toBeGreaterThan(1);
    expect(code.match(/\bprocess\.|\bBuffer\b|["']node:|\brequire\(|from\s*["'][^."']/g)).toBeNull();
  });

  it('exports openapi.yaml', async () => {
    const dir = await consumerProject(pkg, 'openapi');
    const { stdout } = await run(process.execPath, ['-e', "process.stdout.write(require.resolve('netsync/openapi.yaml'))"], { cwd: dir });
    expect(await readFile(stdout, 'utf8')).toMatch(/^openapi: 3\.1\./);
  });

  it('lets a CommonJS host serve netsync metrics beside its own from the global registry', async () => {
    const dir = await project('metrics-cjs', ['metrics-host.cjs']);
    expect(await runNode(dir, 'metrics-host.cjs')).toEqual({
      lines: ['shop_orders_total 1', 'netsync_requests_total{outcome="matched"} 2', 'netsync_group_size_count 1'],
    });
  });

  it('lets an ESM host count on a registry of its own, and stop', async () => {
    const dir = await project('metrics-esm', ['metrics-host.mjs']);
    expect(await runNode(dir, 'metrics-host.mjs')).toEqual({
      lines: ['shop_orders_total 1', 'netsync_requests_total{outcome="matched"} 2', 'netsync_group_size_count 1'],
      left: ['shop_orders_total'],
    });
  });

  it('has types that reject misuse', async () => {
    const dir = await project('ts-misuse', ['ts/tsconfig.json', 'ts/misuse.mts']);
    const config = { extends: './tsconfig.json', compilerOptions: { noEmit: true }, files: ['misuse.mts'] };
    await writeFile(join(dir, 'tsconfig.misuse.json'), JSON.stringify(config));
    const failure = await run(process.execPath, [TSC, '-p', 'tsconfig.misuse.json'], { cwd: dir }).then(
      () => undefined,
      (error: { stdout: string }) => error.stdout,
    );
    expect(failure).toBeDefined();
    const lines = (failure ?? '').split('\n').filter((line) => line.startsWith('misuse.mts('));
    expect(lines.map((line) => line.slice(0, line.indexOf(',')))).toEqual(['misuse.mts(4', 'misuse.mts(5']);
  }, 120_000);

  it('runs the example app: host routes, host 404, and a pair under /sync', async () => {
    const dir = await project('example', ['example-host.cjs']);
    await copyFile(join(REPO, 'example-app', 'app.js'), join(dir, 'app.js'));
    expect(await runNode(dir, 'example-host.cjs')).toEqual({
      pair: [200, PAIR, 200, PAIR],
      health: [200, { status: 'ok' }],
      missing: [404, { error: { code: 'not_found', message: 'no route for GET /sync/nope' } }],
    });
  });

  it('packs dist (both module systems, types, the client and the CLI), openapi.yaml, and nothing from the sources', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkg.dir });
    const [packed] = JSON.parse(stdout) as { files: { path: string }[] }[];
    const files = (packed?.files ?? []).map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/index.d.mts', 'dist/cli.js']));
    expect(files).toEqual(expect.arrayContaining(['dist/client.js', 'dist/client.mjs', 'dist/client.d.ts', 'dist/client.d.mts', 'openapi.yaml']));
    expect(files.filter((f) => /^(lib|test|bench|example-app)\//.test(f))).toEqual([]);
  });
});
