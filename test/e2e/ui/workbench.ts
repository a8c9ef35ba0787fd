/**
 * The one place that knows VS Code's DOM. Class names like `.part.activitybar` or `.monaco-list-row` are
 * workbench internals, not API: when a VS Code update moves them, this file is the only one to change.
 * Tests speak in a person's terms (open a view, expand a row, pick from a menu) and never use selectors.
 */
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { ARTIFACTS_DIR } from './browser';

const SEL = {
  workbench: '.monaco-workbench',
  activityBar: '.part.activitybar',
  sidebar: '.part.sidebar',
  sidebarTitle: '.part.sidebar .composite.title',
  pane: '.pane',
  paneHeader: '.pane-header',
  collapseAll: '.pane-header .actions .action-label[aria-label^="Collapse All"]',
  listRow: '.monaco-list-row',
  explorerRow: '.explorer-folders-view .monaco-list-row',
  twistie: '.monaco-tl-twistie',
  rowLabel: '.label-name',
  welcomeButton: '.welcome-view-content .monaco-button',
  contextMenu: '.context-view .monaco-menu',
  contextMenuItem: '.context-view .monaco-menu .action-item',
  contextMenuAction: '.action-menu-item',
  quickInput: '.quick-input-widget',
  quickInputBox: '.quick-input-widget input',
  quickInputRow: '.quick-input-widget .quick-input-list .monaco-list-row',
  quickInputMessage: '.quick-input-widget .quick-input-message',
  notificationCenter: '.notifications-center',
  notificationItem: '.notifications-center .notification-list-item',
  notificationCenterHide: '.notifications-center-header .action-label[aria-label^="Hide Notifications"]',
  notificationToast: '.notifications-toasts .notification-toast',
  notificationButton: '.monaco-button',
  notificationMessage: '.notification-list-item-message',
  dialog: '.monaco-dialog-box',
  dialogButton: '.monaco-dialog-box .dialog-buttons .monaco-button',
  activeEditor: '.editor-group-container.active .editor-instance',
  editorLines: '.monaco-editor .view-lines',
  activeTab: '.editor-group-container.active .tab.active',
  runningExtensionList: '.runtime-extensions-editor .monaco-list',
  statusBarItem: '.part.statusbar .statusbar-item',
  extensionsViewlet: '.extensions-viewlet',
  extensionsSearch: '.extensions-viewlet .suggest-input-container',
  progressActive: '.monaco-progress-container.active',
} as const;

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class Workbench {
  constructor(readonly page: Page) {}

  /** The workbench is drawn and the activity bar is there. */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    await this.page.waitForSelector(SEL.workbench, { timeout: timeoutMs });
    await this.page.locator(SEL.activityBar).waitFor({ timeout: timeoutMs });
  }

  /**
   * Waits until the window has reloaded at an address whose query matches `query` (e.g. a window that
   * became a workspace) and the workbench is drawn again there.
   */
  async waitForReload(query: RegExp, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.page.waitForURL((u) => query.test(u.search), { timeout: timeoutMs, waitUntil: 'load' });
    await this.waitReady(Math.max(1000, deadline - Date.now()));
  }

  activityBarItem(title: string): Locator {
    return this.page.locator(`${SEL.activityBar} .action-item a[aria-label^="${title}"], ${SEL.activityBar} .action-item[aria-label^="${title}"]`).first();
  }

  /**
   * Clicks a view container in the activity bar until the side bar shows it. Clicking the active
   * container hides the side bar, and after a reload the workbench may still be restoring it, so
   * this checks after each click rather than guessing the state up front.
   */
  async openViewContainer(title: string, timeoutMs = 30_000): Promise<void> {
    const shown = this.page.locator(SEL.sidebarTitle, { hasText: new RegExp(escape(title), 'i') });
    const item = this.activityBarItem(title);
    await item.waitFor({ timeout: timeoutMs });
    const deadline = Date.now() + timeoutMs;
    while (!await shown.isVisible()) {
      if (Date.now() > deadline) throw new Error(`the side bar did not show "${title}" within ${timeoutMs} ms`);
      await item.click();
      await shown.waitFor({ timeout: 3000 }).catch(() => undefined);
    }
  }

  /** A view (pane) in the side bar, by its name as shown in its header. */
  view(name: string): Locator {
    return this.page.locator(`${SEL.sidebar} ${SEL.pane}`, { has: this.page.locator(SEL.paneHeader, { hasText: new RegExp(escape(name), 'i') }) }).first();
  }

  /** Collapses every row of a view (its title bar's Collapse All), so a flow starts from a short tree. */
  async collapseAll(name: string): Promise<void> {
    const view = await this.showView(name);
    await view.locator(SEL.paneHeader).hover();
    const action = view.locator(SEL.collapseAll).first();
    if (await action.isVisible()) await action.click();
  }

  /** Expands a collapsed view so its tree is visible. */
  async showView(name: string): Promise<Locator> {
    const view = this.view(name);
    await view.waitFor({ timeout: 30_000 });
    const header = view.locator(SEL.paneHeader).first();
    if (await header.getAttribute('aria-expanded') === 'false') await header.click();
    return view;
  }

  /** Waits until a view shows `text` (its welcome content, a message) and returns the view's whole text. */
  async waitForViewText(name: string, text: RegExp, timeoutMs = 60_000): Promise<string> {
    const view = await this.showView(name);
    await view.getByText(text).first().waitFor({ timeout: timeoutMs });
    return view.innerText();
  }

  /**
   * A tree row in a view: a string matches the row's label exactly; a RegExp is tested against the row's
   * whole text (label and description run together, e.g. /^Local registry\s*running on/).
   */
  treeRow(viewName: string, label: string | RegExp): Locator {
    const rows = this.view(viewName).locator(SEL.listRow);
    if (typeof label !== 'string') return rows.filter({ hasText: label }).first();
    return rows.filter({ has: this.exactLabel(label) }).first();
  }

  /** A row's label element whose text is exactly `label` (descriptions sit in a sibling element). */
  private exactLabel(label: string): Locator {
    return this.page.locator(SEL.rowLabel, { hasText: new RegExp(`^\\s*${escape(label)}\\s*$`) });
  }

  /** A row of the Explorer's folders (whatever the workspace is called), by its exact label. */
  explorerRow(label: string): Locator {
    return this.page.locator(SEL.explorerRow).filter({ has: this.exactLabel(label) }).first();
  }

  async rowTexts(viewName: string): Promise<string[]> {
    return (await this.view(viewName).locator(SEL.listRow).allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  }

  async waitForRow(viewName: string, label: string | RegExp, timeoutMs = 30_000): Promise<Locator> {
    const row = this.treeRow(viewName, label);
    await row.waitFor({ timeout: timeoutMs });
    return row;
  }

  async waitForRowGone(viewName: string, label: string | RegExp, timeoutMs = 30_000): Promise<void> {
    await this.treeRow(viewName, label).waitFor({ state: 'detached', timeout: timeoutMs });
  }

  /** Clicks a button of a view's welcome content (shown while the view has nothing to list). */
  async clickWelcomeButton(viewName: string, label: string): Promise<void> {
    const button = this.view(viewName).locator(SEL.welcomeButton, { hasText: label }).first();
    await button.waitFor({ timeout: 30_000 });
    await button.click();
  }

  /**
   * Expands a tree row (a no-op when it is already expanded). The tree may redraw the row while its
   * children load (a refresh, a registry event), which can swallow a click: retry until it says expanded.
   */
  async expand(row: Locator, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (await row.getAttribute('aria-expanded') !== 'true') {
      if (Date.now() > deadline) throw new Error(`the row "${await row.innerText().catch(() => '?')}" did not expand within ${timeoutMs} ms`);
      await row.locator(SEL.twistie).click();
      for (let i = 0; i < 20 && await row.getAttribute('aria-expanded') !== 'true'; i++) await this.page.waitForTimeout(100);
    }
  }

  /**
   * Expands `row` until `child` shows. A refresh arriving from the extension (a registry event)
   * can redraw the branch collapsed just after a click; expanding again is what a person would do.
   */
  async expandUntil(row: Locator, child: Locator, timeoutMs = 45_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.expand(row, Math.max(1000, deadline - Date.now()));
      if (await child.waitFor({ timeout: 3000 }).then(() => true, () => false)) return;
      if (Date.now() > deadline) throw new Error(`expanding "${await row.innerText().catch(() => '?')}" never showed the expected child`);
    }
  }

  /**
   * Right-clicks `row` until its context menu shows `entry`. A redraw of the tree while the menu
   * opens (a refresh just asked for, a registry event) can close the menu, open it on the row that
   * was there a moment before, or leave the click unanswered; then close what is open and right-click
   * again, as a person would, until the entry shows or `timeoutMs` has passed.
   */
  private async openContextMenu(row: Locator, entry: Locator, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await row.click({ button: 'right' });
      if (await entry.waitFor({ timeout: Math.max(1000, Math.min(10_000, deadline - Date.now())) }).then(() => true, () => false)) return;
      if (Date.now() >= deadline) {
        const shown = await this.contextMenuTexts().catch(() => []);
        throw new Error(`the context menu of "${await row.innerText().catch(() => '?')}" never offered ${what} within ${timeoutMs} ms (it showed: ${shown.join(' | ') || 'no menu'})`);
      }
      await this.closeContextMenu();
    }
  }

  /** The entries of the open context menu, in order, each on one line. */
  private async contextMenuTexts(): Promise<string[]> {
    return (await this.page.locator(SEL.contextMenuItem).filter({ visible: true }).allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim()).filter(Boolean);
  }

  private async closeContextMenu(): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.locator(SEL.contextMenu).filter({ visible: true }).first().waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
  }

  /** Right-clicks `row` and picks `item` from its context menu; a menu that ignores the click is closed and opened again. */
  async contextMenu(row: Locator, item: string | RegExp, attempts = 3, timeoutMs = 45_000): Promise<void> {
    const menu = this.page.locator(SEL.contextMenu);
    const entry = this.page.locator(SEL.contextMenuItem, { hasText: typeof item === 'string' ? new RegExp(escape(item)) : item }).filter({ visible: true }).first();
    for (let chosen = 1; ; chosen++) {
      await this.openContextMenu(row, entry, String(item), timeoutMs);
      // A menu ignores a click that lands while it is still settling under the pointer: hover first,
      // then press and release like a hand would.
      const target = entry.locator(SEL.contextMenuAction).first();
      await target.hover();
      await this.page.waitForTimeout(200);
      await target.click({ delay: 60 });
      if (await menu.filter({ visible: true }).first().waitFor({ state: 'hidden', timeout: 3000 }).then(() => true, () => false)) return;
      if (chosen >= attempts) throw new Error(`the context menu stayed open after choosing ${String(item)}`);
      await this.page.keyboard.press('Escape');
    }
  }

  /** The entries of `row`'s context menu, in order (the menu is closed again). */
  async contextMenuItems(row: Locator, timeoutMs = 45_000): Promise<string[]> {
    await this.openContextMenu(row, this.page.locator(SEL.contextMenuItem).filter({ visible: true }).first(), 'any entry', timeoutMs);
    const texts = await this.contextMenuTexts();
    await this.closeContextMenu();
    return texts;
  }

  /** Closes whatever menu, dialog or quick input a failed step left open, so the next test starts clean. */
  async dismissAll(): Promise<void> {
    for (let i = 0; i < 3; i++) await this.page.keyboard.press('Escape');
  }

  /** Hovers a row and clicks one of its inline actions (by its title). */
  async inlineAction(row: Locator, title: string): Promise<void> {
    await row.hover();
    await row.locator(`.actions .action-label[aria-label^="${title}"]`).first().click();
  }

  /** Runs a command from the command palette by its title as listed there ("Berth: Start Local Registry"). */
  async runCommand(title: string): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('F1');
    const input = this.page.locator(SEL.quickInputBox);
    await input.waitFor({ timeout: 15_000 });
    await input.fill(`>${title}`);
    await this.page.locator(SEL.quickInputRow, { hasText: title }).first().waitFor({ timeout: 15_000 });
    await this.page.keyboard.press('Enter');
  }

  /**
   * Searches the Extensions view as a person types into its search box, and returns what the view shows
   * once it has answered (rows or a message), or undefined when it drew no sections in time: code-server
   * without a gallery now and then leaves a search unanswered, with the query in the box.
   */
  async searchExtensions(query: string, timeoutMs = 30_000): Promise<string | undefined> {
    await this.openViewContainer('Extensions');
    const viewlet = this.page.locator(SEL.extensionsViewlet);
    const box = this.page.locator(SEL.extensionsSearch);
    // Keys typed while the view is still settling can land elsewhere, or in the box before the view
    // listens to it (the query shows, no search runs): type it again until the view draws its sections.
    const tries = 3;
    for (let attempt = 1; ; attempt++) {
      await box.click();
      await this.page.keyboard.press('Control+A');
      await this.page.keyboard.press('Backspace');
      await this.page.keyboard.type(query);
      await this.page.keyboard.press('Enter');
      const answered = await viewlet.locator(SEL.paneHeader).first().waitFor({ timeout: timeoutMs / tries }).then(() => true, () => false);
      if (answered) break;
      if (attempt === tries) return undefined;
    }
    // Answered: its sections are drawn and none of them is still loading.
    await viewlet.locator(SEL.progressActive).first().waitFor({ state: 'hidden', timeout: timeoutMs });
    return (await viewlet.innerText()).trim();
  }

  /** Waits for a quick pick or input box; returns its visible prompt and items. */
  async quickInput(timeoutMs = 30_000): Promise<{ message: string; items: string[] }> {
    await this.page.locator(SEL.quickInputBox).waitFor({ timeout: timeoutMs });
    const message = await this.page.locator(SEL.quickInputMessage).innerText().catch(() => '');
    const items = await this.page.locator(SEL.quickInputRow).allInnerTexts();
    return { message, items: items.map((t) => t.replace(/\s+/g, ' ').trim()) };
  }

  /**
   * Types into the open input box and accepts it. `prompt` is matched against the box's title and
   * message, so an answer never lands in the previous box while it is still closing.
   */
  async answer(text: string, prompt?: RegExp, timeoutMs = 30_000): Promise<void> {
    const widget = this.page.locator(SEL.quickInput);
    const input = this.page.locator(SEL.quickInputBox);
    await input.waitFor({ timeout: timeoutMs });
    if (prompt) await widget.filter({ hasText: prompt }).waitFor({ timeout: timeoutMs });
    await input.fill(text);
    await this.page.keyboard.press('Enter');
    // Accepted once the box closes or moves on to the next question.
    const deadline = Date.now() + timeoutMs;
    while (await input.isVisible() && await input.inputValue().catch(() => '') === text) {
      if (Date.now() > deadline) throw new Error(`the input box did not accept "${text}"`);
      await this.page.waitForTimeout(100);
    }
  }

  /**
   * Types `text` into the open input box and returns the validation message it shows; the box stays open
   * (its value is cleared for the next answer). Fails when no message appears.
   */
  async rejectedAnswer(text: string, prompt?: RegExp, timeoutMs = 15_000): Promise<string> {
    const widget = this.page.locator(SEL.quickInput);
    const input = this.page.locator(SEL.quickInputBox);
    await input.waitFor({ timeout: timeoutMs });
    if (prompt) await widget.filter({ hasText: prompt }).waitFor({ timeout: timeoutMs });
    const before = await this.page.locator(SEL.quickInputMessage).innerText().catch(() => '');
    await input.fill(text);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = (await this.page.locator(SEL.quickInputMessage).innerText().catch(() => '')).trim();
      if (message && message !== before.trim()) {
        await input.fill('');
        return message;
      }
      if (Date.now() > deadline) throw new Error(`no validation message for "${text}" (shown: "${message}")`);
      await this.page.waitForTimeout(100);
    }
  }

  /** What the window last put on the clipboard (the browser's clipboard, read with the page's permission). */
  async clipboardText(): Promise<string> {
    await this.page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    // A string: this file is compiled without the DOM's types.
    return this.page.evaluate<string>('navigator.clipboard.readText()');
  }

  /** Picks the quick-pick item labelled `label` (or whose whole text matches a RegExp). */
  async pick(label: string | RegExp): Promise<void> {
    const rows = this.page.locator(SEL.quickInputRow);
    const row = (typeof label === 'string' ? rows.filter({ has: this.exactLabel(label) }) : rows.filter({ hasText: label })).first();
    await row.waitFor({ timeout: 30_000 });
    await row.click();
  }

  /** Clicks a button of a modal dialog (e.g. a delete confirmation). */
  async confirmDialog(button: string | RegExp, timeoutMs = 15_000): Promise<string> {
    const dialog = this.page.locator(SEL.dialog);
    await dialog.waitFor({ timeout: timeoutMs });
    const text = (await dialog.innerText()).replace(/\s+/g, ' ');
    await this.page.locator(SEL.dialogButton, { hasText: button }).first().click();
    return text;
  }

  /**
   * Every notification's text. With the smoke-test driver on, toasts are suppressed, so this reads the
   * notification center (opening it if needed) and the toasts alike.
   */
  async notifications(): Promise<string[]> {
    const center = this.page.locator(SEL.notificationCenter);
    // On a loaded machine the palette can swallow the command while a closing input box still has focus: ask again.
    for (let attempt = 1; !await center.isVisible().catch(() => false); attempt++) {
      await this.runCommand('Notifications: Show Notifications');
      try {
        await center.waitFor({ timeout: 10_000 });
      } catch (e) {
        if (attempt >= 3) throw e;
      }
    }
    const texts = [...await this.page.locator(SEL.notificationItem).allInnerTexts(), ...await this.page.locator(SEL.notificationToast).allInnerTexts()];
    return texts.map((t) => t.replace(/\s+/g, ' ').trim());
  }

  /** Waits until a notification matching `text` appears; returns its text. */
  async waitForNotification(text: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let seen: string[] = [];
    while (Date.now() < deadline) {
      seen = await this.notifications();
      const hit = seen.find((t) => text.test(t));
      if (hit) return hit;
      await this.page.waitForTimeout(500);
    }
    throw new Error(`no notification matching ${text} within ${timeoutMs} ms; saw: ${JSON.stringify(seen)}`);
  }

  /** Clicks a button on the notification matching `text` (in the notification center). */
  async clickNotificationButton(text: RegExp, button: string, timeoutMs = 30_000): Promise<void> {
    await this.waitForNotification(text, timeoutMs);
    const item = this.page.locator(SEL.notificationItem, { hasText: text }).first();
    await item.locator(SEL.notificationButton, { hasText: button }).first().click();
  }

  /**
   * True when the notification matching `text` shows its whole message: nothing clipped behind an
   * ellipsis or a cut-off last line (VS Code clips a message that does not fit its box).
   */
  async notificationFits(text: RegExp, timeoutMs = 30_000): Promise<boolean> {
    await this.waitForNotification(text, timeoutMs);
    const message = this.page.locator(SEL.notificationItem, { hasText: text }).first().locator(SEL.notificationMessage).first();
    const size = await message.evaluate((el) => ({ scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, scrollHeight: el.scrollHeight, clientHeight: el.clientHeight }));
    const fits = size.scrollWidth <= size.clientWidth + 1 && size.scrollHeight <= size.clientHeight + 1;
    if (!fits) console.log(`      the notification's message is clipped: ${JSON.stringify(size)}`);
    return fits;
  }

  async hideNotifications(): Promise<void> {
    if (await this.page.locator(SEL.notificationCenter).isVisible().catch(() => false)) await this.page.locator(SEL.notificationCenterHide).first().click();
  }

  /** Title of the active editor tab. */
  async activeEditorTitle(): Promise<string> {
    return (await this.page.locator(SEL.activeTab).innerText()).trim();
  }

  async waitForEditorTitle(title: RegExp, timeoutMs = 30_000): Promise<string> {
    const tab = this.page.locator(SEL.activeTab, { hasText: title }).first();
    await tab.waitFor({ timeout: timeoutMs });
    return (await tab.innerText()).trim();
  }

  /** The text the active editor shows (only the rendered lines: monaco draws what is on screen). */
  async activeEditorText(): Promise<string> {
    // Monaco draws spaces as no-break spaces.
    return (await this.page.locator(`${SEL.activeEditor} ${SEL.editorLines}`).first().innerText()).replace(/\u00a0/g, ' ');
  }

  /** The text of status-bar items matching `text`. */
  async statusBarItem(text: RegExp, timeoutMs = 30_000): Promise<string> {
    const item = this.page.locator(SEL.statusBarItem, { hasText: text }).first();
    await item.waitFor({ timeout: timeoutMs });
    return (await item.innerText()).trim();
  }

  /** The Running Extensions editor's row for an extension (it shows activation times as VS Code measured them). */
  async runningExtensionText(name: RegExp, timeoutMs = 30_000): Promise<string> {
    await this.runCommand('Developer: Show Running Extensions');
    const list = this.page.locator(SEL.runningExtensionList).first();
    await list.waitFor({ timeout: timeoutMs });
    // The list is virtual and sorted slowest first: scroll until the row is drawn.
    const row = list.locator(SEL.listRow, { hasText: name }).first();
    const seen = new Set<string>();
    for (let i = 0; i < 40 && !await row.isVisible(); i++) {
      for (const t of await list.locator(SEL.listRow).allInnerTexts()) seen.add(t.replace(/\s+/g, ' ').trim());
      await list.hover();
      await this.page.mouse.wheel(0, 400);
      await this.page.waitForTimeout(150);
    }
    if (!await row.isVisible()) throw new Error(`${name} is not in Running Extensions; rows seen: ${[...seen].join(' | ')}`);
    // The activation time is filled in once the workbench has the extension's timings.
    const deadline = Date.now() + timeoutMs;
    while (!/\d+\s*ms/.test(await row.innerText())) {
      if (Date.now() > deadline) throw new Error(`no activation time for ${name} within ${timeoutMs} ms: ${await row.innerText()}`);
      await this.page.waitForTimeout(200);
    }
    return (await row.innerText()).replace(/\s+/g, ' ').trim();
  }

  async screenshot(name: string): Promise<string> {
    const path = join(ARTIFACTS_DIR, `${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }
}
