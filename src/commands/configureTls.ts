import { UserError } from '../app/problems';
import { isLocalEntry, type TlsOptions } from '../app/registryEntry';
import type { CommandSpec } from './command';
import { registryFrom } from './pickers';
import { required, type Ui } from './ui';

type Choice = 'ca' | 'skip' | 'system';

/** The one warning before certificates stop being checked, wherever skipping is offered. */
export async function confirmSkipVerification(ui: Ui, server: string): Promise<boolean> {
  const ok = await ui.warn(
    `Skip certificate verification for ${server}?`,
    { modal: true, detail: 'Berth will accept any certificate from this registry, so a machine in between could read the credentials and change images. Prefer trusting its CA file.' },
    'Skip Verification',
  );
  return ok === 'Skip Verification';
}

export const configureTls: CommandSpec = {
  id: 'berth.registry.configureTls',
  async run(deps, node) {
    const registry = await registryFrom(deps, node, { includeLocal: false, title: 'Configure TLS' });
    const entry = deps.store.get(registry.registry.id);
    if (!entry || isLocalEntry(entry)) throw new UserError('The local registry listens on 127.0.0.1 over plain HTTP; there is no certificate to trust.');
    const choice = await required(
      deps.ui.pick<Choice>(
        [
          { label: 'Trust a CA certificate file…', description: entry.tls?.caFile ?? '', detail: 'For a registry whose certificate a private or self-signed CA issued.', value: 'ca' },
          { label: 'Skip certificate verification', detail: 'Insecure: anyone between you and the registry can read your credentials.', value: 'skip' },
          { label: 'Use the system certificates only', detail: 'The default.', value: 'system' },
        ],
        { title: `TLS for ${entry.label}` },
      ),
    );
    let tls: TlsOptions | undefined;
    if (choice === 'ca') {
      const caFile = await required(deps.ui.pickFile({ title: `CA certificate for ${entry.server}`, filters: { 'PEM certificate': ['pem', 'crt', 'cer'] } }));
      tls = { caFile };
    } else if (choice === 'skip') {
      if (!(await confirmSkipVerification(deps.ui, entry.server))) return;
      tls = { skipVerify: true };
    }
    const { tls: _old, ...rest } = entry;
    await deps.store.save(tls ? { ...rest, tls } : rest);
    (await deps.registry()).forget(entry.id);
    deps.tree.refresh(registry);
  },
};
