import type { CommandSpec } from './command';
import { localPort, targetOf } from './imageCommon';
import { manifestDocument, manifestDocumentPath } from './manifestDocument';
import { imageFrom } from './pickers';
import { imageReference } from './references';

export const inspectManifest: CommandSpec = {
  id: 'berth.tag.inspect',
  async run(deps, node) {
    const image = await imageFrom(deps, node, 'Inspect Manifest');
    const t = targetOf(image);
    const api = await deps.registry();
    const m = await api.manifest(t.registry.registry, t.repository, t.digest ?? t.tag ?? 'latest');
    const config = 'layers' in m.manifest ? await api.imageConfig(t.registry.registry, t.repository, m) : undefined;
    const content = manifestDocument(imageReference(t, localPort(deps), image.kind !== 'tag'), m, config);
    const uri = deps.docs.put(manifestDocumentPath(t.registry.registry.server, t.repository, m.digest), content);
    await deps.ui.openDocument(uri, 'json');
  },
};
