// Creates a local Berth administrator: bin/create-admin --username NAME [--email E] [--name N]
//   [--generate | --password-stdin]; without either it asks for the password on the terminal.
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../config/index.js';
import { promptHidden, readStdin } from '../src/cli/read-password.js';
import { openDatabase } from '../src/database.js';
import { AppError } from '../src/lib/errors.js';
import { createAdmin } from '../src/services/createAdmin.js';

const { values } = parseArgs({
  options: {
    username: { type: 'string' },
    email: { type: 'string' },
    name: { type: 'string' },
    generate: { type: 'boolean', default: false },
    'password-stdin': { type: 'boolean', default: false },
  },
});

if (!values.username) {
  console.error('usage: bin/create-admin --username NAME [--email EMAIL] [--name "Full Name"] [--generate | --password-stdin]');
  process.exit(2);
}

let password: string;
if (values.generate) password = crypto.randomBytes(18).toString('base64url');
else if (values['password-stdin'] || !process.stdin.isTTY) password = await readStdin();
else {
  password = await promptHidden('Password: ');
  if ((await promptHidden('Repeat password: ')) !== password) {
    console.error('The passwords differ.');
    process.exit(1);
  }
}

const config = loadConfigOrExit();
const db = await openDatabase(config);
try {
  const user = await createAdmin(db.models, { username: values.username, password, email: values.email, displayName: values.name });
  console.log(`Created administrator '${user.username}'.`);
  if (values.generate) console.log(`Password (shown once): ${password}`);
} catch (err) {
  if (!(err instanceof AppError)) throw err;
  const details = Object.entries(err.fields ?? {}).map(([field, message]) => `  ${field}: ${message}`);
  console.error([err.message, ...details].join('\n'));
  process.exitCode = 1;
} finally {
  await db.close();
}
