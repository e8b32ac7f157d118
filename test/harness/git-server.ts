/**
 * A Git server over HTTP on loopback: `git http-backend` (CGI) behind a small node:http server,
 * serving bare repositories (clone, fetch and push; smart protocol). Helpers create a repo from
 * a directory or files and commit + push further changes through the server.
 */
import { execFile, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** Files by relative path; `null` deletes the file in {@link GitServer.commit}. */
export type GitFiles = Readonly<Record<string, string | Uint8Array | null>>;

/** A running Git server. */
export interface GitServer {
  /** Base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Clone URL of repository `name` (`<url>/<name>.git`). */
  repoUrl(name: string): string;
  /**
   * Creates bare repo `name` with one commit on `branch` (default `main`) holding `content`
   * (a directory to copy, `.git/` excluded, or files); pushes it over HTTP. Returns the commit SHA.
   */
  createRepo(name: string, content: string | GitFiles, branch?: string): Promise<string>;
  /** Writes/deletes `files` in repo `name`, commits and pushes to `branch`. Returns the commit SHA. */
  commit(name: string, files: GitFiles, message?: string, branch?: string): Promise<string>;
  /** Tags the last commit made in repo `name` (lightweight tag) and pushes the tag. */
  tag(name: string, tag: string): Promise<void>;
  /** Stops the server and removes its repositories. */
  close(): Promise<void>;
}

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "kclrun test", GIT_AUTHOR_EMAIL: "test@kclrun.invalid",
  GIT_COMMITTER_NAME: "kclrun test", GIT_COMMITTER_EMAIL: "test@kclrun.invalid",
  GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0",
};

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec("git", ["-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", ...args], { cwd, env: gitEnv });
  return stdout.trim();
}

/** Runs one request through `git http-backend` and streams the CGI response back. */
function cgi(root: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, GIT_PROJECT_ROOT: root, GIT_HTTP_EXPORT_ALL: "1",
    REQUEST_METHOD: req.method ?? "GET", PATH_INFO: decodeURIComponent(url.pathname), QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers["content-type"] ?? "", REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1", REMOTE_USER: "kclrun-test",
    HTTP_CONTENT_ENCODING: req.headers["content-encoding"] ?? "", GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
  };
  if (req.headers["content-length"]) env.CONTENT_LENGTH = req.headers["content-length"];
  const child = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "inherit"] });
  req.pipe(child.stdin);
  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on("data", (chunk: Buffer) => {
    if (headersDone) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const sep = head.indexOf("\r\n\r\n") >= 0 ? head.indexOf("\r\n\r\n") : head.indexOf("\n\n");
    if (sep < 0) return;
    const sepLen = head[sep] === 13 ? 4 : 2;
    let status = 200;
    for (const line of head.subarray(0, sep).toString("latin1").split(/\r?\n/)) {
      const i = line.indexOf(":");
      const [k, v] = [line.slice(0, i).trim(), line.slice(i + 1).trim()];
      if (k.toLowerCase() === "status") status = Number.parseInt(v, 10);
      else res.setHeader(k, v);
    }
    headersDone = true;
    res.writeHead(status);
    res.write(head.subarray(sep + sepLen));
  });
  child.on("close", () => (headersDone ? res.end() : res.writeHead(500).end("git http-backend produced no headers\n")));
  child.on("error", () => res.writeHead(500).end());
}

/** Options for {@link startGitServer}. */
export interface GitServerOptions {
  /** Require HTTP Basic auth with these credentials on every request (401 with a Basic challenge otherwise). */
  auth?: { username: string; password: string };
}

/** Starts a Git HTTP server on 127.0.0.1 with an empty repository root. */
export async function startGitServer(opts: GitServerOptions = {}): Promise<GitServer> {
  const base = mkdtempSync(join(tmpdir(), "kclrun-git-"));
  const root = join(base, "repos");
  const work = join(base, "work");
  mkdirSync(root);
  mkdirSync(work);
  const authHeader = opts.auth && `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString("base64")}`;
  const server = createServer((req, res) => {
    if (authHeader && req.headers.authorization !== authHeader) {
      req.resume();
      return void res.writeHead(401, { "WWW-Authenticate": 'Basic realm="kclrun-test"' }).end("authentication required\n");
    }
    cgi(root, req, res);
  });
  // The helpers' own pushes authenticate like any client.
  const authArgs = authHeader ? ["-c", `http.extraHeader=Authorization: ${authHeader}`] : [];
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  server.unref();
  const addr = server.address();
  const url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  const repoUrl = (name: string) => `${url}/${name}.git`;

  const writeFiles = async (dir: string, files: GitFiles) => {
    for (const [rel, data] of Object.entries(files)) {
      const path = join(dir, rel);
      if (data === null) await rm(path, { force: true });
      else {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, data);
      }
    }
  };
  const commitAndPush = async (dir: string, message: string, branch: string) => {
    await git(dir, "add", "-A");
    await git(dir, "commit", "--allow-empty", "-q", "-m", message);
    await git(dir, ...authArgs, "push", "-q", "origin", `HEAD:refs/heads/${branch}`);
    return git(dir, "rev-parse", "HEAD");
  };

  return {
    url,
    repoUrl,
    async createRepo(name, content, branch = "main") {
      const bare = join(root, `${name}.git`);
      await git(root, "init", "-q", "--bare", bare);
      await git(bare, "config", "http.receivepack", "true");
      await git(bare, "symbolic-ref", "HEAD", `refs/heads/${branch}`);
      const dir = join(work, name);
      await git(work, "init", "-q", "-b", branch, dir);
      if (typeof content === "string") cpSync(content, dir, { recursive: true, filter: (src) => !relative(content, src).split(sep).includes(".git") });
      else await writeFiles(dir, content);
      await git(dir, "remote", "add", "origin", repoUrl(name));
      return commitAndPush(dir, "initial commit", branch);
    },
    async commit(name, files, message = "update", branch = "main") {
      const dir = join(work, name);
      await writeFiles(dir, files);
      return commitAndPush(dir, message, branch);
    },
    async tag(name, tag) {
      const dir = join(work, name);
      await git(dir, "tag", tag);
      await git(dir, ...authArgs, "push", "-q", "origin", `refs/tags/${tag}`);
    },
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      rmSync(base, { recursive: true, force: true });
    },
  };
}
