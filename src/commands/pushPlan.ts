/** Where a local image goes when pushed: the engine needs it tagged with the target host first. */
import { isReferenceError, parseReference } from '../oci/reference';
import { UserError } from '../app/problems';

export interface PushTarget {
  /** Host as docker writes it (`127.0.0.1:5000`, `ghcr.io`, `docker.io`). */
  host: string;
  repository: string;
  tag: string;
}

export interface PushPlan {
  /** `host/repository:tag` the engine pushes. */
  reference: string;
  /** True when the image must be tagged with `reference` first. */
  needsTag: boolean;
}

export function targetReference(t: PushTarget): string {
  return `${t.host}/${t.repository}:${t.tag}`;
}

export function planPush(localReference: string | undefined, target: PushTarget): PushPlan {
  const reference = targetReference(target);
  if (!localReference) return { reference, needsTag: true };
  const parsed = parseReference(localReference);
  if (isReferenceError(parsed)) return { reference, needsTag: true };
  const same = parsed.registry === target.host && parsed.repository === target.repository && (parsed.tag ?? 'latest') === target.tag;
  return { reference, needsTag: !same };
}

/** The repository and tag to suggest: the image's own path without its host. */
export function suggestedTarget(localReference: string | undefined): { repository: string; tag: string } {
  if (!localReference) return { repository: '', tag: 'latest' };
  const parsed = parseReference(localReference);
  if (isReferenceError(parsed)) throw new UserError(parsed.message);
  // Docker Hub's official images live under library/; a private registry wants the short name.
  const repository = parsed.repository.startsWith('library/') ? parsed.repository.slice('library/'.length) : parsed.repository;
  return { repository, tag: parsed.tag ?? 'latest' };
}

/** Splits what a person typed as `repository:tag` (the tag defaults to latest). */
export function splitRepositoryTag(value: string): { repository: string; tag: string } {
  const v = value.trim();
  const colon = v.lastIndexOf(':');
  const slash = v.lastIndexOf('/');
  if (colon > slash) return { repository: v.slice(0, colon), tag: v.slice(colon + 1) };
  return { repository: v, tag: 'latest' };
}
