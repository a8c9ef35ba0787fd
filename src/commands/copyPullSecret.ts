import { kubernetesPullSecretYaml, namespaceProblem, secretNameProblem, suggestSecretName } from '../credentials/registrySecret';
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
    const name = await required(deps.ui.input({
      title: 'Kubernetes Secret name',
      prompt: 'Lowercase letters, digits, "-" and "." (e.g. ghcr.io or regcred)',
      value: suggestSecretName(registry.registry.server),
      validate: (v) => secretNameProblem(v),
    }));
    // A Secret is usable only from Pods in its own namespace, so it is asked rather than left to chance.
    const namespace = (await required(deps.ui.input({
      title: `Namespace of the Secret "${name}"`,
      prompt: 'The namespace of the Pods that pull with it; leave empty for kubectl\'s current namespace',
      placeHolder: 'current namespace',
      validate: (v) => (v.trim() === '' ? undefined : namespaceProblem(v.trim())),
    }))).trim();
    const yaml = await kubernetesPullSecretYaml(
      { server: registry.registry.server, username: cred.username, password, ...(cred.email ? { email: cred.email } : {}) },
      { name, ...(namespace ? { namespace } : {}) },
    );
    await deps.ui.copy(yaml);
    const where = namespace ? `in namespace "${namespace}"` : "for kubectl's current namespace";
    void deps.ui.info(`Secret "${name}" ${where} copied as YAML. Apply it with: kubectl apply -f - (then list it under imagePullSecrets).`);
  },
};
