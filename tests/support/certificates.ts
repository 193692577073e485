import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * A self-signed certificate, made by openssl, as a receiver (or a client) inside a company would
 * have: by default for localhost and 127.0.0.1.
 */
export function selfSignedCertificate({ commonName = "localhost", altNames = "DNS:localhost,IP:127.0.0.1" } = {}): { key: string; cert: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "account-logs-certificate-"));
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
      "-subj", `/CN=${commonName}`, "-addext", `subjectAltName=${altNames}`,
      "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
    ], { stdio: "ignore" });
    return { key: fs.readFileSync(path.join(dir, "key.pem"), "utf8"), cert: fs.readFileSync(path.join(dir, "cert.pem"), "utf8") };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
