import { z } from 'zod';

export const loginInput = z.object({
  username: z.string({ error: 'Enter your username.' }).trim().min(1, 'Enter your username.').max(191, 'That username is too long.'),
  password: z.string({ error: 'Enter your password.' }).min(1, 'Enter your password.').max(1024, 'That password is too long.'),
  /** 'local' (Berth accounts) or a Proxmox realm id; absent means local unless the username has @realm. */
  realm: z.string().trim().max(32, 'Unknown realm.').optional(),
  next: z.string().max(2000).optional(),
});

export type LoginInput = z.infer<typeof loginInput>;
