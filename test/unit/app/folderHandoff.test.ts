import { strict as assert } from 'node:assert';
import {
  HANDOFF_KEY, HANDOFF_MAX_AGE_MS, WORKSPACE_RENEW_INTERVAL_MS, WORKSPACE_RETENTION_MS, pendingWorkspaceFile, planAddFolder, rememberHandoff, resumePlan, takeHandoff,
  workspaceEntryOf, workspaceFilePath, workspaceFileText, workspacesToPrune,
  type FolderHandoff, type FolderRef, type PruneInput, type StateStore, type WindowFolders, type WorkspaceEntry,
} from '../../../src/app/folderHandoff';

/** VS Code's global state as the extension sees it: a key-value store. */
class MemoryState implements StateStore {
  readonly values = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, value);
  }
}

const image: FolderRef = { uri: 'berth-image://local/e2e~insight%3Av1', name: 'Local registry: e2e/insight:v1' };
const local: FolderRef = { uri: 'file:///home/me/project', name: 'project', path: '/home/me/project' };
const other: FolderRef = { uri: 'berth-image://ghcr/acme~app%3A2', name: 'ghcr.io: acme/app:2' };
const WS = 'file:///home/me/.config/Code/User/globalStorage/berth.berth/workspaces/Local%20registry%20x.code-workspace';

describe('adding an image folder: what the window needs', () => {
  const table: Array<[string, WindowFolders, FolderRef['uri'], string]> = [
    ['an empty window opens a workspace file holding the image', { folders: [], workspaceFile: undefined }, image.uri, 'open-workspace'],
    ['a single-folder window opens a workspace file holding its folder and the image', { folders: [local], workspaceFile: undefined }, image.uri, 'open-workspace'],
    ['a workspace with folders appends (its first folder stays, nothing restarts)', { folders: [local], workspaceFile: WS }, image.uri, 'append'],
    ['a workspace with no folder appends and hands over (its first folder changes)', { folders: [], workspaceFile: WS }, image.uri, 'append-with-restart'],
    ['a folder already open is only revealed', { folders: [local, image], workspaceFile: WS }, image.uri, 'reveal'],
    ['a folder already open in a single-folder window is only revealed', { folders: [image], workspaceFile: undefined }, image.uri, 'reveal'],
  ];
  for (const [name, current, uri, kind] of table) {
    it(name, () => assert.equal(planAddFolder(current, { uri, name: 'x' }).kind, kind));
  }

  it('keeps the window’s folders first and the image last in the workspace file', () => {
    const plan = planAddFolder({ folders: [local], workspaceFile: undefined }, image);
    assert.deepEqual(plan, { kind: 'open-workspace', folders: [local, image] });
  });

  it('writes a local folder as a path (resolved where the workspace file is) and others as URIs, with their names', () => {
    assert.deepEqual(JSON.parse(workspaceFileText([local, image])), {
      folders: [{ path: '/home/me/project', name: 'project' }, { uri: image.uri, name: image.name }],
    });
  });

  it('names the workspace file after the folder’s label, safe on every file system, in a folder unique per open', () => {
    const [dirA, fileA] = workspaceFilePath('Local registry: e2e/insight:v1', 1_000);
    const [dirB, fileB] = workspaceFilePath('Local registry: e2e/insight:v1', 2_000);
    assert.equal(fileA, 'Local registry e2e-insight-v1.code-workspace');
    assert.equal(fileB, fileA);
    assert.notEqual(dirA, dirB);
    assert.match(dirA, /^[0-9a-z]+$/);
    assert.equal(workspaceFilePath('ghcr.io: acme/app@sha256:abc', 1)[1], 'ghcr.io acme-app-sha256-abc.code-workspace');
    assert.equal(workspaceFilePath('::://', 1)[1], 'image.code-workspace');
  });
});

describe('the handoff across the reload', () => {
  const t0 = 1_800_000_000_000;
  const handoff = (over: Partial<FolderHandoff> = {}): FolderHandoff => ({ workspaceFile: WS, folders: [local, image], registryWasRunning: true, atMs: t0, ...over });

  it('is taken once, by the window that opened its workspace file', async () => {
    const state = new MemoryState();
    await rememberHandoff(state, handoff());
    assert.deepEqual(await takeHandoff(state, WS, t0 + 5_000), handoff());
    assert.equal(await takeHandoff(state, WS, t0 + 6_000), undefined, 'a second activation in that window gets nothing');
    assert.equal(state.values.has(HANDOFF_KEY), false);
  });

  it('is left for its window when another window (or an empty one) activates first', async () => {
    const state = new MemoryState();
    await rememberHandoff(state, handoff());
    assert.equal(await takeHandoff(state, 'file:///elsewhere.code-workspace', t0 + 1_000), undefined);
    assert.equal(await takeHandoff(state, undefined, t0 + 1_000), undefined);
    assert.deepEqual(await takeHandoff(state, WS, t0 + 2_000), handoff());
  });

  it('is dropped when nobody took it in time (the window was closed instead of reloaded)', async () => {
    const state = new MemoryState();
    await rememberHandoff(state, handoff());
    assert.equal(await takeHandoff(state, WS, t0 + HANDOFF_MAX_AGE_MS + 1), undefined);
    assert.equal(state.values.has(HANDOFF_KEY), false);
  });

  it('drops a value it cannot read instead of acting on it', async () => {
    for (const junk of [42, 'x', null, { workspaceFile: WS }, { ...handoff(), folders: [] }, { ...handoff(), folders: [{ uri: 1 }] }]) {
      const state = new MemoryState();
      state.values.set(HANDOFF_KEY, junk);
      assert.equal(await takeHandoff(state, WS, t0), undefined, JSON.stringify(junk));
      assert.equal(state.values.has(HANDOFF_KEY), false, JSON.stringify(junk));
    }
  });

  const resumes: Array<[string, FolderHandoff, FolderRef[], boolean, { startRegistry: boolean; missing: FolderRef[] }]> = [
    ['starts the registry the reload stopped; the folders are there', handoff(), [local, image], false, { startRegistry: true, missing: [] }],
    ['leaves a registry that runs (or never ran) alone', handoff(), [local, image], true, { startRegistry: false, missing: [] }],
    ['does not start a registry that was stopped before the reload', handoff({ registryWasRunning: false }), [local, image], false, { startRegistry: false, missing: [] }],
    ['adds back, in order, the folders the window came back without', handoff(), [], false, { startRegistry: true, missing: [local, image] }],
    ['adds back only the missing image folder', handoff({ folders: [local, other, image] }), [local, other], true, { startRegistry: false, missing: [image] }],
  ];
  for (const [name, h, folders, running, expected] of resumes) {
    it(name, () => {
      assert.deepEqual(resumePlan(h, { folders, workspaceFile: h.workspaceFile }, running), expected);
    });
  }
});

describe('pruning the workspace folders Browse Files left behind', () => {
  const DIR = '/home/me/.config/Code/User/globalStorage/berth.berth/workspaces';
  const now = 1_800_000_000_000;
  const DAY_MS = 24 * 60 * 60_000;
  const old = now - 8 * DAY_MS;
  const fresh = now - DAY_MS;
  const [unique, fileName] = workspaceFilePath('Local registry: e2e/insight:v1', old);
  /** A folder as Browse Files writes it, its folder and file last modified at `mtimeMs`. */
  const made = (name: string, mtimeMs: number, over: Partial<WorkspaceEntry> = {}): WorkspaceEntry => ({
    name, isDirectory: true, mtimeMs, contents: [{ name: fileName, isFile: true, mtimeMs }], ...over,
  });
  const fileIn = (name: string): string => `${DIR}/${name}/${fileName}`;

  const table: Array<[string, WorkspaceEntry[], Partial<PruneInput>, string[]]> = [
    ['removes a folder it made that was last modified before the retention', [made(unique, old)], {}, [unique]],
    ['keeps one modified within the retention', [made('m1', fresh)], {}, []],
    ['keeps one exactly at the retention’s edge', [made('m1', now - WORKSPACE_RETENTION_MS)], {}, []],
    ['keeps an old folder whose workspace file changed recently (folders added to it)', [made('m1', old, { contents: [{ name: fileName, isFile: true, mtimeMs: fresh }] })], {}, []],
    ['keeps an old folder renewed recently (opened again)', [made('m1', fresh, { contents: [{ name: fileName, isFile: true, mtimeMs: old }] })], {}, []],
    ['keeps one dated in the future (a clock set back)', [made('m1', now + DAY_MS)], {}, []],
    ['removes an old empty folder (an open that failed before writing its file)', [made('m1', old, { contents: [] })], {}, ['m1']],
    ['keeps the workspace this window has open, however old', [made('m1', old), made('m2', old)], { inUse: [fileIn('m1')] }, ['m2']],
    ['keeps the workspace a pending handoff waits for', [made('m1', old), made('m2', old)], { inUse: [undefined, fileIn('m2')] }, ['m1']],
    ['keeps the open workspace spelled in another case', [made('m1', old)], { inUse: [`${DIR}/M1/${fileName}`] }, []],
    ['an open workspace outside the folder protects nothing', [made('m1', old)], { inUse: ['/home/me/project/m1/x.code-workspace', `${DIR}/../m1`] }, ['m1']],
    ['leaves a folder not named as Berth names them', [made('My-Stuff', old), made('m1.bak', old), made('', old)], {}, []],
    ['leaves a file or a symlink (to a folder or not) named like a folder it made', [made('m1', old, { isDirectory: false, contents: [] })], {}, []],
    ['leaves a folder holding anything but its one workspace file', [
      made('m1', old, { contents: [{ name: fileName, isFile: true, mtimeMs: old }, { name: 'notes.txt', isFile: true, mtimeMs: old }] }),
      made('m2', old, { contents: [{ name: 'notes.txt', isFile: true, mtimeMs: old }] }),
      made('m3', old, { contents: [{ name: fileName, isFile: false, mtimeMs: old }] }),
    ], {}, []],
  ];
  for (const [name, entries, over, expected] of table) {
    it(name, () => {
      const input: PruneInput = { dir: DIR, entries, nowMs: now, retentionMs: WORKSPACE_RETENTION_MS, inUse: [], ...over };
      assert.deepEqual(workspacesToPrune(input).map((e) => e.name), expected);
    });
  }

  it('an open window renews its workspace many times within the retention (a missed renewal, a sleeping laptop, costs nothing)', () => {
    assert.ok(WORKSPACE_RETENTION_MS / WORKSPACE_RENEW_INTERVAL_MS >= 7 * 4);
  });

  it('recognises every name the writer gives as its own', () => {
    for (const label of ['Local registry: e2e/insight:v1', 'ghcr.io: acme/app@sha256:abc', '::://', 'x'.repeat(300)]) {
      const [folder, file] = workspaceFilePath(label, now);
      const entry: WorkspaceEntry = { name: folder, isDirectory: true, mtimeMs: old, contents: [{ name: file, isFile: true, mtimeMs: old }] };
      assert.deepEqual(workspacesToPrune({ dir: DIR, entries: [entry], nowMs: now, retentionMs: WORKSPACE_RETENTION_MS, inUse: [] }), [entry], label);
    }
  });

  const entryOf: Array<[string | undefined, string | undefined]> = [
    [`${DIR}/m1/${fileName}`, 'm1'],
    [`${DIR}/m1`, 'm1'],
    [DIR, undefined],
    [`${DIR}-other/m1/x.code-workspace`, undefined],
    ['/elsewhere/x.code-workspace', undefined],
    [undefined, undefined],
  ];
  for (const [file, expected] of entryOf) {
    it(`finds the workspace folder holding ${file ?? 'no file'}: ${expected ?? 'none'}`, () => assert.equal(workspaceEntryOf(DIR, file), expected));
  }

  it('reads the pending handoff’s workspace file without taking it', async () => {
    const state = new MemoryState();
    assert.equal(pendingWorkspaceFile(state), undefined);
    await rememberHandoff(state, { workspaceFile: WS, folders: [image], registryWasRunning: false, atMs: now });
    assert.equal(pendingWorkspaceFile(state), WS);
    assert.equal(state.values.has(HANDOFF_KEY), true);
    state.values.set(HANDOFF_KEY, { workspaceFile: 42 });
    assert.equal(pendingWorkspaceFile(state), undefined);
  });
});
