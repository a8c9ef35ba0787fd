import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(__dirname, '../../..');

/** Runs in a fresh Node so that nothing else has loaded dockerode first. */
const PROBE = `
const loaded = () => Object.keys(require.cache).some((k) => k.includes('/node_modules/dockerode/'));
const steps = [];
const engineModule = require('./src/engine/index.ts');
require('./src/credentials/index.ts');
steps.push(['import', loaded()]);
const engine = new engineModule.Engine({ socketPath: '/nonexistent/berth.sock' });
steps.push(['construct', loaded()]);
engine.listImages().catch((e) => {
  steps.push(['first call', loaded(), e.kind]);
  console.log(JSON.stringify(steps));
});
`;

describe('engine: dockerode is loaded only when first needed', () => {
  it('is not loaded by importing the engine or credentials or constructing an Engine, and is by the first call', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '-e', PROBE], { cwd: root, timeout: 60_000 });
    assert.deepEqual(JSON.parse(stdout.trim()), [['import', false], ['construct', false], ['first call', true, 'no-engine']]);
  });
});
