import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxContext } from '../../support/images';
import { removeDir } from '../../support/proc';
import { startHtpasswdRegistry, type HtpasswdRegistry } from '../../integration/credentials/fixtures';
import { fixtures } from '../fixtures';
import { connectOtherRegistry, useUiSession } from './session';

/** Files under `root` whose bytes contain `text` (as UTF-8 or UTF-16LE, the two ways browsers store strings). */
function filesContaining(root: string, text: string): string[] {
  const needles = [Buffer.from(text, 'utf8'), Buffer.from(text, 'utf16le')];
  const hits: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 12) return;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p, depth + 1);
      else if (st.isFile() && st.size < 64 * 1024 * 1024) {
        const bytes = readFileSync(p);
        if (needles.some((n) => bytes.includes(n))) hits.push(p.slice(root.length + 1));
      }
    }
  };
  walk(root, 0);
  return hits;
}

describe('Connect Registry (UI): credentials checked first, then kept only in SecretStorage', function () {
  const username = `e2e-user-${randomBytes(4).toString('hex')}`;
  const password = `e2e-pw:${randomBytes(12).toString('hex')}`;
  let registry: HtpasswdRegistry;
  const ui = useUiSession('connect', {
    prepare: async () => {
      registry = await startHtpasswdRegistry(username, password);
      const { docker, configDir } = fixtures().dockerd;
      const ctx = busyboxContext(1, 'e2e-connect');
      // The CLI's own login would go to docker-credential-pass (installed, but with no store); an inline
      // `auths` entry keeps the seeding login in the fixture's private config, removed right after.
      const config = join(configDir, 'config.json');
      try {
        const reference = `${registry.host}/e2e/private:1.0`;
        await docker(['build', '-q', '-t', reference, ctx]);
        mkdirSync(configDir, { recursive: true });
        writeFileSync(config, JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } } }));
        await docker(['push', '-q', reference]);
      } finally {
        rmSync(config, { force: true });
        removeDir(ctx);
      }
    },
  });
  after(async function () {
    await registry?.stop();
  });

  const connect = (secret: string): Promise<void> => connectOtherRegistry(ui.s.wb, registry.host, username, secret);

  it('refuses a wrong password, says which part failed, and saves nothing', async () => {
    await connect(`${password}-wrong`);
    const message = await ui.s.wb.waitForNotification(/refused the user name or password/, 60_000);
    assert.match(message, new RegExp(registry.host.replace(/\./g, '\\.')));
    await ui.s.wb.hideNotifications();
    await ui.s.wb.showView('Registries');
    assert.deepEqual((await ui.s.wb.rowTexts('Registries')).filter((t) => t.includes(registry.host)), []);
  });

  it('connects with the right password, lists the private repository, and finds it again after a reload from SecretStorage alone', async () => {
    const wb = ui.s.wb;
    await connect(password);
    const connected = await wb.waitForNotification(/^Connected to /, 60_000);
    assert.match(connected, new RegExp(`as ${username}`));
    await wb.hideNotifications();
    await wb.showView('Registries');
    await wb.expand(await wb.waitForRow('Registries', registry.host));
    await wb.expand(await wb.waitForRow('Registries', 'e2e/private'));
    await wb.expand(await wb.waitForRow('Registries', '1.0'));
    // A single-platform image pushed by docker: its short digest, then the image's size (config + layers).
    assert.match(await (await wb.waitForRow('Registries', /^\s*sha256:[0-9a-f]{12}/)).innerText(), /^\s*sha256:[0-9a-f]{12}\s*\d+(\.\d+)?\s*[KMG]?B\s*$/);
    await wb.screenshot('connect-private-registry');

    // A new window and extension host: the login can only come back from SecretStorage.
    await ui.s.reload();
    await wb.openViewContainer('Berth');
    await wb.showView('Registries');
    await wb.expand(await wb.waitForRow('Registries', registry.host, 60_000));
    await wb.waitForRow('Registries', 'e2e/private');

    // What the window persisted (settings, globalState, logs, the browser profile) holds the user name in the
    // registry's entry, but the password nowhere in the clear: SecretStorage encrypts it.
    const withUser = filesContaining(ui.s.scratch, username);
    assert.ok(withUser.length > 0, 'the registry entry (with its user name) was not found anywhere: the scan sees nothing');
    assert.deepEqual(filesContaining(ui.s.scratch, password), [], 'the password is stored in the clear');
    console.log(`      user name found (entry, not secret) in: ${withUser.slice(0, 5).join(', ')}`);
  });

  it('copies a pull secret named with dots into the namespace it asks for, refusing a namespace with a dot', async () => {
    const wb = ui.s.wb;
    await wb.showView('Registries');
    await wb.contextMenu(await wb.waitForRow('Registries', registry.host), 'Copy Kubernetes Pull Secret (YAML)');
    await wb.answer('team.pull-secret', /Kubernetes Secret name/);
    assert.match(await wb.rejectedAnswer('team.a', /Namespace of the Secret "team\.pull-secret"/), /no "\."/);
    await wb.answer('team-a', /Namespace of the Secret/);
    const message = await wb.waitForNotification(/^Secret "team\.pull-secret"/, 30_000);
    assert.match(message, /Secret "team\.pull-secret" in namespace "team-a" copied as YAML\. Apply it with: kubectl apply -f -/);
    const yaml = await wb.clipboardText();
    assert.match(yaml, /kind: Secret/);
    assert.match(yaml, /name: team\.pull-secret\n\s+namespace: team-a/);
    const data = /\.dockerconfigjson: (\S+)/.exec(yaml)?.[1] ?? '';
    const config = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { auths: Record<string, { username: string; password: string }> };
    assert.deepEqual(config.auths[registry.host], { username, password, auth: Buffer.from(`${username}:${password}`).toString('base64') });
    await wb.hideNotifications();
  });
});
