import { z } from 'zod';

/** A script's upload: the CSV text itself (the JSON body limit applies) and an optional file name. */
export const importJsonInput = z.object({
  csv: z.string({ error: 'Send the CSV text as "csv", or upload a file in the form field "file".' }),
  filename: z.string().max(255, 'A file name has at most 255 characters.').optional(),
});

/** A file name as shown on pages: no directories, no control characters, 255 characters at most. */
export function cleanFilename(name: string | undefined): string | null {
  // eslint-disable-next-line no-control-regex
  const base = (name ?? '').split(/[\\/]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return base ? base.slice(0, 255) : null;
}
