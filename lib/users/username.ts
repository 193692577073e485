import { z } from "zod";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, USERNAME_MAX_LENGTH } from "./limits";

export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, USERNAME_MAX_LENGTH };

/** NFKC, trimmed, lower-cased: `Alice`, ` alice` and `ａｌｉｃｅ` are one account. */
export function normalizeUsername(raw: string): string {
  return raw.normalize("NFKC").trim().toLowerCase().normalize("NFKC");
}

// Control, format (bidi overrides), separator-other and unassigned characters make names that
// read differently from what they are.
const UNSAFE_CHARACTERS = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u;

/** A username for a new account: the display form (NFKC, trimmed) and its normalized key. */
export const newUsernameSchema = z
  .string()
  .transform((raw) => raw.normalize("NFKC").trim())
  .pipe(
    z
      .string()
      .min(1, "Username is required.")
      .refine((name) => [...name].length <= USERNAME_MAX_LENGTH, `Username must be at most ${USERNAME_MAX_LENGTH} characters.`)
      .refine((name) => !UNSAFE_CHARACTERS.test(name), "Username must not contain control or invisible characters."),
  )
  .transform((username) => ({ username, usernameNormalized: normalizeUsername(username) }));

export const newPasswordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `Password must be at least ${PASSWORD_MIN_LENGTH} characters.`)
  .max(PASSWORD_MAX_LENGTH, `Password must be at most ${PASSWORD_MAX_LENGTH} characters.`);
