// Plain numbers, without the validation schemas, so client forms can use them without zod.
export const USERNAME_MAX_LENGTH = 64;
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;
/** The short reason an admin gives for locking or unlocking an account. */
export const ADMIN_REASON_MAX_LENGTH = 200;
