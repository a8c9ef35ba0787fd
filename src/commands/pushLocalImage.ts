import { isReferenceError, parseReference } from '../oci/reference';
import { isLocalEntry } from '../app/registryEntry';
import { isLoopbackHost } from '../oci/host';
import type { CommandDeps, CommandSpec } from './command';
import { localPort } from './imageCommon';
import { askPushTarget, pushTo } from './pushFlow';
import { localImageFrom, registryNodeFor } from './pickers';
import { dockerHost } from './references';

/** Any loopback spelling (127.0.0.1, localhost, [::1]) of the local registry's port, running or not. */
function isLocalRegistryHost(deps: CommandDeps, host: string): boolean {
  const server = deps.local.entry().server;
  const port = server.slice(server.lastIndexOf(':') + 1);
  return isLoopbackHost(host) && host.endsWith(`:${port}`);
}

/** Pushes an image already named for a connected registry as is; otherwise asks where, like Retag and Push. */
export const pushLocalImage: CommandSpec = {
  id: 'berth.localImage.push',
  async run(deps, node) {
    const image = await localImageFrom(deps, node, 'Push Local Image');
    const parsed = image.image.reference ? parseReference(image.image.reference) : undefined;
    if (parsed && !isReferenceError(parsed)) {
      const entries = [deps.local.entry(), ...deps.store.list().filter((e) => !isLocalEntry(e))];
      const entry = entries.find((e) => (isLocalEntry(e) ? isLocalRegistryHost(deps, parsed.registry) : dockerHost(e, localPort(deps)) === parsed.registry));
      if (entry) {
        await pushTo(deps, image, registryNodeFor(deps, entry), { host: parsed.registry, repository: parsed.repository, tag: parsed.tag ?? 'latest' });
        return;
      }
    }
    const { registry, target } = await askPushTarget(deps, image);
    await pushTo(deps, image, registry, target);
  },
};
