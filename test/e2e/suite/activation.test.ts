import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { berth, EXTENSION_ID, record } from './host';

describe('activation in a real VS Code', () => {
  it('activates Berth as a workspace extension in the Node extension host', async () => {
    const ext = berth();
    const wasActive = ext.isActive;
    const t0 = performance.now();
    await ext.activate();
    // Berth activates on startup, so usually this only confirms it; the cold figure comes from the workbench.
    if (!wasActive) record('activateCallMs', Math.round(performance.now() - t0));
    assert.equal(ext.isActive, true);
    assert.equal(ext.id, EXTENSION_ID);
    assert.equal(ext.extensionKind, vscode.ExtensionKind.Workspace);
    assert.equal(typeof process.versions.node, 'string', 'the host is Node, not a web worker');
  });

  it('contributes the Berth view container and its Registries view to the workbench', async () => {
    const pkg = berth().packageJSON as { contributes?: { views?: Record<string, Array<{ id: string }>> } };
    const views = pkg.contributes?.views?.['berth']?.map((v) => v.id) ?? [];
    assert.ok(views.includes('berth.registries'), `views in package.json: ${views.join(', ')}`);
    // `<view>.focus` exists only once the workbench has registered the view; running it opens the container.
    await vscode.commands.executeCommand('workbench.view.extension.berth');
    for (const id of views) await vscode.commands.executeCommand(`${id}.focus`);
  });
});
