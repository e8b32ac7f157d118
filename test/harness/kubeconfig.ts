/** Writes kubeconfig files for the test control plane (admin token or user client certificate). */
import { writeFile } from "node:fs/promises";
import { stringify } from "yaml";

/** Credentials for one kubeconfig user: a bearer token or a client certificate. */
export type KubeconfigCredentials =
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "cert"; readonly cert: string; readonly key: string };

/** Everything needed to write a single-context kubeconfig. */
export interface KubeconfigSpec {
  /** API server URL. */
  readonly server: string;
  /** CA certificate PEM. */
  readonly ca: string;
  /** User name inside the kubeconfig (also the context name suffix). */
  readonly user: string;
  /** How the user authenticates. */
  readonly credentials: KubeconfigCredentials;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

/** Renders a kubeconfig YAML document with one cluster (`kclrun-test`), user and current context. */
export function renderKubeconfig(spec: KubeconfigSpec): string {
  const user =
    spec.credentials.kind === "token"
      ? { token: spec.credentials.token }
      : { "client-certificate-data": b64(spec.credentials.cert), "client-key-data": b64(spec.credentials.key) };
  const context = `${spec.user}@kclrun-test`;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "kclrun-test", cluster: { server: spec.server, "certificate-authority-data": b64(spec.ca) } }],
    users: [{ name: spec.user, user }],
    contexts: [{ name: context, context: { cluster: "kclrun-test", user: spec.user, namespace: "default" } }],
    "current-context": context,
  });
}

/** Writes {@link renderKubeconfig}'s output to `path` (mode 0600) and returns the path. */
export async function writeKubeconfig(path: string, spec: KubeconfigSpec): Promise<string> {
  await writeFile(path, renderKubeconfig(spec), { mode: 0o600 });
  return path;
}
