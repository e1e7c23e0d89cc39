// Errors are values with context until the CLI prints them.

export type Result<T, E = InputError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });

/** Input that cannot be read at all (exit 2): one clear line, never a stack trace. */
export interface InputError {
  readonly kind: 'input';
  /** Where the input came from: a path, `stdin`, `guestinfo.ovfEnv`, … */
  readonly origin: string;
  readonly message: string;
}

export const inputError = (origin: string, message: string): InputError => ({ kind: 'input', origin, message });
