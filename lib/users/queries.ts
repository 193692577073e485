import { randomBytes } from "node:crypto";
import os from "node:os";
import { and, eq, sql } from "drizzle-orm";
import { getDb, type Executor } from "@/db";
import { users, type AccountLogMetadata, type UserRole } from "@/db/schema";
import { appendAccountLog } from "@/lib/account-log/record";
import { hashPassword } from "@/lib/auth/password";
import { UserInputError, UsernameTakenError } from "./errors";
import { newPasswordSchema, newUsernameSchema, normalizeUsername } from "./username";

/** `user@host` of the operating-system account running this process, for rows written from a shell. */
export function shellOperator(): string {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    // A uid without a passwd entry (some containers).
    user = `uid ${process.getuid?.() ?? "unknown"}`;
  }
  return `${user}@${os.hostname()}`;
}

/** Who created an account outside the admin page: an operating-system account, or the server's first start. */
export type ShellActor = { username: string; via: "command line" | "start-up" };

/**
 * Creates an account; the username and password are validated here, at the boundary. With a
 * `createdBy`, the `user_created` row naming it is written in the same transaction.
 */
export async function createUser(input: { username: string; password: string; role?: UserRole; createdBy?: ShellActor }) {
  const prepared = await prepareNewUser(input);
  const db = await getDb();
  const { createdBy } = input;
  if (!createdBy) return insertUser(db, prepared);
  return db.transaction(async (tx) => {
    const user = await insertUser(tx, prepared);
    const actor: NonNullable<AccountLogMetadata["actor"]> = { userId: null, ...createdBy };
    await appendAccountLog(tx, [{ username: user.username, userId: user.id, result: "user_created", metadata: { actor, role: { to: user.role } } }]);
    return user;
  });
}

export type NewUser = { username: string; usernameNormalized: string; passwordHash: string; role: UserRole };

/**
 * A new account's row: validated name and password, the password hashed. Separate from the
 * insert so the slow hash runs before any transaction opens.
 */
export async function prepareNewUser({
  username,
  password,
  role = "user",
}: {
  username: string;
  password: string;
  role?: UserRole;
}): Promise<NewUser> {
  const name = newUsernameSchema.safeParse(username);
  if (!name.success) throw new UserInputError(name.error.issues[0]!.message, "username");
  const secret = newPasswordSchema.safeParse(password);
  if (!secret.success) throw new UserInputError(secret.error.issues[0]!.message, "password");
  return { ...name.data, passwordHash: await hashPassword(secret.data), role };
}

export async function insertUser(executor: Executor, user: NewUser) {
  const [created] = await executor
    .insert(users)
    .values(user)
    .onConflictDoNothing({ target: users.usernameNormalized })
    .returning({ id: users.id, username: users.username, role: users.role });
  if (!created) throw new UsernameTakenError(`A user named "${user.username}" already exists.`);
  return created;
}

export async function findUserByUsername(username: string, executor?: Executor) {
  const db = executor ?? (await getDb());
  const [user] = await db
    .select()
    .from(users)
    .where(eq(users.usernameNormalized, normalizeUsername(username)))
    .limit(1);
  return user;
}

export async function hasUnlockedAdmin(): Promise<boolean> {
  const db = await getDb();
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.role, "admin"), sql`${users.lockedAt} is null`))
    .limit(1);
  return Boolean(row);
}

export async function hasAdmin(): Promise<boolean> {
  const db = await getDb();
  const [row] = await db.select({ id: users.id }).from(users).where(eq(users.role, "admin")).limit(1);
  return Boolean(row);
}

/**
 * Makes sure the database has an admin. The first start creates one from ADMIN_USERNAME and
 * ADMIN_PASSWORD, or from "admin" and a random password that is returned to print once.
 */
export async function ensureFirstAdmin({
  username,
  password,
}: {
  username?: string;
  password?: string;
}): Promise<{ username: string; generatedPassword?: string } | undefined> {
  if (await hasAdmin()) return undefined;
  const generatedPassword = password ? undefined : randomBytes(18).toString("base64url");
  const created = await createUser({
    username: username ?? "admin",
    password: password ?? generatedPassword!,
    role: "admin",
    createdBy: { username: shellOperator(), via: "start-up" },
  });
  return { username: created.username, generatedPassword };
}
