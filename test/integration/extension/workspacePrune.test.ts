/** Removing old Browse Files workspace folders from a real folder: only Berth's, never through a symlink. */
import { strict as assert } from 'node:assert';
import { existsSync, lstatSync, mkdirSync, readdirSync, symlinkSync, utimesSync, writeFileSync, lutimesSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_RETENTION_MS, workspaceFilePath } from '../../../src/app/folderHandoff';
import { pruneWorkspaces, renewWorkspace, type PruneOptions } from '../../../src/app/workspacePrune';
import { removeDir, tempDir } from '../../support/proc';

const DAY_MS = 24 * 60 * 60_000;

class Lines {
  readonly info: string[] = [];
  readonly warn: string[] = [];
  readonly log = { info: (m: string) => this.info.push(m), warn: (m: string) => this.warn.push(m) };
}

describe('pruning Browse Files workspace folders on disk', () => {
  let root: string;
  beforeEach(() => { root = tempDir('ws-prune'); });
  afterEach(() => removeDir(root));

  const nowMs = Date.now();
  const oldDate = new Date(nowMs - 8 * DAY_MS);
  const [, fileName] = workspaceFilePath('Local registry: e2e/insight:v1', nowMs);

  /** A folder as Browse Files writes it, dated `date`; returns the workspace file's path. */
  const made = (dir: string, name: string, date: Date, extra?: string): string => {
    mkdirSync(join(dir, name), { recursive: true });
    const file = join(dir, name, fileName);
    writeFileSync(file, '{"folders":[]}\n');
    if (extra !== undefined) writeFileSync(join(dir, name, extra), 'mine');
    for (const f of readdirSync(join(dir, name))) utimesSync(join(dir, name, f), date, date);
    utimesSync(join(dir, name), date, date);
    return file;
  };
  const options = (dir: string, lines: Lines, over: Partial<PruneOptions> = {}): PruneOptions => ({
    dir, openWorkspaceFile: undefined, pendingWorkspaceFile: undefined, nowMs, retentionMs: WORKSPACE_RETENTION_MS, log: lines.log, ...over,
  });

  it('removes old folders it made and keeps the fresh, the open, the pending and everything not its own', async () => {
    const dir = join(root, 'workspaces');
    const outside = join(root, 'outside');
    made(dir, 'aold1', oldDate);
    made(dir, 'aold2', oldDate);
    made(dir, 'bfresh', new Date(nowMs - DAY_MS));
    const open = made(dir, 'copen', oldDate);
    const pending = made(dir, 'dpending', oldDate);
    made(dir, 'emixed', oldDate, 'notes.txt');
    made(dir, 'My-Stuff', oldDate);
    writeFileSync(join(dir, 'fstray'), 'a file');
    utimesSync(join(dir, 'fstray'), oldDate, oldDate);
    // A symlink named like Berth's folders, to a folder shaped like one of them: neither is touched.
    made(outside, 'target', oldDate);
    symlinkSync(join(outside, 'target'), join(dir, 'glink'));
    lutimesSync(join(dir, 'glink'), oldDate, oldDate);

    const lines = new Lines();
    const removed = await pruneWorkspaces(options(dir, lines, { openWorkspaceFile: open, pendingWorkspaceFile: pending }));

    assert.deepEqual(removed.sort(), ['aold1', 'aold2']);
    assert.deepEqual(readdirSync(dir).sort(), ['My-Stuff', 'bfresh', 'copen', 'dpending', 'emixed', 'fstray', 'glink']);
    assert.deepEqual(readdirSync(join(dir, 'emixed')).sort(), [fileName, 'notes.txt']);
    assert.ok(lstatSync(join(dir, 'glink')).isSymbolicLink());
    assert.deepEqual(readdirSync(join(outside, 'target')), [fileName]);
    assert.ok(existsSync(open) && existsSync(pending));
    assert.ok(lstatSync(join(dir, 'copen')).mtimeMs >= nowMs - 1_000, 'the open workspace’s folder is renewed, so the retention counts from its last use');
    assert.ok(lstatSync(join(dir, 'dpending')).mtimeMs < nowMs - 7 * DAY_MS, 'a pending one is kept but not renewed');
    assert.deepEqual(lines.warn, []);
    assert.equal(lines.info.length, 1);
    assert.match(lines.info[0] ?? '', /Removed 2 Browse Files workspaces unused for more than 7 days/);
  });

  it('the renewed open workspace outlives the retention counted from when it was made', async () => {
    const dir = join(root, 'workspaces');
    const open = made(dir, 'copen', oldDate);
    const lines = new Lines();
    await pruneWorkspaces(options(dir, lines, { openWorkspaceFile: open }));
    // The window closed; a week later (less a day) another window activates.
    assert.deepEqual(await pruneWorkspaces(options(dir, lines, { nowMs: nowMs + 6 * DAY_MS })), []);
    assert.deepEqual(await pruneWorkspaces(options(dir, lines, { nowMs: nowMs + 8 * DAY_MS })), ['copen']);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a window that stays open renews its own workspace folder only', async () => {
    const dir = join(root, 'workspaces');
    const open = made(dir, 'copen', oldDate);
    made(dir, 'dother', oldDate);
    made(root, 'elsewhere', oldDate);
    symlinkSync(join(root, 'elsewhere'), join(dir, 'glink'));
    const lines = new Lines();
    assert.equal(await renewWorkspace(dir, open, nowMs, lines.log), true);
    assert.equal(await renewWorkspace(dir, join(root, 'elsewhere', fileName), nowMs, lines.log), false, 'not under the workspaces folder');
    assert.equal(await renewWorkspace(dir, join(dir, 'glink', fileName), nowMs, lines.log), false, 'a symlink is not followed');
    assert.equal(await renewWorkspace(dir, undefined, nowMs, lines.log), false);
    const ageMs = (p: string): number => nowMs - lstatSync(p).mtimeMs;
    assert.ok(ageMs(join(dir, 'copen')) < DAY_MS);
    for (const p of [join(dir, 'dother'), join(root, 'elsewhere')]) assert.ok(ageMs(p) > 7 * DAY_MS, p);
    assert.deepEqual(await pruneWorkspaces(options(dir, lines)), ['dother'], 'another window prunes all but the renewed one');
    assert.deepEqual(lines.warn, []);
  });

  it('does not go through a workspaces folder that is a symlink', async () => {
    const outside = join(root, 'outside');
    made(outside, 'aold1', oldDate);
    const dir = join(root, 'workspaces');
    symlinkSync(outside, dir);
    const lines = new Lines();
    assert.deepEqual(await pruneWorkspaces(options(dir, lines)), []);
    assert.deepEqual(readdirSync(join(outside, 'aold1')), [fileName]);
  });

  it('does nothing, quietly, when no workspace was ever written', async () => {
    const lines = new Lines();
    assert.deepEqual(await pruneWorkspaces(options(join(root, 'workspaces'), lines)), []);
    assert.deepEqual([...lines.info, ...lines.warn], []);
  });

  it('logs a folder it cannot read in one line and does not throw', async () => {
    writeFileSync(join(root, 'storage'), 'a file where the storage folder should be');
    const lines = new Lines();
    assert.deepEqual(await pruneWorkspaces(options(join(root, 'storage', 'workspaces'), lines)), []);
    assert.equal(lines.warn.length, 1);
    assert.match(lines.warn[0] ?? '', /^Could not look for old Browse Files workspaces in .*: ENOTDIR/);
    assert.doesNotMatch(lines.warn[0] ?? '', /\n\s+at /);
  });
});
