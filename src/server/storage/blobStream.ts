/**
 * Sending a blob to a client. A driver's reader may offer a faster way to send itself than a pipe
 * (the filesystem driver copies through reused buffers); `sendBlob` uses it when it is there.
 */
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A stream that can write itself to `out` (and end it) faster than `pipeline` would. */
export interface SelfSending {
  sendTo(out: Writable): Promise<void>;
}

function isSelfSending(stream: Readable): stream is Readable & SelfSending {
  return typeof (stream as Partial<SelfSending>).sendTo === 'function';
}

/** Sends a stream from `Storage.readBlob` to `out` and ends `out`. */
export async function sendBlob(stream: Readable, out: Writable): Promise<void> {
  // Once someone has started reading it, only a pipe keeps the bytes in order.
  if (isSelfSending(stream) && stream.readableFlowing === null && !stream.destroyed) return stream.sendTo(out);
  await pipeline(stream, out);
}
