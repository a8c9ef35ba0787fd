import { imageSummary, renderImageSummary } from '../image/summary';
import type { CommandSpec } from './command';
import { documentPath, imageAt } from './imageSession';

/** The image page: config, history with the command behind each layer, layers and sizes, as Markdown. */
export const showImage: CommandSpec = {
  id: 'berth.tag.showImage',
  async run(deps, node) {
    const at = await imageAt(deps, node, 'Show Image');
    const summary = await deps.ui.withProgress(`Reading ${at.label}`, true, (_report, signal) => imageSummary(at.registry, at.target, { signal }));
    const uri = deps.docs.put(documentPath('image', at.entry, at.target, 'md'), renderImageSummary(at.entry.server, summary));
    await deps.ui.openDocument(uri, 'markdown');
  },
};
