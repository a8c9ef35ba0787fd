import { kubernetesPullSecretYaml, secretNameProblem, suggestSecretName } from '../credentials/registrySecret';
import { UserError } from '../app/problems';
import type { CommandSpec } from './command';
import { registryFrom } from './pickers';
import { required } from './ui';

export const copyPullSecret: CommandSpec = {
  id: 'berth.registry.copyPullSecret',
  async run(deps, node) {
    const registry = await registryFrom(deps, node, { includeLocal: false, title: 'Copy Kubernetes Pull Secret' });
    const cred = await deps.store.credentials(registry.registry.id);
    const password = cred?.password ?? cred?.identityToken;
    if (!cred?.username || !password) throw new UserError(`${registry.registry.label} has no saved credentials. Use "Edit Credentials…" first.`);
    const name = await required(
      deps.ui.input({ title: 'Kubernetes Secret name', value: suggestSecretName(registry.registry.server), validate: (v) => secretNameProblem(v) }),
    );
    const yaml = await kubernetesPullSecretYaml({ server: registry.registry.server, username: cred.username, password, ...(cred.email ? { email: cred.email } : {}) }, { name });
    await deps.ui.copy(yaml);
    void deps.ui.info(`Secret "${name}" copied as YAML. Apply it with: kubectl apply -f - (then list it under imagePullSecrets).`);
  },
};
