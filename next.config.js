// Client hints let the log tell Windows 11 from 10 and give full browser versions;
// Chromium sends them on later requests to this origin, including the sign-in POST.
const clientHints = [
  "Sec-CH-UA-Platform-Version",
  "Sec-CH-UA-Full-Version-List",
  "Sec-CH-UA-Model",
  "Sec-CH-UA-Mobile",
  "Sec-CH-UA-Platform",
].join(", ");

/** @type {import('next').NextConfig} */
module.exports = {
  // PGlite ships wasm and data files that must be loaded from node_modules, not bundled.
  // prom-client keeps its metrics in one registry that the custom server reads: load it from
  // node_modules, not as a bundled copy.
  serverExternalPackages: ["@electric-sql/pglite", "prom-client"],
  poweredByHeader: false,
  // forbidden() answers 403 for signed-in users who are not admins.
  // The server caps every body before Next.js reads it (lib/http/request-limits.ts); this is
  // Next.js's own cap for server actions, at the same 64 KB.
  experimental: { authInterrupts: true, serverActions: { bodySizeLimit: "64kb" } },
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "Accept-CH", value: clientHints },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "X-Frame-Options", value: "DENY" },
          { key: "Referrer-Policy", value: "same-origin" },
          { key: "Content-Security-Policy", value: "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'" },
        ],
      },
    ];
  },
};
