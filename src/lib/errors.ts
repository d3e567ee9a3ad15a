/**
 * Every error Berth raises on purpose. The error handler middleware maps them to HTTP answers in one
 * place; anything else is an unexpected 500.
 */
export class AppError extends Error {
  /** HTTP status the error handler answers with. */
  readonly status: number = 500;
  /** Field name → message, for forms and JSON `{error, fields}`. */
  readonly fields?: Record<string, string>;

  constructor(message: string, fields?: Record<string, string>) {
    super(message);
    this.name = new.target.name;
    this.fields = fields;
  }
}

export class BadRequestError extends AppError {
  override readonly status = 400;
}

export class UnauthorizedError extends AppError {
  override readonly status = 401;
  constructor(message = 'Please log in.') {
    super(message);
  }
}

export class ForbiddenError extends AppError {
  override readonly status = 403;
  constructor(message = 'You are not allowed to do that.') {
    super(message);
  }
}

/** Also what a user gets for another user's object: we do not reveal that it exists. */
export class NotFoundError extends AppError {
  override readonly status = 404;
  constructor(message = 'Not found.') {
    super(message);
  }
}

export class MethodNotAllowedError extends AppError {
  override readonly status = 405;
  constructor(message: string, readonly allow: string[]) {
    super(message);
  }
}

export class ConflictError extends AppError {
  override readonly status = 409;
}

export class PayloadTooLargeError extends AppError {
  override readonly status = 413;
}

export class ValidationError extends AppError {
  override readonly status = 422;
}

export class TooManyRequestsError extends AppError {
  override readonly status = 429;
}

/** A system Berth depends on (Proxmox, SMTP) failed; the message says which and why. */
export class UpstreamError extends AppError {
  override readonly status = 502;
}

export class ServiceUnavailableError extends AppError {
  override readonly status = 503;
}
