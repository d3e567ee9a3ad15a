import { z } from 'zod';
import { isTicked } from '../lib/validators.js';

/** The delete form's tick box: ticked (validators.isTicked: "yes" on the form, or JSON true) confirms; anything else (or nothing) does not. */
export const deleteConfirmation = z.object({
  confirm: z.unknown().optional().transform(isTicked),
});
