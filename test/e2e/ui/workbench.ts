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
  listRow: '.monaco-list-row',
  twistie: '.monaco-tl-twistie',
  contextMenuItem: '.context-view .monaco-menu .action-item',
  quickInput: '.quick-input-widget',
  quickInputBox: '.quick-input-widget input',
  quickInputRow: '.quick-input-widget .quick-input-list .monaco-list-row',
  quickInputMessage: '.quick-input-widget .quick-input-message',
  notificationCenter: '.notifications-center',
  notificationItem: '.notifications-center .notification-list-item',
  notificationToast: '.notifications-toasts .notification-toast',
  dialog: '.monaco-dialog-box',
  dialogButton: '.monaco-dialog-box .dialog-buttons .monaco-button',
  activeEditor: '.editor-group-container.active .editor-instance',
  editorLines: '.monaco-editor .view-lines',
  activeTab: '.editor-group-container.active .tab.active',
  runningExtensionList: '.runtime-extensions-editor .monaco-list',
  statusBarItem: '.part.statusbar .statusbar-item',
} as const;

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Text of a row, exactly `label` (a tree row's text may also hold its description, so only the start is anchored). */
const startsWith = (label: string | RegExp): RegExp => (typeof label === 'string' ? new RegExp(`^\\s*${escape(label)}(\\s|$)`) : label);

export class Workbench {
  constructor(readonly page: Page) {}

  /** The workbench is drawn and the activity bar is there. */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    await this.page.waitForSelector(SEL.workbench, { timeout: timeoutMs });
    await this.page.locator(SEL.activityBar).waitFor({ timeout: timeoutMs });
  }

  activityBarItem(title: string): Locator {
    return this.page.locator(`${SEL.activityBar} .action-item a[aria-label^="${title}"], ${SEL.activityBar} .action-item[aria-label^="${title}"]`).first();
  }

  /** Clicks a view container in the activity bar (unless it is already open) and waits for the side bar to show it. */
  async openViewContainer(title: string, timeoutMs = 30_000): Promise<void> {
    const sidebarTitle = this.page.locator(SEL.sidebarTitle);
    if (await sidebarTitle.isVisible() && (await sidebarTitle.innerText()).toUpperCase().includes(title.toUpperCase())) return;
    const item = this.activityBarItem(title);
    await item.waitFor({ timeout: timeoutMs });
    await item.click();
    await this.page.locator(SEL.sidebarTitle, { hasText: new RegExp(escape(title), 'i') }).waitFor({ timeout: timeoutMs });
  }

  /** A view (pane) in the side bar, by its name as shown in its header. */
  view(name: string): Locator {
    return this.page.locator(`${SEL.sidebar} ${SEL.pane}`, { has: this.page.locator(SEL.paneHeader, { hasText: new RegExp(escape(name), 'i') }) }).first();
  }

  /** Expands a collapsed view so its tree is visible. */
  async showView(name: string): Promise<Locator> {
    const view = this.view(name);
    await view.waitFor({ timeout: 30_000 });
    const header = view.locator(SEL.paneHeader).first();
    if (await header.getAttribute('aria-expanded') === 'false') await header.click();
    return view;
  }

  /** A tree row in a view whose text starts with `label`. */
  treeRow(viewName: string, label: string | RegExp): Locator {
    return this.view(viewName).locator(SEL.listRow, { hasText: startsWith(label) }).first();
  }

  async rowTexts(viewName: string): Promise<string[]> {
    return (await this.view(viewName).locator(SEL.listRow).allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  }

  async waitForRow(viewName: string, label: string | RegExp, timeoutMs = 30_000): Promise<Locator> {
    const row = this.treeRow(viewName, label);
    await row.waitFor({ timeout: timeoutMs });
    return row;
  }

  /** Expands a tree row (a no-op when it is already expanded). */
  async expand(row: Locator): Promise<void> {
    if (await row.getAttribute('aria-expanded') === 'true') return;
    await row.locator(SEL.twistie).click();
    await this.page.waitForFunction((el) => el?.getAttribute('aria-expanded') === 'true', await row.elementHandle(), { timeout: 30_000 });
  }

  /** Right-clicks `row` and picks `item` from its context menu. */
  async contextMenu(row: Locator, item: string | RegExp): Promise<void> {
    await row.click({ button: 'right' });
    const entry = this.page.locator(SEL.contextMenuItem, { hasText: typeof item === 'string' ? new RegExp(escape(item)) : item }).first();
    await entry.waitFor({ timeout: 15_000 });
    await entry.click();
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

  /** Waits for a quick pick or input box; returns its visible prompt and items. */
  async quickInput(timeoutMs = 30_000): Promise<{ message: string; items: string[] }> {
    await this.page.locator(SEL.quickInputBox).waitFor({ timeout: timeoutMs });
    const message = await this.page.locator(SEL.quickInputMessage).innerText().catch(() => '');
    const items = await this.page.locator(SEL.quickInputRow).allInnerTexts();
    return { message, items: items.map((t) => t.replace(/\s+/g, ' ').trim()) };
  }

  /** Types into the open input box and accepts it. */
  async answer(text: string): Promise<void> {
    const input = this.page.locator(SEL.quickInputBox);
    await input.waitFor({ timeout: 30_000 });
    await input.fill(text);
    await this.page.keyboard.press('Enter');
  }

  /** Picks the quick-pick item whose text starts with `label`. */
  async pick(label: string | RegExp): Promise<void> {
    const row = this.page.locator(SEL.quickInputRow, { hasText: startsWith(label) }).first();
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
    if (!await center.isVisible().catch(() => false)) await this.runCommand('Notifications: Show Notifications');
    await center.waitFor({ timeout: 15_000 });
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

  async hideNotifications(): Promise<void> {
    if (await this.page.locator(SEL.notificationCenter).isVisible().catch(() => false)) await this.runCommand('Notifications: Hide Notifications');
  }

  /** Title of the active editor tab. */
  async activeEditorTitle(): Promise<string> {
    return (await this.page.locator(SEL.activeTab).innerText()).trim();
  }

  /** The text the active editor shows (only the rendered lines: monaco draws what is on screen). */
  async activeEditorText(): Promise<string> {
    return this.page.locator(`${SEL.activeEditor} ${SEL.editorLines}`).first().innerText();
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
    await this.page.waitForFunction((el) => /\d+\s*ms/.test(el?.textContent ?? ''), await row.elementHandle(), { timeout: timeoutMs });
    return (await row.innerText()).replace(/\s+/g, ' ').trim();
  }

  async screenshot(name: string): Promise<string> {
    const path = join(ARTIFACTS_DIR, `${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }
}
