// Bundles the benchmark's child-process programs so they run on plain node, with no TypeScript loader in them.
import { build } from 'esbuild';
import path from 'node:path';

/** Where scratch output of the benchmark goes (ignored by git). */
export const OUT_DIR = path.resolve(__dirname, '..', '.out');

/** The bundled child programs, by name. */
export interface ChildPrograms {
  readonly baselineServer: string;
  readonly loadgen: string;
  readonly parker: string;
  readonly exitOnSignal: string;
  /** Preload of a server traced with `--gc` (loop-batches.ts). */
  readonly loopBatches: string;
}

/** Bundle TypeScript entry points into `outDir` as `<name>.cjs` for plain node (dependencies stay in node_modules). */
export async function bundleForNode(entryPoints: readonly string[], outDir: string): Promise<void> {
  await build({
    entryPoints: [...entryPoints],
    outdir: outDir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
}

/** Bundle the child programs into OUT_DIR. */
export async function buildChildPrograms(): Promise<ChildPrograms> {
  const names = { baselineServer: 'baseline-server', loadgen: 'loadgen', parker: 'parker', exitOnSignal: 'exit-on-signal', loopBatches: 'loop-batches' };
  await bundleForNode(Object.values(names).map((name) => path.join(__dirname, `${name}.ts`)), OUT_DIR);
  const at = (name: string): string => path.join(OUT_DIR, `${name}.cjs`);
  return {
    baselineServer: at(names.baselineServer),
    loadgen: at(names.loadgen),
    parker: at(names.parker),
    exitOnSignal: at(names.exitOnSignal),
    loopBatches: at(names.loopBatches),
  };
}
