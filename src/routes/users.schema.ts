import { z } from 'zod';

export const roleInput = z.object({
  role: z.enum(['admin', 'user'], { error: 'Choose admin or user.' }),
});
