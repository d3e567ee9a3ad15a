import { z } from 'zod';

/** The delete form's tick box: "yes", "on", "true" or JSON true confirm; anything else (or nothing) does not. */
export const deleteConfirmation = z.object({
  confirm: z.unknown().optional().transform((x) => x === true || x === 'yes' || x === 'on' || x === 'true'),
});
