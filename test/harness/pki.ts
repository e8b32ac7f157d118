/**
 * Test PKI for the control plane, made with the `openssl` CLI: a CA, the kube-apiserver serving
 * certificate (127.0.0.1 / localhost), a service-account signing key, and client certificates
 * for ordinary users (CN = user name, O = groups), which the API server authenticates through
 * `--client-ca-file`.
 */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Paths of the generated PKI files. */
export interface Pki {
  /** Directory holding the files. */
  readonly dir: string;
  /** CA certificate (PEM), trusted by clients and used as the API server's client CA. */
  readonly caCert: string;
  /** CA private key. */
  readonly caKey: string;
  /** API server serving certificate. */
  readonly serverCert: string;
  /** API server serving key. */
  readonly serverKey: string;
  /** Service-account signing key (EC private key; the API server derives the public key). */
  readonly saKey: string;
}

/** A client certificate and key, PEM encoded. */
export interface ClientCert {
  /** Certificate PEM. */
  readonly cert: string;
  /** Private key PEM. */
  readonly key: string;
}

const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** Issues a certificate for a new EC key signed by the CA; returns the paths written. */
async function issue(pki: Pick<Pki, "dir" | "caCert" | "caKey">, base: string, subject: string, ext: string): Promise<{ cert: string; key: string }> {
  const key = join(pki.dir, `${base}.key`);
  const csr = join(pki.dir, `${base}.csr`);
  const cert = join(pki.dir, `${base}.crt`);
  const extFile = join(pki.dir, `${base}.ext`);
  await writeFile(extFile, ext);
  await run("openssl", ["req", "-new", ...ecKey, "-keyout", key, "-out", csr, "-subj", subject]);
  await run("openssl", ["x509", "-req", "-in", csr, "-CA", pki.caCert, "-CAkey", pki.caKey, "-set_serial", `0x${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`, "-days", "30", "-extfile", extFile, "-out", cert]);
  return { cert, key };
}

/** Creates the CA, serving certificate and service-account key in `dir`. */
export async function createPki(dir: string): Promise<Pki> {
  const caCert = join(dir, "ca.crt");
  const caKey = join(dir, "ca.key");
  await run("openssl", ["req", "-x509", ...ecKey, "-keyout", caKey, "-out", caCert, "-days", "30", "-subj", "/CN=kclrun-test-ca",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"]);
  const server = await issue({ dir, caCert, caKey }, "apiserver", "/CN=kube-apiserver",
    "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n");
  const saKey = join(dir, "sa.key");
  await run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", saKey]);
  return { dir, caCert, caKey, serverCert: server.cert, serverKey: server.key, saKey };
}

/** Issues a client certificate for `user` in `groups` (each becomes an O= attribute). */
export async function issueClientCert(pki: Pki, user: string, groups: readonly string[] = []): Promise<ClientCert> {
  const esc = (s: string) => s.replace(/[/\\=+,]/g, (c) => `\\${c}`);
  const subject = `/CN=${esc(user)}${groups.map((g) => `/O=${esc(g)}`).join("")}`;
  const base = `user-${user.replace(/[^A-Za-z0-9_.-]/g, "_")}-${Date.now()}`;
  const paths = await issue(pki, base, subject, "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n");
  return { cert: await readFile(paths.cert, "utf8"), key: await readFile(paths.key, "utf8") };
}
