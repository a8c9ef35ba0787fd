/**
 * The manifest parser's worker thread (bundled as dist/manifestWorker.js): parses one manifest at a
 * time and answers with its facts, or with the RegistryError that says what is wrong with it.
 */
import { parentPort } from 'node:worker_threads';
import { RegistryError } from './errors';
import { computeTask, type ParseAnswer, type ParseTask } from './manifestParser';

function answer(task: ParseTask): ParseAnswer {
  try {
    return { id: task.id, ok: true, value: computeTask(task), bytes: task.bytes };
  } catch (e) {
    if (e instanceof RegistryError) {
      return { id: task.id, ok: false, message: e.message, registryError: { code: e.code, message: e.message, detail: e.detail, status: e.status } };
    }
    return { id: task.id, ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

const port = parentPort;
if (!port) throw new Error('manifestWorker runs as a worker thread of the registry');
// The bytes go back to the caller that handed them over, without a copy.
port.on('message', (task: ParseTask) => port.postMessage(answer(task), task.op === 'pushed' ? [task.bytes.buffer as ArrayBuffer] : []));
