import type { RequestHandler } from 'express';
import multer from 'multer';
import { KINDS } from '../inventory/kinds.js';
import { AppError, BadRequestError, PayloadTooLargeError } from '../lib/errors.js';

/** The largest CSV upload: 5 MiB holds far more than MAX_ROWS rows. */
export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

const parser = multer({
  storage: multer.memoryStorage(),
  limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 10, fieldSize: 64 * 1024, parts: 11 },
}).single('file');

/** The only paths that take a multipart upload. */
const UPLOAD_PATHS = new Set<string>(KINDS.map((k) => `${k.basePath}/import`));

const MESSAGES: Record<string, string> = {
  LIMIT_FILE_SIZE: `The file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MiB: split it and import the parts one after the other.`,
  LIMIT_FILE_COUNT: 'Upload one file at a time.',
  LIMIT_UNEXPECTED_FILE: 'Send the CSV file in the form field named "file", one file at a time.',
};

/** Multer's errors (and busboy's, for a malformed body) as the typed errors the error handler maps. */
function toAppError(err: unknown): AppError {
  const code = (err as { code?: string }).code;
  if (err instanceof multer.MulterError) {
    if (code === 'LIMIT_FILE_SIZE') return new PayloadTooLargeError(MESSAGES[code]);
    return new BadRequestError(MESSAGES[err.code] ?? `The upload was refused: ${err.message.toLowerCase()}.`);
  }
  return new BadRequestError('The upload could not be read: the multipart form data is malformed.');
}

/**
 * Parses the multipart body of `POST /containers/import` and `POST /vms/import` into `req.file`
 * (in memory, 5 MiB at most) and `req.body`. It runs before the CSRF check, which reads `_csrf` from
 * the parsed body. Every other request passes untouched, and so does an anonymous one: no work for
 * a visitor who is not logged in; the route answers 401.
 */
export const csvUpload: RequestHandler = (req, res, next) => {
  const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
  if (req.method !== 'POST' || !UPLOAD_PATHS.has(path) || !req.user) return next();
  parser(req, res, (err?: unknown) => next(err ? toAppError(err) : undefined));
};
