import { strict as assert } from 'node:assert';
import {
  HANDOFF_KEY, HANDOFF_MAX_AGE_MS, planAddFolder, rememberHandoff, resumePlan, takeHandoff, workspaceFilePath, workspaceFileText,
  type FolderHandoff, type FolderRef, type StateStore, type WindowFolders,
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
