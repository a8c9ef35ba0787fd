import { compareImages, renderComparison } from '../image/compare';
import { ImageFiles } from '../image/imageFiles';
import { imageSummary } from '../image/summary';
import { UserError } from '../app/problems';
import type { CommandSpec } from './command';
import { documentPath, imageAt, sharedLayerCache } from './imageSession';
import { required } from './ui';

/** Two tags of a repository side by side: layers, config fields and files that differ. */
export const compareTags: CommandSpec = {
  id: 'berth.tag.compare',
  async run(deps, node) {
    const a = await imageAt(deps, node, 'Compare With…');
    const api = await deps.registry();
    const page = await api.tags(a.entry, a.target.repository, undefined, deps.settings.pageSize());
    const others = page.items.filter((t) => t !== a.target.reference);
    if (!others.length) throw new UserError(`${a.target.repository} has no other tag to compare with.`);
    const otherTag = await required(deps.ui.pick(others.map((t) => ({ label: t, value: t })), { title: `Compare ${a.label} with…`, placeHolder: 'Tag' }));
    const bTarget = { repository: a.target.repository, reference: otherTag, ...(a.target.platform ? { platform: a.target.platform } : {}) };
    const cache = sharedLayerCache();
    const comparison = await deps.ui.withProgress(`Comparing ${a.target.reference} with ${otherTag}`, true, async (report, signal) => {
      const [sa, sb] = await Promise.all([imageSummary(a.registry, a.target, { signal }), imageSummary(a.registry, bTarget, { signal })]);
      report({ message: 'listing files' });
      const [fa, fb] = [new ImageFiles(a.registry, sa.image, cache), new ImageFiles(a.registry, sb.image, cache)];
      const [ta, tb] = await Promise.all([fa.tree({ signal }), fb.tree({ signal })]);
      return compareImages(sa, sb, { a: ta, b: tb });
    });
    const uri = deps.docs.put(documentPath('compare', a.entry, { ...a.target, reference: `${a.target.reference}-vs-${otherTag}` }, 'md'), renderComparison(a.entry.server, comparison));
    await deps.ui.openDocument(uri, 'markdown');
  },
};
