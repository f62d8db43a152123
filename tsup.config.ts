import { defineConfig } from 'tsup';

// One build for both module systems: ESM (.mjs) and CommonJS (.js) with matching .d.ts/.d.mts.
export default defineConfig([
  {
    entry: { index: 'lib/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    outExtension: ({ format }) => ({ js: format === 'esm' ? '.mjs' : '.js' }),
  },
  {
    entry: { cli: 'lib/cli.ts' },
    format: ['cjs'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
]);
