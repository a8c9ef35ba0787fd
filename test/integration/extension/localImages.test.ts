/** Remove Image on the Local Images view, through a real dockerd (fake window only). */
import { strict as assert } from 'node:assert';
import { runCommand } from '../../../src/commands/command';
import { removeLocalImage } from '../../../src/commands/removeLocalImage';
import { Engine } from '../../../src/engine/engine';
import { imageRows, toLocalImage } from '../../../src/views/localImages';
import type { LocalImageNode } from '../../../src/views/nodes';
import { startDockerd, type Dockerd } from '../../support/dockerd';
import { busyboxContext } from '../../support/images';
import { removeDir } from '../../support/proc';
import { testDeps, type TestDeps } from '../../unit/fakes/deps';
import type { Answer } from '../../unit/fakes/ui';

describe('Remove Image on a local image, with a real engine', () => {
  let dockerd: Dockerd;
  let engine: Engine;
  const base = 'berth-rm/app:base';

  before(async () => {
    dockerd = await startDockerd();
    engine = new Engine({ socketPath: dockerd.socket });
    const ctx = busyboxContext(2, 'berth-rm');
    try {
      await dockerd.docker(['build', '-q', '-t', base, ctx]);
    } finally {
      removeDir(ctx);
    }
  });
  after(async () => {
    await dockerd?.stop();
  });

  const deps = (answers: Answer[]): TestDeps => {
    const d = testDeps(answers);
    d.engine = async () => engine;
    return d;
  };
  /** The Local Images view's rows, as the tree builds them from the engine. */
  const rows = async (): Promise<LocalImageNode[]> => imageRows((await engine.listImages()).map(toLocalImage));
  const row = async (reference: string): Promise<LocalImageNode> => {
    const found = (await rows()).find((r) => r.image.reference === reference);
    assert.ok(found, `a row for ${reference}`);
    return found;
  };
  /** A fresh image (its own layer), so tests do not share what they remove. */
  const build = async (reference: string): Promise<void> => {
    const ctx = busyboxContext(1, reference.replace(/[^a-z0-9]/g, '-'));
    try {
      await dockerd.docker(['build', '-q', '-t', reference, ctx]);
    } finally {
      removeDir(ctx);
    }
  };

  it('removing one of two tags keeps the image under the other, and says so before and after', async () => {
    await dockerd.docker(['tag', base, 'berth-rm/app:second']);
    const d = deps([{ button: 'Remove' }]);
    await runCommand(removeLocalImage, d, [await row('berth-rm/app:second')]);
    assert.deepEqual(d.ui.messages('error'), []);
    const confirm = d.ui.shown.find((s) => s.kind === 'warn');
    assert.equal(confirm?.text, 'Remove berth-rm/app:second from the container engine?');
    assert.match((confirm?.options as { detail?: string }).detail ?? '', /Only the tag is removed: the image \w{12} stays under berth-rm\/app:base/);
    assert.deepEqual((await rows()).map((r) => r.image.reference).filter((r) => r?.startsWith('berth-rm/app')), [base]);
    assert.match(d.ui.messages('info')[0] ?? '', /^Untagged berth-rm\/app:second; the image stays under berth-rm\/app:base\.$/);
    assert.equal(d.tree.imagesRefreshed, 1);
  });

  it('removing the last tag of an image no container uses deletes the image', async () => {
    await build('berth-rm/gone:1');
    const id = (await row('berth-rm/gone:1')).image.id;
    const d = deps([{ button: 'Remove' }]);
    await runCommand(removeLocalImage, d, [await row('berth-rm/gone:1')]);
    assert.deepEqual(d.ui.messages('error'), []);
    assert.ok(!(await rows()).some((r) => r.image.id === id), 'the image is gone from the view');
    assert.match(d.ui.messages('info')[0] ?? '', /^Removed berth-rm\/gone:1 \(\d+ image layers? deleted\)\.$/);
  });

  it('declining the confirmation removes nothing', async () => {
    const d = deps([{ button: undefined }]);
    await runCommand(removeLocalImage, d, [await row(base)]);
    await row(base);
    assert.equal(d.tree.imagesRefreshed, 0);
  });

  it('an image a stopped container uses: the refusal is shown in the engine’s words with force offered; declining keeps it, forcing untags it', async () => {
    await build('berth-rm/used:1');
    const container = (await dockerd.docker(['create', '--network', 'none', 'berth-rm/used:1'])).stdout.trim();
    try {
      const declined = deps([{ button: 'Remove' }, { button: undefined }]);
      await runCommand(removeLocalImage, declined, [await row('berth-rm/used:1')]);
      const refusal = declined.ui.shown.filter((s) => s.kind === 'warn')[1];
      assert.equal(refusal?.text, 'The engine refused to remove berth-rm/used:1: a container uses it.');
      assert.match((refusal?.options as { detail?: string }).detail ?? '', new RegExp(`container ${container.slice(0, 12)}`));
      assert.deepEqual(refusal?.items, ['Remove Anyway']);
      assert.deepEqual(declined.ui.messages('error'), []);
      await row('berth-rm/used:1');

      const forced = deps([{ button: 'Remove' }, { button: 'Remove Anyway' }]);
      await runCommand(removeLocalImage, forced, [await row('berth-rm/used:1')]);
      assert.deepEqual(forced.ui.messages('error'), []);
      assert.ok(!(await rows()).some((r) => r.image.reference === 'berth-rm/used:1'), 'the tag is gone from the view');
      // What force removes is the engine's choice (the tag, and the image unless it is still needed); the message follows it.
      assert.match(forced.ui.messages('info')[0] ?? '', /^(Removed berth-rm\/used:1 \(\d+ image layers? deleted\)|Untagged berth-rm\/used:1; the image stays while a container uses it)\.$/);
    } finally {
      await dockerd.docker(['rm', container]);
    }
  });
});
