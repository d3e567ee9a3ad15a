import path from 'node:path';
import paths from '../../config/paths.cjs';

/** The repository root (config/paths.cjs holds the rule, shared with sequelize-cli and dist/). */
export const projectRoot: string = paths.projectRoot;
export const viewsDir = path.join(projectRoot, 'views');
export const publicDir = path.join(projectRoot, 'public');
export const migrationsDir = path.join(projectRoot, 'migrations');
