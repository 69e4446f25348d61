// A real Verdaccio registry on loopback for the registry tests: random free port, temporary storage and config,
// htpasswd authentication with one user, no uplinks (nothing leaves the machine).
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { join } from "node:path";

export interface TestRegistry {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** Folder where Verdaccio keeps packages (`<storage>/@scope/name/name-1.0.0.tgz`). */
  readonly storage: string;
  /** Log in through the registry's own API; returns the bearer token it issues. */
  login(user: string, password: string): Promise<string>;
  close(): Promise<void>;
}

export const USER = "alice";
export const PASSWORD = "correct-horse-battery";

export async function startRegistry(dir: string): Promise<TestRegistry> {
  mkdirSync(dir, { recursive: true });
  const storage = join(dir, "storage");
  const htpasswd = join(dir, "htpasswd");
  // Verdaccio's htpasswd plugin accepts the `{SHA}` (base64 SHA-1) scheme, which needs no bcrypt here.
  writeFileSync(htpasswd, `${USER}:{SHA}${createHash("sha1").update(PASSWORD).digest("base64")}:autocreated ${new Date().toISOString()}\n`);
  const require = createRequire(import.meta.url);
  const { runServer } = require("verdaccio") as { runServer: (config: unknown) => Promise<Server> };
  const config = {
    self_path: join(dir, "config.yaml"),
    storage,
    auth: { htpasswd: { file: htpasswd, max_users: -1 } },
    uplinks: {},
    packages: {
      "@*/*": { access: "$all", publish: "$authenticated", unpublish: "$authenticated" },
      "**": { access: "$all", publish: "$authenticated", unpublish: "$authenticated" },
    },
    log: { type: "stdout", format: "pretty", level: "error" },
    web: { enable: false },
  };
  const server = await runServer(config);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    storage,
    async login(user, password) {
      const res = await fetch(`${url}-/user/org.couchdb.user:${user}`, {
        method: "PUT",
        headers: { "content-type": "application/json", authorization: "Basic " + Buffer.from(`${user}:${password}`).toString("base64") },
        body: JSON.stringify({ name: user, password }),
      });
      const body = (await res.json()) as { token?: string; error?: string };
      if (!res.ok || !body.token) throw new Error(`login failed: HTTP ${res.status} ${body.error ?? ""}`);
      return body.token;
    },
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
