/** The lockout rule: an account locks when its consecutive wrong passwords exceed the threshold. */
export function crossesLockThreshold(consecutiveFailures: number, threshold: number): boolean {
  return consecutiveFailures > threshold;
}

/** What the sign-in form may be told. Nothing here says whether a username exists. */
export const SIGN_IN_ERRORS = {
  CredentialsSignin: "Invalid username or password.",
  AccountLocked: "This account is locked. Contact an administrator.",
  SignInUnavailable: "Sign-in is temporarily unavailable. Try again in a moment.",
  RateLimited: "Too many failed sign-ins from your network. Wait a few minutes, then try again.",
  SessionEnded: "Your session has ended. Sign in again.",
} as const;

export type SignInErrorCode = keyof typeof SIGN_IN_ERRORS;

export function signInErrorMessage(code: string | undefined | null): string | undefined {
  if (!code) return undefined;
  return code in SIGN_IN_ERRORS ? SIGN_IN_ERRORS[code as SignInErrorCode] : SIGN_IN_ERRORS.CredentialsSignin;
}
