import * as assert from 'node:assert/strict';
import { recordMeasurement, useUiSession } from './session';

describe('Berth in the workbench (UI)', function () {
  const ui = useUiSession('views');

  it('opens the Berth view container from the activity bar and shows both views', async () => {
    await ui.s.wb.openViewContainer('Berth');
    for (const name of ['Registries', 'Local Images']) assert.equal(await (await ui.s.wb.showView(name)).isVisible(), true, name);
    await ui.s.wb.screenshot('berth-view');
  });

  it('lists Berth as activated in Running Extensions with the activation time VS Code measured', async () => {
    await ui.s.wb.openViewContainer('Berth');
    // A development extension is listed by its ID; the version follows with no space in the text content.
    const text = await ui.s.wb.runningExtensionText(/^\s*(Berth|berth\.berth)(\s|\d|$)/);
    const ms = /Activation: (\d+)\s*ms/.exec(text);
    assert.ok(ms?.[1], `no activation time in "${text}"`);
    recordMeasurement('workbenchActivationMs', Number(ms[1]));
    await ui.s.wb.screenshot('running-extensions');
  });
});
