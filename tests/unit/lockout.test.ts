import { describe, expect, it } from "vitest";
import { crossesLockThreshold, signInErrorMessage, SIGN_IN_ERRORS } from "@/lib/account-log/lockout";

describe("crossesLockThreshold", () => {
  it("locks on the failure after the threshold, not before", () => {
    expect([1, 2, 3, 4, 5].map((n) => crossesLockThreshold(n, 5))).toEqual([false, false, false, false, false]);
    expect(crossesLockThreshold(6, 5)).toBe(true);
    expect(crossesLockThreshold(2, 1)).toBe(true);
    expect(crossesLockThreshold(1, 1)).toBe(false);
  });
});

describe("signInErrorMessage", () => {
  it("maps the fixed codes and hides anything else behind the generic message", () => {
    expect(signInErrorMessage("AccountLocked")).toBe("This account is locked. Contact an administrator.");
    expect(signInErrorMessage("CredentialsSignin")).toBe(SIGN_IN_ERRORS.CredentialsSignin);
    expect(signInErrorMessage("connect ECONNREFUSED 127.0.0.1:5432")).toBe(SIGN_IN_ERRORS.CredentialsSignin);
    expect(signInErrorMessage(undefined)).toBeUndefined();
  });
});
