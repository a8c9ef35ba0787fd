import { DockerCredentialStore } from '../credentials/dockerCredentials';
import { UserError } from '../app/problems';
import type { CommandSpec } from './command';
import { registryFrom } from './pickers';

export const dockerLogin: CommandSpec = {
  id: 'berth.registry.dockerLogin',
  async run(deps, node) {
    const registry = await registryFrom(deps, node, { includeLocal: false, title: 'Log the Docker CLI In' });
    const cred = await deps.store.credentials(registry.registry.id);
    if (!cred?.username || !(cred.password || cred.identityToken)) throw new UserError(`${registry.registry.label} has no saved credentials to log in with. Use "Edit Credentials…" first.`);
    const docker = new DockerCredentialStore({ env: deps.env });
    const where = await docker.store(registry.registry.server, {
      username: cred.username,
      ...(cred.password ? { password: cred.password } : {}),
      ...(cred.identityToken ? { identityToken: cred.identityToken } : {}),
      ...(cred.email ? { email: cred.email } : {}),
    });
    void deps.ui.info(`The docker CLI is logged in to ${registry.registry.server} (${where.kind === 'file' ? where.path : `credential helper "${where.helper}"`}).`);
  },
};
