import path from 'node:path';
import ejs from 'ejs';
import { viewsDir } from './paths.js';

const LAYOUT = path.join(viewsDir, 'layouts', 'main.ejs');

/**
 * Express view engine: renders the view, then wraps it in views/layouts/main.ejs as `body`
 * (a view opts out with `layout: false`). EJS escapes every `<%=`; `<%-` is used only for includes
 * and for `body`, which is already-escaped HTML from the view.
 */
export function renderWithLayout(file: string, viewOptions: object, callback: (err: Error | null, html?: string) => void): void {
  const options = viewOptions as Record<string, unknown>;
  const render = async () => {
    // Express sets options.cache from the 'view cache' setting (on in production).
    const opts = { ...options, async: false } as ejs.Options & Record<string, unknown>;
    const body = await ejs.renderFile(file, opts);
    if (options.layout === false) return body;
    return ejs.renderFile(LAYOUT, { ...opts, body });
  };
  render().then((html) => callback(null, html), (err: Error) => callback(err));
}
