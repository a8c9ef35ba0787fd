import { DockerCredentialStore, type CredentialSummary } from '../credentials/dockerCredentials';
import { serverHost } from '../credentials/servers';
import { problemOf, UserError } from '../app/problems';
import type { RegistryEntry } from '../app/registryEntry';
import type { CommandSpec } from './command';
import { describeCheckFailure } from './connectFlow';
import { entryFromDraft, presetForHost } from '../app/presets';
import { required } from './ui';

export function describeSource(s: CredentialSummary): string {
  return s.source.kind === 'file' ? 'config.json' : `credential helper "${s.source.helper}"`;
}

export const importDockerConfig: CommandSpec = {
  id: 'berth.registry.importDockerConfig',
  async run(deps) {
    const docker = new DockerCredentialStore({ env: deps.env });
    const { entries, problems } = await docker.list();
    for (const p of problems) deps.log.warn(p);
    if (entries.length === 0) throw new UserError(`No saved logins in ${docker.configPath}${problems.length ? ` (${problems.join('; ')})` : ''}.`);
    const picked = await required(
      deps.ui.pickMany(
        entries.map((e) => ({
          label: e.host,
          description: e.username ? `as ${e.username}` : '',
          detail: `from ${describeSource(e)}${deps.store.get(serverHost(e.host)) ? ' · already connected (will be replaced)' : ''}`,
          picked: !deps.store.get(serverHost(e.host)),
          value: e,
        })),
        { title: 'Import from Docker Config', placeHolder: 'Registries to connect' },
      ),
    );
    const api = await deps.registry();
    const done: string[] = [];
    const failed: string[] = [];
    await deps.ui.withProgress('Importing registries…', true, async (report, signal) => {
      for (const summary of picked) {
        if (signal.aborted) break;
        report({ message: summary.host });
        try {
          const cred = await docker.get(summary.server);
          const entry: RegistryEntry = entryFromDraft({ preset: presetForHost(summary.host), server: summary.host, username: cred?.username ?? '', secret: '', email: cred?.email ?? '' }, deps.store.get(serverHost(summary.host)));
          const credentials = {
            ...(cred?.username ? { username: cred.username } : {}),
            ...(cred?.password ? { password: cred.password } : {}),
            ...(cred?.identityToken ? { identityToken: cred.identityToken } : {}),
            ...(cred?.email ? { email: cred.email } : {}),
          };
          await api.check(entry, credentials, signal);
          await deps.store.save(entry, credentials);
          done.push(summary.host);
        } catch (err) {
          if (problemOf(err).kind === 'cancelled') break;
          failed.push(describeCheckFailure(summary.host, err).message);
        }
      }
    });
    if (failed.length) void deps.ui.error(`Imported ${done.length} of ${picked.length}. ${failed.join(' ')}`);
    else void deps.ui.info(`Imported ${done.join(', ')}.`);
  },
};
