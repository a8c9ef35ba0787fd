import type { CommandSpec } from './command';
import { engineAuthFor, localPort, targetOf } from './imageCommon';
import { TransferProgress } from './layerProgress';
import { imageFrom } from './pickers';
import { imageReference } from './references';

export const pullImage: CommandSpec = {
  id: 'berth.tag.pull',
  async run(deps, node) {
    const image = await imageFrom(deps, node, 'Pull Image');
    const t = targetOf(image);
    const reference = imageReference(t, localPort(deps), image.kind !== 'tag');
    const engine = await deps.engine();
    const auth = await engineAuthFor(deps, t.registry.registry);
    deps.log.info(`Pulling ${reference}`);
    const progress = new TransferProgress((line) => deps.log.info(line));
    await deps.ui.withProgress(`Pulling ${reference}`, true, (report, signal) =>
      engine.pull(reference, { ...(auth ? { auth } : {}), signal, onProgress: (e) => report(progress.report(e)) }),
    );
    deps.log.info(`Pulled ${reference}: ${progress.summary().length} layers`);
    deps.tree.refreshLocalImages();
    void deps.ui.info(`Pulled ${reference}.`);
  },
};
