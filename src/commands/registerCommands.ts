/** Every command, in one table. Each lives in its own file, named after its verb. */
import { addRepository } from './addRepository';
import { browseFiles } from './browseFiles';
import { buildAndPush } from './buildAndPush';
import { compareTags } from './compareTags';
import { showArtifacts } from './showArtifacts';
import { showImage } from './showImage';
import type { CommandSpec } from './command';
import { configureTls } from './configureTls';
import { connectRegistry } from './connectRegistry';
import { copyDigest } from './copyDigest';
import { copyPullCommand } from './copyPullCommand';
import { copyPullSecret } from './copyPullSecret';
import { copyReference } from './copyReference';
import { copyToRegistry } from './copyToRegistry';
import { deleteImage } from './deleteImage';
import { deleteRepository } from './deleteRepository';
import { disconnectRegistry } from './disconnectRegistry';
import { dockerLogin } from './dockerLogin';
import { editCredentials } from './editCredentials';
import { filterRepositories } from './filterRepositories';
import { filterTags } from './filterTags';
import { importDockerConfig } from './importDockerConfig';
import { inspectManifest } from './inspectManifest';
import { loadMore } from './loadMore';
import { openArtifact } from './openArtifact';
import { localGc } from './localGc';
import { localMenu } from './localMenu';
import { localOpenStorage } from './localOpenStorage';
import { localRestart } from './localRestart';
import { localShowLogs } from './localShowLogs';
import { localStart } from './localStart';
import { localStop } from './localStop';
import { pullImage } from './pullImage';
import { pushLocalImage } from './pushLocalImage';
import { refreshRegistries } from './refresh';
import { refreshLocalImages } from './refreshLocalImages';
import { removeLocalImage } from './removeLocalImage';
import { retagAndPush } from './retagAndPush';
import { retagImage } from './retagImage';
import { tagLocalImage } from './tagLocalImage';

export const COMMANDS: readonly CommandSpec[] = [
  connectRegistry,
  editCredentials,
  disconnectRegistry,
  importDockerConfig,
  dockerLogin,
  copyPullSecret,
  configureTls,
  addRepository,
  filterRepositories,
  refreshRegistries,
  loadMore,
  pullImage,
  copyReference,
  copyDigest,
  copyPullCommand,
  inspectManifest,
  showImage,
  showArtifacts,
  browseFiles,
  compareTags,
  buildAndPush,
  openArtifact,
  deleteImage,
  deleteRepository,
  filterTags,
  retagImage,
  copyToRegistry,
  refreshLocalImages,
  tagLocalImage,
  pushLocalImage,
  retagAndPush,
  removeLocalImage,
  localStart,
  localStop,
  localRestart,
  localShowLogs,
  localOpenStorage,
  localGc,
  localMenu,
];
