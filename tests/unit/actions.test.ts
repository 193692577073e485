import { describe, expect, it } from "vitest";
import { z } from "zod";
import { adminReasonSchema } from "@/lib/account-log/reason";
import { accountIdField, formFields, keptValues, knownErrorState, loggableIds, parseForm } from "@/lib/actions/form";
import { UserInputError, UsernameTakenError } from "@/lib/users/errors";
import { newPasswordSchema, newUsernameSchema } from "@/lib/users/username";

function form(fields: Record<string, string | Blob>): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  return data;
}

const reasonForm = z.object({ userId: accountIdField, reason: adminReasonSchema });

describe("formFields", () => {
  it("reads the schema's fields as strings: missing or a file is empty, other fields are ignored", () => {
    const data = form({ userId: "7", reason: new Blob(["a file"]), extra: "ignored" });
    expect(formFields(reasonForm, data)).toEqual({ userId: "7", reason: "" });
    expect(formFields(reasonForm, form({}))).toEqual({ userId: "", reason: "" });
  });
});

describe("parseForm", () => {
  it("coerces an ID from its string and trims the reason", () => {
    expect(parseForm(reasonForm, form({ userId: " 42 ", reason: "  owner called  " }), ["reason"])).toEqual({
      ok: true,
      input: { userId: 42, reason: "owner called" },
    });
  });

  it("answers a bad hidden ID with its own message and no field, whatever is wrong with it", () => {
    for (const userId of ["", "abc", "0", "-3", "1.5", String(2 ** 31), "1e400"]) {
      expect(parseForm(reasonForm, form({ userId, reason: "ok" }), ["reason"]), userId).toEqual({
        ok: false,
        state: { status: "error", message: "That is not a valid account." },
      });
    }
  });

  it("points the first problem at the field the person typed", () => {
    expect(parseForm(reasonForm, form({ userId: "1", reason: "   " }), ["reason"])).toEqual({
      ok: false,
      state: { status: "error", message: "A reason is required.", field: "reason" },
    });
    expect(parseForm(reasonForm, form({ userId: "1", reason: "x".repeat(201) }), ["reason"])).toMatchObject({
      state: { message: "The reason must be at most 200 characters.", field: "reason" },
    });
    // A missing field reads as empty, so its message is the field's own, not zod's type error.
    expect(parseForm(reasonForm, form({ userId: "1" }), ["reason"])).toMatchObject({ state: { message: "A reason is required." } });
  });

  it("takes the first issue, in the schema's order", () => {
    const create = z.object({ username: newUsernameSchema, password: newPasswordSchema });
    const fields = ["username", "password"] as const;
    expect(parseForm(create, form({ username: "", password: "short" }), fields)).toMatchObject({ state: { field: "username", message: "Username is required." } });
    expect(parseForm(create, form({ username: "nora", password: "short" }), fields)).toMatchObject({
      state: { field: "password", message: "Password must be at least 8 characters." },
    });
  });

  it("names no field outside the ones given", () => {
    expect(parseForm(reasonForm, form({ userId: "1", reason: "" }), [])).toEqual({ ok: false, state: { status: "error", message: "A reason is required." } });
  });
});

describe("knownErrorState", () => {
  const fields = ["username", "password"] as const;

  it("shows the message of input errors, pointed at their field when the form has it", () => {
    expect(knownErrorState(new UserInputError("Password must be at least 8 characters.", "password"), fields)).toEqual({
      status: "error",
      message: "Password must be at least 8 characters.",
      field: "password",
    });
    expect(knownErrorState(new UserInputError("A reason is required.", "reason"), fields)).toEqual({ status: "error", message: "A reason is required." });
    expect(knownErrorState(new UsernameTakenError('A user named "nora" already exists.'), fields)).toEqual({
      status: "error",
      message: 'A user named "nora" already exists.',
      field: "username",
    });
  });

  it("maps nothing else: an unexpected error's text never reaches the client", () => {
    const database = new Error('insert into "users" values ($1, $2) -- params: nora, hunter2hunter2', { cause: new Error("connection reset") });
    expect(knownErrorState(database, fields)).toBeUndefined();
    expect(knownErrorState(new TypeError("x is undefined"), fields)).toBeUndefined();
    expect(knownErrorState("a thrown string", fields)).toBeUndefined();
    expect(knownErrorState(undefined, fields)).toBeUndefined();
  });
});

describe("keptValues and loggableIds", () => {
  it("puts back only the fields asked for, bounded", () => {
    const data = form({ username: `${"n".repeat(300)}`, password: "hunter2hunter2" });
    expect(keptValues(data, ["username"])).toEqual({ username: "n".repeat(256) });
    expect(keptValues(form({}), ["username"])).toEqual({});
  });

  it("logs the IDs of an input, never its text", () => {
    expect(loggableIds({ userId: 3, sessionId: 9, password: "hunter2hunter2", reason: "because" })).toEqual({ userId: 3, sessionId: 9 });
  });
});
