/**
 * docker, podman and skopeo against Berth with authentication on: login with htpasswd (Basic) and
 * with tokens, push and pull with a grant, "denied" without one, and a wrong password refused.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDockerd, type Dockerd } from '../../support/dockerd';
import { containerTools, dockerBuildScratch, expectedScratchOutput, ToolError, type ContainerTools } from '../../support/clients';
import { startTeamRegistry, type TeamRegistry } from './teamRegistry';

const USERS = { alice: 'alice-secret', carol: 'carol-secret' };
const ACCESS = {
  rules: [
    { repositories: ['team-a/*'], users: ['alice'], actions: ['pull', 'push', 'delete'] },
    { repositories: ['team-a/*'], users: ['carol'], actions: ['pull'] },
  ],
};
const MODES = [
  { name: 'htpasswd (Basic)', auth: {} },
  { name: 'tokens', auth: { token: {} } },
];

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const err = e as ToolError & { stderr?: string };
    return `${err.message}\n${err.stderr ?? ''}`;
  }
  assert.fail('the command succeeded but was expected to fail');
}

describe('docker, podman and skopeo logging in to the team registry', function () {
  let dockerd: Dockerd;
  let tools: ContainerTools;
  const opts = { layers: 2, label: 'team-clients' };

  before(async function () {
    dockerd = await startDockerd();
    tools = containerTools();
    await dockerBuildScratch(dockerd, 'localhost/team-src:v1', opts);
    // An auths entry stops the CLI from picking a credential helper (pass) on its own: logins stay in config.json.
    mkdirSync(dockerd.configDir, { recursive: true });
    writeFileSync(join(dockerd.configDir, 'config.json'), JSON.stringify({ auths: { 'placeholder.invalid': {} } }));
  });
  after(async function () {
    await dockerd?.stop();
    await tools?.cleanup();
  });

  for (const mode of MODES) {
    describe(`with ${mode.name}`, function () {
      let reg: TeamRegistry;
      before(async function () {
        reg = await startTeamRegistry({ users: USERS, config: { auth: mode.auth, access: ACCESS } });
      });
      after(async function () {
        await dockerd?.docker(['logout', reg?.host ?? '']).catch(() => undefined);
        await reg?.stop();
      });

      it('docker login refuses a wrong password', async function () {
        const out = await failure(dockerd.docker(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 'nope\n' }));
        assert.match(out, /unauthorized|401/i);
      });

      it('docker logs in, pushes with the push grant, pulls after rmi and runs the image', async function () {
        const login = await dockerd.docker(['login', '-u', 'alice', '--password-stdin', reg.host], { input: `${USERS.alice}\n` });
        assert.match(login.stdout, /Login Succeeded/);
        const auths = (JSON.parse(readFileSync(join(dockerd.configDir, 'config.json'), 'utf8')) as { auths: Record<string, { auth?: string; identitytoken?: string }> }).auths;
        if (mode.name === 'tokens') assert.ok(auths[reg.host]?.identitytoken, 'docker keeps the refresh token as its identity token');
        const ref = `${reg.host}/team-a/app:docker`;
        await dockerd.docker(['tag', 'localhost/team-src:v1', ref]);
        assert.match((await dockerd.docker(['push', ref])).stdout, /digest: sha256:[a-f0-9]{64}/);
        await dockerd.docker(['rmi', ref]);
        await dockerd.docker(['pull', ref]);
        assert.equal((await dockerd.docker(['run', '--rm', '--network', 'none', ref])).stdout, expectedScratchOutput(opts));
      });

      it('docker push is denied to a user with only the pull grant, whose pull works', async function () {
        await dockerd.docker(['login', '-u', 'carol', '--password-stdin', reg.host], { input: `${USERS.carol}\n` });
        const ref = `${reg.host}/team-a/app:docker`;
        await dockerd.docker(['rmi', ref]).catch(() => undefined);
        await dockerd.docker(['pull', ref]);
        const pushRef = `${reg.host}/team-a/app:by-carol`;
        await dockerd.docker(['tag', 'localhost/team-src:v1', pushRef]);
        const out = await failure(dockerd.docker(['push', pushRef]));
        assert.match(out, /denied/i);
      });

      it('podman logs in, pushes and pulls; a wrong password is refused', async function () {
        const wrong = await failure(tools.podman(['login', '--tls-verify=false', '-u', 'alice', '--password-stdin', reg.host], { input: 'nope\n' }));
        assert.match(wrong, /unauthorized|invalid username\/password|401/i);
        await tools.podman(['login', '--tls-verify=false', '-u', 'alice', '--password-stdin', reg.host], { input: `${USERS.alice}\n` });
        const ref = `${reg.host}/team-a/app:podman`;
        await tools.podman(['pull', '--tls-verify=false', `${reg.host}/team-a/app:docker`]);
        await tools.podman(['tag', `${reg.host}/team-a/app:docker`, ref]);
        await tools.podman(['push', '--tls-verify=false', ref]);
        await tools.podman(['rmi', ref, `${reg.host}/team-a/app:docker`]);
        await tools.podman(['pull', '--tls-verify=false', ref]);
        await tools.podman(['logout', reg.host]);
      });

      it('skopeo logs in and copies with --creds; without the push grant it is denied', async function () {
        await tools.skopeo(['login', '--tls-verify=false', '-u', 'alice', '--password-stdin', reg.host], { input: `${USERS.alice}\n` });
        await tools.skopeo(['logout', reg.host]);
        await tools.skopeo(['copy', '--src-daemon-host', dockerd.host, '--dest-tls-verify=false', '--dest-creds', `alice:${USERS.alice}`,
          'docker-daemon:localhost/team-src:v1', `docker://${reg.host}/team-a/app:skopeo`]);
        const inspected = JSON.parse((await tools.skopeo(['inspect', '--tls-verify=false', '--creds', `carol:${USERS.carol}`, `docker://${reg.host}/team-a/app:skopeo`])).stdout) as { Layers: string[] };
        assert.ok(inspected.Layers.length >= 3);
        const denied = await failure(tools.skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--src-creds', `carol:${USERS.carol}`, '--dest-creds', `carol:${USERS.carol}`,
          `docker://${reg.host}/team-a/app:skopeo`, `docker://${reg.host}/team-a/app:by-carol`]));
        assert.match(denied, /denied/i);
        const wrong = await failure(tools.skopeo(['inspect', '--tls-verify=false', '--creds', 'alice:nope', `docker://${reg.host}/team-a/app:skopeo`]));
        assert.match(wrong, /unauthorized|authentication required|401/i);
      });
    });
  }
});
