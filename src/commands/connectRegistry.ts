import { UserError } from '../app/problems';
import type { RegistryEntry } from '../app/registryEntry';
import type { CommandDeps, CommandSpec } from './command';
import { confirmSkipVerification } from './configureTls';
import { collectConnection, describeCheckFailure } from './connectFlow';
import { entryFromDraft, type ConnectDraft } from '../app/presets';
import type { RegistryCredentials } from '../app/ports';

function credentialsOf(d: ConnectDraft): RegistryCredentials {
  return { ...(d.username.trim() ? { username: d.username.trim() } : {}), ...(d.secret ? { password: d.secret } : {}), ...(d.email.trim() ? { email: d.email.trim() } : {}) };
}

/**
 * Checks the credentials against the registry and saves them only when it accepts them.
 * A certificate problem can be fixed on the spot (CA file or skip verification), then checked again.
 */
export async function checkAndSave(deps: CommandDeps, entry: RegistryEntry, draft: ConnectDraft): Promise<RegistryEntry> {
  const api = await deps.registry();
  const credentials = credentialsOf(draft);
  let current = entry;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await deps.ui.withProgress(`Checking ${current.server}…`, true, (_report, signal) => api.check(current, credentials, signal));
      api.forget(current.id);
      await deps.store.save(current, credentials);
      return current;
    } catch (err) {
      const { problem, message } = describeCheckFailure(current.server, err);
      if (problem.kind === 'cancelled') throw err;
      if (problem.kind !== 'tls' || attempt > 0) throw new UserError(message);
      const choice = await deps.ui.warn(message, {}, 'Trust CA File…', 'Skip Verification');
      if (choice === 'Trust CA File…') {
        const caFile = await deps.ui.pickFile({ title: `CA certificate for ${current.server}`, filters: { 'PEM certificate': ['pem', 'crt', 'cer'] } });
        if (!caFile) throw new UserError(message);
        current = { ...current, tls: { caFile } };
      } else if (choice === 'Skip Verification' && (await confirmSkipVerification(deps.ui, current.server))) {
        current = { ...current, tls: { skipVerify: true } };
      } else {
        throw new UserError(message);
      }
    }
  }
  throw new UserError(`Could not connect to ${current.server}.`);
}

export const connectRegistry: CommandSpec = {
  id: 'berth.registry.connect',
  async run(deps) {
    const draft = await collectConnection(deps.ui);
    if (draft.preset === 'local' && deps.store.get(entryFromDraft(draft).id)) {
      throw new UserError(`${entryFromDraft(draft).server} is already connected. Use "Edit Credentials…" on it.`);
    }
    const saved = await checkAndSave(deps, entryFromDraft(draft, deps.store.get(entryFromDraft(draft).id)), draft);
    void deps.ui.info(`Connected to ${saved.label}${draft.username ? ` as ${draft.username.trim()}` : ''}.`);
  },
};
