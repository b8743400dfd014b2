// The same from CommonJS.
import sdk = require("codex-app-server-sdk");

export async function main(): Promise<string | null> {
  const codex = await sdk.Codex.start();
  try {
    return (await (await codex.startThread()).run("hello")).finalResponse;
  } finally {
    await codex.close();
  }
}
