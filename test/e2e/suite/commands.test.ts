import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activeBerth } from './host';

describe('commands in a real VS Code', () => {
  it('registers every command package.json contributes, each named berth.<area>.<verb>', async () => {
    const ext = await activeBerth();
    const contributed = ((ext.packageJSON as { contributes?: { commands?: Array<{ command: string }> } }).contributes?.commands ?? []).map((c) => c.command);
    assert.ok(contributed.length > 0, 'package.json contributes no commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(contributed.filter((c) => !registered.has(c)), [], 'contributed but not registered');
    assert.deepEqual(contributed.filter((c) => !/^berth\.[a-zA-Z]+\.[a-zA-Z]+$/.test(c)), [], 'not named berth.<area>.<verb>');
  });
});
