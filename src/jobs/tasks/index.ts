// Every task module registers itself on import; add new task files here.
import './builtin.js';
import './inventory-sync.js';
import '../../provisioning/create-task.js';
import '../../provisioning/lifecycle-tasks.js';
import '../../provisioning/vm-power-tasks.js';
// Not here: the expiry scan enqueues stop and delete jobs, so loading it from here (enqueue.ts imports
// this file) would close a cycle. It registers where it is enqueued (src/expiry/enqueue-scan.ts imports it).

export { getTask, registerTask, taskNames, type Task, type TaskContext } from './registry.js';
export { SHELL_TASK } from './builtin.js';
