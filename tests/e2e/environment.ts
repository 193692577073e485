/** Shared by the Playwright config, its global setup and the specs. */
export const E2E_TARGETS = {
  pglite: { port: Number(process.env.E2E_PGLITE_PORT ?? 3317) },
  postgres: { port: Number(process.env.E2E_POSTGRES_PORT ?? 3318) },
} as const;

export type E2ETarget = keyof typeof E2E_TARGETS;

export const ADMIN = { username: "admin", password: "admin-password-for-e2e" };

/** Accounts made before the servers start; each spec uses its own so they don't interfere. */
export const USERS = {
  alice: { username: "alice", password: "alice-password-1" },
  bob: { username: "bob", password: "bob-password-22" },
  carol: { username: "carol", password: "carol-password-333" },
  dave: { username: "dave", password: "dave-password-4444" },
  erin: { username: "erin", password: "erin-password-55555" },
  frank: { username: "frank", password: "frank-password-666666" },
  grace: { username: "grace", password: "grace-password-7777777" },
  heidi: { username: "heidi", password: "heidi-password-88888888" },
  ivan: { username: "ivan", password: "ivan-password-999999999" },
  kate: { username: "kate", password: "kate-password-1010101010" },
  leo: { username: "leo", password: "leo-password-11111111111" },
  mia: { username: "mia", password: "mia-password-121212121212" },
  noah: { username: "noah", password: "noah-password-1313131313131" },
  olga: { username: "olga", password: "olga-password-14141414141414" },
  pat: { username: "pat", password: "pat-password-151515151515151" },
  quinn: { username: "quinn", password: "quinn-password-16161616161616" },
} as const;
