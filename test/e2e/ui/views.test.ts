import * as assert from 'node:assert/strict';
import { recordMeasurement, startUiSession, type UiSession } from './session';

describe('Berth in the workbench (UI)', function () {
  let s: UiSession;
  before(async function () {
    s = await startUiSession('views');
  });
  afterEach(async function () {
    await s?.captureFailure(this);
  });
  after(async function () {
    await s?.stop();
  });

  it('opens the Berth view container from the activity bar and shows the Registries view', async () => {
    await s.wb.openViewContainer('Berth');
    const view = await s.wb.showView('Registries');
    assert.equal(await view.isVisible(), true);
    await s.wb.screenshot('berth-view');
  });

  it('lists Berth as activated in Running Extensions with the activation time VS Code measured', async () => {
    await s.wb.openViewContainer('Berth');
    // A development extension is listed by its ID; the version follows with no space in the text content.
    const text = await s.wb.runningExtensionText(/^\s*(Berth|berth\.berth)(\s|\d|$)/);
    const ms = /Activation: (\d+)\s*ms/.exec(text);
    assert.ok(ms?.[1], `no activation time in "${text}"`);
    recordMeasurement('workbenchActivationMs', Number(ms[1]));
    await s.wb.screenshot('running-extensions');
  });
});
