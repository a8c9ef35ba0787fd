/** "Start Local Registry" on a port another program holds: a clear message and the offer of a free port. */
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:net';
import { runCommand } from '../../../src/commands/command';
import { localStart } from '../../../src/commands/localStart';
import type { LocalRegistry } from '../../../src/local/localRegistry';
import { freePort, removeDir, tempDir } from '../../support/proc';
import { testDeps } from '../../unit/fakes/deps';
import type { Answer } from '../../unit/fakes/ui';
import { localManager } from './manager';

describe('starting the local registry on a busy port', () => {
  let dir: string;
  let busyPort: number;
  let blocker: Server;
  let registry: LocalRegistry | undefined;

  before(async () => {
    dir = tempDir('busy');
    busyPort = await freePort();
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(busyPort, '127.0.0.1', () => r()));
  });
  afterEach(async () => {
    await registry?.stop();
    registry?.dispose();
    registry = undefined;
  });
  after(async () => {
    await new Promise<void>((r) => blocker.close(() => r()));
    removeDir(dir);
  });

  function setup(answer: Answer) {
    let port = busyPort;
    const r = localManager({ dir, port: () => port });
    registry = r;
    const deps = testDeps([answer]);
    const saved: number[] = [];
    deps.settings = { ...deps.settings, setLocalPort: async (p) => { saved.push((port = p)); return 'User settings'; } };
    deps.local = { ...deps.local, start: () => r.start(), status: () => r.status(), showLogs: () => undefined };
    return { deps, saved };
  }

  it('says the port is in use, offers a free one, saves it and starts there', async () => {
    const { deps, saved } = setup({ button: (actions) => actions[0] });
    await runCommand(localStart, deps, []);
    assert.equal(saved.length, 1);
    const chosen = saved[0] ?? 0;
    assert.ok(chosen > busyPort && chosen <= busyPort + 20, `a port near ${busyPort}, not a random high one: ${chosen}`);
    assert.match(deps.ui.messages('warn')[0] ?? '', new RegExp(`^Port ${busyPort} on 127\\.0\\.0\\.1 is already in use by another program.*Start it on port ${chosen} instead\\? That saves berth\\.localRegistry\\.port = ${chosen} in your settings\\.$`));
    assert.equal(registry?.status().state, 'running');
    assert.equal(registry?.status().port, saved[0]);
    assert.equal((await fetch(`http://127.0.0.1:${saved[0]}/v2/`)).status, 200);
    assert.equal(deps.ui.messages('info')[0], `The local registry is running on 127.0.0.1:${chosen}. berth.localRegistry.port = ${chosen} is saved in User settings.`);
  });

  it('a failed auto-start is not silent: the same offer, saying the automatic start failed', async () => {
    const { deps, saved } = setup({ button: undefined });
    await runCommand(localStart, deps, [{ automatic: true }]);
    assert.match(deps.ui.messages('warn')[0] ?? '', new RegExp(`^The local registry did not start automatically\\. Port ${busyPort} on 127\\.0\\.0\\.1 is already in use`));
    assert.deepEqual(saved, []);
  });

  it('declining the offer leaves it failed with the reason, and nothing saved', async () => {
    const { deps, saved } = setup({ button: undefined });
    await runCommand(localStart, deps, []);
    assert.deepEqual(saved, []);
    assert.equal(registry?.status().state, 'failed');
    assert.match(registry?.status().message ?? '', /already in use/);
    assert.deepEqual(deps.ui.messages('error'), []);
  });
});
