/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  globalSetup: '<rootDir>/spec/harness/global-setup.ts',
  globalTeardown: '<rootDir>/spec/harness/global-teardown.ts',
  reporters: ['default', '<rootDir>/spec/harness/summary-reporter.js'],
  testTimeout: 30000,
  maxWorkers: 2,
};
