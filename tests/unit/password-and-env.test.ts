import { afterEach, describe, expect, it } from "vitest";
import { hashPassword, needsRehash, paddingDerive, passwordWorkDone, verifyDummyPassword, verifyPassword, workOf } from "@/lib/auth/password";
import { isSameOriginRequest } from "@/lib/auth/same-origin";
import { completeEnv, ConfigurationError, env, parseEnv } from "@/lib/env";

describe("password hashing", () => {
  it("stores scrypt parameters with the hash and verifies only the right password", async () => {
    const stored = await hashPassword("correct horse", { N: 2 ** 14, r: 8, p: 1 });
    expect(stored).toMatch(/^scrypt\$N=16384,r=8,p=1\$[\w-]+\$[\w-]+$/);
    expect(await verifyPassword("correct horse", stored)).toBe(true);
    expect(await verifyPassword("correct horsE", stored)).toBe(false);
    expect(await verifyPassword("correct horse", "garbage")).toBe(false);
  });

  it("uses a fresh salt each time and asks for a rehash below the current cost", async () => {
    const a = await hashPassword("pw", { N: 2 ** 14, r: 8, p: 1 });
    const b = await hashPassword("pw", { N: 2 ** 14, r: 8, p: 1 });
    expect(a).not.toBe(b);
    expect(needsRehash(a)).toBe(false); // tests run at SCRYPT_LOG2_N=14
    expect(needsRehash(a.replace("N=16384", "N=1024"))).toBe(true);
  });

  it("defaults to OWASP's N=2^17 and can derive it within maxmem", async () => {
    expect(parseEnv({}).SCRYPT_LOG2_N).toBe(17);
    const stored = await hashPassword("pw", { N: 2 ** 17, r: 8, p: 1 });
    expect(await verifyPassword("pw", stored)).toBe(true);
  });
});

describe("the cost of a password check", () => {
  const at = (log2N: number, r = 8) => ({ N: 2 ** log2N, r, p: 1 });

  it("pads a cheaper hash up to the current cost exactly, in one derive, and never pads one at or above it", () => {
    expect(paddingDerive(at(17), at(17))).toBeUndefined();
    expect(paddingDerive(at(18), at(17))).toBeUndefined();
    expect(paddingDerive(at(14), at(17))).toEqual({ N: 2 ** 14, r: 8 * 7, p: 1 });
    expect(paddingDerive(at(16), at(17))).toEqual({ N: 2 ** 16, r: 8, p: 1 });
    for (const stored of [at(10), at(12), at(14, 4), at(16, 8), at(17, 1), { N: 2 ** 15, r: 8, p: 2 }]) {
      const padding = paddingDerive(stored, at(17));
      expect(workOf(stored) + (padding ? workOf(padding) : 0), JSON.stringify(stored)).toBe(workOf(at(17)));
      if (padding) expect(Number.isInteger(padding.r) && padding.r >= 1, JSON.stringify(padding)).toBe(true);
    }
    // An unreadable hash costs one whole check at the current cost.
    expect(paddingDerive(undefined, at(17))).toEqual(at(17));
  });

  it("spends the same work on a low-cost hash, a current one, an unreadable one and the dummy (tests run at 2^14)", async () => {
    const current = workOf(at(14));
    const low = await hashPassword("pw", at(12));
    const high = await hashPassword("pw", at(14));
    const work = async (check: () => Promise<unknown>) => {
      const before = passwordWorkDone();
      await check();
      return passwordWorkDone() - before;
    };
    expect(await work(() => verifyPassword("wrong", low))).toBe(current);
    expect(await work(() => verifyPassword("pw", low))).toBe(current);
    expect(await verifyPassword("pw", low)).toBe(true);
    expect(await work(() => verifyPassword("wrong", high))).toBe(current);
    expect(await work(() => verifyPassword("pw", "garbage"))).toBe(current);
    expect(await work(() => verifyDummyPassword("pw"))).toBe(current);
  });
});

describe("parseEnv", () => {
  it("applies defaults", () => {
    const env = parseEnv({});
    expect(env.PORT).toBe(3000);
    expect(env.LOCKOUT_THRESHOLD).toBe(5);
    expect(env.SESSION_IDLE_MINUTES).toBe(60);
    expect(env.PGLITE_DIR).toBe(".data/pglite");
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it("names the variable and what it expects", () => {
    expect(() => parseEnv({ PORT: "eighty" })).toThrow(/PORT: expected a whole number from 1 to 65535/);
    expect(() => parseEnv({ LOCKOUT_THRESHOLD: "0" })).toThrow(/LOCKOUT_THRESHOLD/);
    expect(() => parseEnv({ SESSION_IDLE_MINUTES: "0" })).toThrow(/SESSION_IDLE_MINUTES: expected a whole number from 1 to 1440/);
    expect(parseEnv({ SESSION_IDLE_MINUTES: " 15 " }).SESSION_IDLE_MINUTES).toBe(15);
    expect(() => parseEnv({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL: expected a postgres:\/\//);
    expect(() => parseEnv({ NEXTAUTH_SECRET: "short" })).toThrow(/NEXTAUTH_SECRET: expected at least 32 characters/);
  });
});

describe("completeEnv", () => {
  const saved = { NEXTAUTH_URL: process.env.NEXTAUTH_URL, NEXTAUTH_SECRET: process.env.NEXTAUTH_SECRET };
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    completeEnv({});
  });

  it("completes what env() already parsed, and sets it where NextAuth reads it", () => {
    delete process.env.NEXTAUTH_URL;
    completeEnv({});
    expect(env().NEXTAUTH_URL).toBeUndefined();
    const completed = completeEnv({ NEXTAUTH_URL: "https://logs.example.com", NEXTAUTH_SECRET: "s".repeat(32) });
    expect(completed.NEXTAUTH_URL).toBe("https://logs.example.com");
    expect(env().NEXTAUTH_SECRET).toBe("s".repeat(32));
    expect(process.env.NEXTAUTH_URL).toBe("https://logs.example.com");
    // Modules read the completed value through env(): the public URL here.
    expect(isSameOriginRequest(new Headers({ origin: "https://logs.example.com", host: "10.0.0.5:3000" }))).toBe(true);
  });

  it("refuses a value the configuration would refuse, and changes nothing", () => {
    const before = process.env.NEXTAUTH_SECRET;
    expect(() => completeEnv({ NEXTAUTH_SECRET: "short" })).toThrow(ConfigurationError);
    expect(process.env.NEXTAUTH_SECRET).toBe(before);
  });
});
