/**
 * The password checker's worker thread (bundled as dist/passwordWorker.js): one bcrypt comparison at a
 * time, so the registry's event loop never runs one.
 */
import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';
import type { CompareAnswer, CompareTask } from './passwordChecks';

function answer(task: CompareTask): CompareAnswer {
  try {
    return { id: task.id, match: bcrypt.compareSync(task.password, task.hash) };
  } catch (e) {
    return { id: task.id, error: e instanceof Error ? e.message : String(e) };
  }
}

const port = parentPort;
if (!port) throw new Error('passwordWorker runs as a worker thread of the registry');
port.on('message', (task: CompareTask) => port.postMessage(answer(task)));
