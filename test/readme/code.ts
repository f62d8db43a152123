// Reads the README's `ts` examples and runs them as modules whose `netsync` import is this package.
import { createRequire } from 'node:module';
import ts from 'typescript';
import * as library from '../../lib/index';

/** The `ts` block after `<!-- code: NAME -->` in `markdown`. */
export function codeBlock(markdown: string, name: string): string {
  const found = new RegExp(`<!-- code: ${name} -->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(markdown);
  if (found?.[1] === undefined) throw new Error(`README has no ts block marked code: ${name}`);
  return found[1];
}

/** What a README module runs with besides this package: replacement modules and its `console`. */
export interface ModuleSetting {
  readonly modules?: Readonly<Record<string, unknown>>;
  readonly console?: Pick<Console, 'log' | 'error'>;
}

type AsyncModuleBody = (require: unknown, module: unknown, exports: unknown, console: unknown) => Promise<void>;
const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => AsyncModuleBody;

/**
 * Compile `source` to CommonJS and run it to its end (top-level `await` included, as in an ES module);
 * resolves with its exports.
 */
export async function runModule(source: string, setting: ModuleSetting = {}): Promise<Record<string, unknown>> {
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const module = { exports: {} as Record<string, unknown> };
  const requireHere = createRequire(__filename);
  const requireFor = (id: string): unknown => (id === 'netsync' ? library : setting.modules?.[id] ?? requireHere(id));
  // The README's code is this repository's own text, run as a module of the test.
  const run = new AsyncFunction('require', 'module', 'exports', 'console', outputText);
  await run(requireFor, module, module.exports, setting.console ?? console);
  return module.exports;
}
