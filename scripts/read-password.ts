import readline from "node:readline";
import { UsageError } from "./cli";

export async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function promptHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const output = rl as unknown as { _writeToOutput: (text: string) => void };
    let prompting = true;
    output._writeToOutput = (text: string) => {
      // Echo the prompt itself, nothing that is typed after it.
      if (prompting) process.stdout.write(text);
    };
    rl.question(question, (answer) => {
      rl.close();
      process.stdout.write("\n");
      resolve(answer);
    });
    prompting = false;
  });
}

/** The password from standard input (`--password-stdin`) or a prompt without echo. */
export async function readPassword({ fromStdin, confirm }: { fromStdin: boolean; confirm: boolean }): Promise<string> {
  if (fromStdin) return (await readAllStdin()).replace(/\r?\n$/, "");
  if (!process.stdin.isTTY) throw new UsageError("No terminal to prompt on: pipe the password and pass --password-stdin.");
  const password = await promptHidden("Password: ");
  if (confirm && (await promptHidden("Repeat password: ")) !== password) throw new UsageError("The passwords do not match.");
  return password;
}
