import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { buildImage, pushBuilt } from '../../support/ociImage';
import type { ManifestNode } from '../../../src/views/nodes';
import { nodes, runnerEnv } from './host';

/** The copy commands put exactly the text a person pastes next into the real clipboard. */
describe('copy commands (berth.tag.copy*) on a docker-registry tag and digest', function () {
  const image = buildImage();
  const distribution = (): string => runnerEnv('BERTH_E2E_DISTRIBUTION_URL');
  const host = (): string => new URL(distribution()).host;
  const tag = () => nodes.tag(nodes.registry(distribution()), 'e2e/copy', '1.0');
  const digest = (): ManifestNode => ({ kind: 'manifest', parent: tag(), digest: image.digest, mediaType: image.mediaType, size: image.bytes.length });

  before(async function () {
    await pushBuilt(distribution(), 'e2e/copy', image, '1.0');
  });

  const cases: Array<{ command: string; on: string; copies: string; node: () => unknown; expected: () => string }> = [
    { command: 'berth.tag.copyReference', on: 'a tag', copies: 'host/repository:tag', node: tag, expected: () => `${host()}/e2e/copy:1.0` },
    { command: 'berth.tag.copyReference', on: 'a digest', copies: 'host/repository@digest', node: digest, expected: () => `${host()}/e2e/copy@${image.digest}` },
    { command: 'berth.tag.copyDigest', on: 'a tag', copies: 'the digest the registry serves for it', node: tag, expected: () => image.digest },
    { command: 'berth.tag.copyPullCommand', on: 'a tag', copies: 'docker pull host/repository:tag', node: tag, expected: () => `docker pull ${host()}/e2e/copy:1.0` },
    { command: 'berth.tag.copyPullCommand', on: 'a digest', copies: 'docker pull host/repository@digest', node: digest, expected: () => `docker pull ${host()}/e2e/copy@${image.digest}` },
  ];
  for (const c of cases) {
    it(`${c.command} on ${c.on} copies ${c.copies}`, async () => {
      await vscode.env.clipboard.writeText('(nothing copied)');
      await vscode.commands.executeCommand(c.command, c.node());
      assert.equal(await vscode.env.clipboard.readText(), c.expected());
    });
  }
});
