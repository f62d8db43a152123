import type { Plugin } from 'esbuild';
import { defineConfig } from 'tsup';

/**
 * The CLI imports the library through `./index` only; at run time that is the package's own dist/index.js,
 * so one copy of the library runs and its classes (NetsyncError, Netsync) are the ones a host imports.
 */
const libraryFromPackageBuild: Plugin = {
  name: 'netsync-cli-uses-package-build',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\/index$/ }, () => ({ path: './index.js', external: true }));
  },
};

// One build for both module systems: ESM (.mjs) and CommonJS (.js) with matching .d.ts/.d.mts.
// The server and the client (`netsync/client`) are built together and split into shared chunks in both
// formats, so NetsyncError is one class for both entries and `instanceof` holds across them.
export default defineConfig([
  {
    entry: { index: 'lib/index.ts', client: 'lib/client/index.ts' },
    format: ['esm', 'cjs'],
    splitting: true,
    dts: true,
    sourcemap: true,
    clean: true,
    // Rollup, not sucrase, finishes the split CommonJS output: sucrase rewrote `??` and `?.` into helper calls
    // with closures, and one such closure in Exchange.start kept every waiter's parsed query alive.
    treeshake: true,
    target: 'node20',
    outExtension: ({ format }) => ({ js: format === 'esm' ? '.mjs' : '.js' }),
  },
  {
    entry: { cli: 'lib/cli.ts' },
    format: ['cjs'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    esbuildPlugins: [libraryFromPackageBuild],
  },
]);
