/**
 * Input the rules refuse. Its message is written for the person who typed it, so it may be
 * shown to them; `field` names the form field it is about, when it is about one.
 */
export class UserInputError extends Error {
  override name = "UserInputError";

  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** A new account's name is in use; the message names the account, never its password. */
export class UsernameTakenError extends Error {
  override name = "UsernameTakenError";
  readonly field = "username";
}
