// Every task module registers itself on import; add new task files here.
import './builtin.js';
import './inventory-sync.js';
import '../../provisioning/create-task.js';
import '../../provisioning/lifecycle-tasks.js';
import '../../provisioning/vm-power-tasks.js';
import '../../expiry/scan-task.js';

export { getTask, registerTask, taskNames, type Task, type TaskContext } from './registry.js';
export { SHELL_TASK } from './builtin.js';
