// Two runs of the suites: everything on Express 5, and the HTTP suites again on Express 4 (aliased as express4).
const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

/** @type {import('jest').Config} */
module.exports = {
  globalSetup: '<rootDir>/test/global-setup.ts',
  testTimeout: 30000,
  maxWorkers: 2,
  projects: [
    { ...base, displayName: 'express5', roots: ['<rootDir>/test'], testMatch: ['**/*.test.ts'] },
    {
      ...base,
      displayName: 'express4',
      roots: ['<rootDir>/test/http'],
      testMatch: ['**/*.test.ts'],
      moduleNameMapper: { '^express$': 'express4' },
    },
  ],
};
