/** The connect / edit-credentials conversation and what a failed check means, without vscode. */
import { problemOf, type Problem } from '../app/problems';
import type { PresetId, RegistryEntry } from '../app/registryEntry';
import { emailProblem, presetById, PRESETS, serverProblem, type ConnectDraft } from '../app/presets';
import { required, type Ui } from './ui';

export async function collectConnection(ui: Ui, options: { preset?: PresetId; existing?: RegistryEntry } = {}): Promise<ConnectDraft> {
  const title = options.existing ? `Edit credentials for ${options.existing.label}` : 'Connect Registry';
  const presetId =
    options.preset ??
    options.existing?.preset ??
    (await required(ui.pick(PRESETS.map((p) => ({ label: p.label, description: p.detail, value: p.id })), { title, placeHolder: 'Which registry?' })));
  const preset = presetById(presetId);
  const server =
    options.existing?.server ??
    preset.server ??
    (await required(
      ui.input({
        title,
        prompt: 'Registry server (host or host:port)',
        placeHolder: preset.serverPlaceholder,
        ...(preset.serverValue ? { value: preset.serverValue } : {}),
        validate: serverProblem,
      }),
    ));
  const username = await required(ui.input({ title, prompt: preset.usernamePrompt, value: options.existing?.username ?? '' }));
  const secret = username.trim()
    ? await required(
        ui.input({
          title,
          prompt: preset.secretPrompt,
          password: true,
          validate: (v) => (v ? (/[\r\n]/.test(v) ? 'The value contains a line break, usually from pasting: paste it again without it.' : undefined) : 'Enter the password or token.'),
        }),
      )
    : '';
  const email = username.trim() ? await required(ui.input({ title, prompt: 'E-mail (optional; only some Kubernetes tooling wants it)', value: options.existing?.email ?? '', validate: emailProblem })) : '';
  return { preset: presetId, server, username, secret, email };
}

/** Which part of a connection failed, said so a person knows what to change. */
export function describeCheckFailure(server: string, err: unknown): { problem: Problem; message: string } {
  const problem = problemOf(err);
  const part: Record<Problem['kind'], string> = {
    unauthorized: `${server} refused the user name or password/token. Check both and try again.`,
    denied: `${server} accepted the login but denies access with it. Check the token's scopes (read access to the registry).`,
    tls: `${server}'s certificate is not trusted. Trust its CA file, or skip verification for this registry.`,
    unreachable: `${server} did not answer. Check the host name, the port, and your network or proxy.`,
    'not-a-registry': `${server} answered, but it is not a container registry (no /v2/ API). Check the address.`,
    'rate-limited': `${server} is rate limiting requests. Wait a minute and try again.`,
    'not-found': `${server} has no registry API at this address. Check the host name.`,
    unsupported: problem.message,
    cancelled: 'Cancelled.',
    unknown: `Could not connect to ${server}: ${problem.message}`,
  };
  return { problem, message: part[problem.kind] };
}
