#!/usr/bin/env node
// The one test runner: `node test/run.mjs <tier|all>`. Tiers run in order; each reports
// its counts, and the last line is always the total: "N passed, M failed".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const bin = (name) => join(root, 'node_modules', '.bin', name);

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

/** A check that is one test: passes when the command exits 0. */
function check(cmd, args) {
  return () => (run(cmd, args) === 0 ? { passes: 1, failures: 0 } : { passes: 0, failures: 1 });
}

/**
 * Runs `node <args>` with $BERTH_STATS_FILE set and returns the counts it wrote there. A runner that
 * exits non-zero after reporting no failure (a crash, a hook mocha did not count) still fails its tier.
 */
function reported(what, args, env = () => ({})) {
  return () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-stats-'));
    const statsFile = join(dir, 'stats.json');
    try {
      const code = run(process.execPath, args, { ...env(), BERTH_STATS_FILE: statsFile });
      if (!existsSync(statsFile)) return { passes: 0, failures: 1, note: `${what} exited ${code} before reporting` };
      const s = JSON.parse(readFileSync(statsFile, 'utf8'));
      if (code !== 0 && s.failures === 0) s.failures = 1;
      return s;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function mocha(glob, extra = [], env = undefined) {
  return reported('mocha', [
    '--import', 'tsx', join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'),
    '--reporter', join(root, 'test/support/statsReporter.cjs'),
    ...extra, glob,
  ], env);
}

const TMPFS_MAGIC = 0x01021994;
const SCRATCH_MIN_FREE_BYTES = 8 * 1024 ** 3;
const scratchDirs = [];

/**
 * Where the integration tier's tests make their folders (BERTH_TEST_TMPDIR, read by tempDir() in
 * test/support/proc.ts): a private folder on /dev/shm when it is a tmpfs with room to spare. The tier
 * writes and deletes well over 100,000 files (registry layouts of 10,000 and 50,000 repositories,
 * dockerd's and podman's vfs storage); on a disk mounted with online discard, deleting them alone took
 * minutes. Every test still makes its own folder under it.
 */
function scratchEnv() {
  try {
    const fs = statfsSync('/dev/shm');
    if (fs.type !== TMPFS_MAGIC || fs.bavail * fs.bsize < SCRATCH_MIN_FREE_BYTES) return {};
    const dir = mkdtempSync('/dev/shm/berth-test-');
    scratchDirs.push(dir);
    return { BERTH_TEST_TMPDIR: dir };
  } catch {
    return {};
  }
}

// Tests remove what they make; this catches what a crashed run left. rm copes with read-only image files.
process.on('exit', () => {
  for (const dir of scratchDirs) spawnSync('rm', ['-rf', dir]);
});
// A folder on tmpfs holds memory: remove it on Ctrl-C too (the tier's own process gets the signal as well).
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) process.on(signal, () => process.exit(code));

const tiers = {
  typecheck: check(bin('tsc'), ['--noEmit', '-p', '.']),
  lint: check(bin('eslint'), ['--no-error-on-unmatched-pattern', 'src', 'test', 'bench']),
  unit: mocha('test/unit/**/*.test.ts', ['--timeout', '10000']),
  build: check(process.execPath, ['esbuild.mjs']),
  // Two files at a time: the tier mostly waits on dockerd, disks, child processes and timers, not the CPU.
  // Each file starts its own servers on port 0 in its own folders, so files do not share state.
  integration: mocha('test/integration/**/*.test.ts', ['--timeout', '180000', '--slow', '5000', '--parallel', '--jobs', '2'], scratchEnv),
  // The end-to-end tier drives a real code-server; its runner writes the same stats file.
  e2e: reported('e2e runner', ['--import', 'tsx', 'test/e2e/run.ts']),
};
const order = ['typecheck', 'lint', 'unit', 'build', 'integration', 'e2e'];

const wanted = process.argv[2] ?? 'all';
const selected = wanted === 'all' ? order
  : wanted === 'integration' || wanted === 'e2e' ? ['build', wanted]
    : [wanted];
if (!selected.every((t) => t in tiers)) {
  console.error(`unknown tier "${wanted}"; use one of: all, ${order.join(', ')}`);
  process.exit(2);
}

let passed = 0;
let failed = 0;
const lines = [];
for (const name of selected) {
  console.log(`\n=== ${name} ===`);
  const s = tiers[name]();
  passed += s.passes;
  failed += s.failures;
  lines.push(`${name}: ${s.passes} passed, ${s.failures} failed${s.pending ? `, ${s.pending} pending` : ''}${s.note ? ` (${s.note})` : ''}`);
}
console.log('\n' + lines.join('\n'));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
