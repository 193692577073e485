import fs from "node:fs";
import http from "node:http";

/**
 * Signing in over HTTP as the sign-in form does, and a bare HTTP client: for the attack suite,
 * the integration tests of the server and the benchmark.
 *
 * A bare HTTP client: every header as given (including Host, Origin and cookies), no redirects
 * followed, no cookie jar. The attacks need exactly what a script would send, not a browser.
 */
export type RawResponse = {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Each Set-Cookie header as sent. */
  setCookies: string[];
  body: string;
  /** Wall time from sending the request to the end of the body, in milliseconds. */
  ms: number;
};

// A new connection per request: a kept-alive socket the server has just closed would fail a
// POST with ECONNRESET, which is the client's problem, not the app's.
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

export function request(
  url: string,
  { method = "GET", headers = {}, body }: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const outgoing = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method,
        agent,
        headers: {
          ...(body !== undefined && { "content-length": String(Buffer.byteLength(body)) }),
          ...headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () => {
          const setCookie = response.headers["set-cookie"];
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            setCookies: Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [],
            body: Buffer.concat(chunks).toString("utf8"),
            ms: Number(process.hrtime.bigint() - started) / 1e6,
          });
        });
      },
    );
    outgoing.on("error", reject);
    if (body !== undefined) outgoing.write(body);
    outgoing.end();
  });
}

export function cookieNames(response: RawResponse): string[] {
  return response.setCookies.map((cookie) => cookie.split("=", 1)[0]!).sort();
}

/** `name=value` pairs of the response's cookies, for a Cookie header. */
export function cookiePairs(response: RawResponse): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const cookie of response.setCookies) {
    const [pair] = cookie.split(";", 1);
    const at = pair!.indexOf("=");
    pairs[pair!.slice(0, at)] = pair!.slice(at + 1);
  }
  return pairs;
}

export function cookieHeader(cookies: Record<string, string>): string {
  return Object.entries(cookies)
    .map(([name, value]) => `${name}=${value}`)
    .join("; ");
}

export function sessionCookieOf(response: RawResponse): string | undefined {
  const entry = Object.entries(cookiePairs(response)).find(([name]) => name.endsWith("next-auth.session-token"));
  return entry && entry[1] !== "" ? `${entry[0]}=${entry[1]}` : undefined;
}

/** Where `newClientIp` keeps its count across a run's worker processes, when the run sets it. */
export const CLIENT_IP_COUNTER_ENV = "ACCOUNT_LOGS_CLIENT_IP_COUNTER";
let ipsHandedOut = 0;

/**
 * An address for a simulated client behind a trusted loopback proxy: 198.18.0.0/15 is reserved
 * for benchmarking, so no real client has one. With a counter file, a worker that restarts
 * after a failed test never hands out an address again.
 */
export function newClientIp(): string {
  const counterFile = process.env[CLIENT_IP_COUNTER_ENV];
  let n = ipsHandedOut++;
  if (counterFile) {
    n = fs.existsSync(counterFile) ? Number(fs.readFileSync(counterFile, "utf8")) : 0;
    fs.writeFileSync(counterFile, String(n + 1));
  }
  return `198.${18 + ((n >> 16) & 1)}.${(n >> 8) & 255}.${n & 255}`;
}

/** One client of the sign-in endpoint: its CSRF token and cookie, its address and user agent. */
export type SignInClient = {
  baseUrl: string;
  csrfToken: string;
  cookies: Record<string, string>;
  /** Sent as X-Forwarded-For: the client address on a server that trusts the loopback proxy. */
  ip?: string;
  userAgent?: string;
};

export async function newSignInClient(baseUrl: string, options: { ip?: string; userAgent?: string } = {}): Promise<SignInClient> {
  const response = await request(`${baseUrl}/api/auth/csrf`, { headers: clientHeaders(options) });
  if (response.status !== 200) throw new Error(`GET /api/auth/csrf answered ${response.status}`);
  const { csrfToken } = JSON.parse(response.body) as { csrfToken: string };
  return { baseUrl, csrfToken, cookies: cookiePairs(response), ...options };
}

function clientHeaders({ ip, userAgent }: { ip?: string; userAgent?: string }): Record<string, string> {
  return {
    ...(ip && { "x-forwarded-for": ip }),
    "user-agent": userAgent ?? "account-logs-security-suite",
  };
}

export type SignInResult = RawResponse & {
  /** The error code NextAuth put in its answer (`CredentialsSignin`, `AccountLocked`, …), if any. */
  error: string | null;
  /** The answer's redirect target: the JSON `url`, or Location for a form post. */
  redirect: string | null;
  session: string | undefined;
};

/** A credentials POST as the sign-in form sends it (JSON answer), or as a plain form post. */
export async function postCredentials(
  client: SignInClient,
  fields: Record<string, string>,
  { json = true, headers = {}, csrf = true }: { json?: boolean; headers?: Record<string, string>; csrf?: boolean } = {},
): Promise<SignInResult> {
  const form = new URLSearchParams({ ...(csrf && { csrfToken: client.csrfToken }), ...fields, ...(json && { json: "true" }) });
  const response = await request(`${client.baseUrl}/api/auth/callback/credentials`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: cookieHeader(client.cookies),
      ...clientHeaders(client),
      ...headers,
    },
    body: form.toString(),
  });
  let redirect: string | null = typeof response.headers.location === "string" ? response.headers.location : null;
  if (json && response.headers["content-type"]?.includes("json")) {
    redirect = (JSON.parse(response.body) as { url?: string }).url ?? null;
  }
  let error: string | null = null;
  if (redirect) {
    try {
      error = new URL(redirect, client.baseUrl).searchParams.get("error");
    } catch {
      error = null;
    }
  }
  return { ...response, error, redirect, session: sessionCookieOf(response) };
}

export function signIn(client: SignInClient, username: string, password: string, options?: Parameters<typeof postCredentials>[2]) {
  return postCredentials(client, { username, password }, options);
}

/** Signs in and returns the Cookie header of the new session; throws if no session came back. */
export async function sessionFor(baseUrl: string, username: string, password: string, ip?: string): Promise<string> {
  const client = await newSignInClient(baseUrl, { ip: ip ?? newClientIp() });
  const result = await signIn(client, username, password);
  if (!result.session) throw new Error(`${username} could not sign in: ${result.status} ${result.error}`);
  return result.session;
}
