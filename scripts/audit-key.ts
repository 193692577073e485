import { createPublicKey } from "node:crypto";
import { parseArgs } from "node:util";
import { configuredSigningKey, keyIdOf, newSigningKeyPem, parseSigningKey, SigningKeyError } from "@/lib/audit/checkpoints";
import { runCli, UsageError } from "./cli";

const USAGE = "Usage: npm run audit:key [-- --new]";

/**
 * Prints the public key that checks the checkpoints' signatures (give it to auditors, or to
 * `audit:verify --public-key` on another machine), with its key ID. `--new` prints a new private
 * key for AUDIT_SIGNING_KEY instead, for a first setup or a rotation (docs/audit.md).
 */
runCli(
  async () => {
    let options;
    try {
      ({ values: options } = parseArgs({ options: { new: { type: "boolean", default: false } } }));
    } catch (error) {
      throw new UsageError(`${(error as Error).message}\n${USAGE}`);
    }
    if (options.new) {
      const privatePem = newSigningKeyPem();
      const key = parseSigningKey(privatePem);
      console.error(`A new signing key, ID ${keyIdOf(key)}. Set it as AUDIT_SIGNING_KEY on every app instance; keep it out of the database and its backups.`);
      console.log(privatePem.trim());
      console.log(createPublicKey(key).export({ type: "spki", format: "pem" }).toString().trim());
      return;
    }
    let signing;
    try {
      signing = configuredSigningKey();
    } catch (error) {
      if (error instanceof SigningKeyError) throw new UsageError(error.message);
      throw error;
    }
    if (!signing) {
      throw new UsageError("No signing key is configured: set AUDIT_SIGNING_KEY (npm run audit:key -- --new makes one).");
    }
    console.error(`Key ID ${keyIdOf(signing.key)}, from ${signing.source}.`);
    console.log(createPublicKey(signing.key).export({ type: "spki", format: "pem" }).toString().trim());
  },
  { database: false },
);
