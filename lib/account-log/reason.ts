import { z } from "zod";
import { ADMIN_REASON_MAX_LENGTH } from "@/lib/users/limits";

// Control and invisible characters would make the logged reason read differently from what it is.
const UNSAFE_CHARACTERS = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u;

/** The short reason an admin gives for locking or unlocking an account: 1–200 characters after trimming. */
export const adminReasonSchema = z
  .string({ error: "A reason is required." })
  .transform((raw) => raw.normalize("NFC").trim())
  .pipe(
    z
      .string()
      .min(1, "A reason is required.")
      .refine((reason) => [...reason].length <= ADMIN_REASON_MAX_LENGTH, `The reason must be at most ${ADMIN_REASON_MAX_LENGTH} characters.`)
      .refine((reason) => !UNSAFE_CHARACTERS.test(reason), "The reason must not contain control or invisible characters."),
  );

export const COMMAND_LINE_UNLOCK_REASON = "break-glass unlock from the command line";
