// Types of scripts/image.mjs, for the image tests.
export type Builder = 'docker' | 'buildah';

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ImageConfig {
  user: string | undefined;
  entrypoint: string[] | null | undefined;
  cmd: string[] | null | undefined;
  env: string[] | undefined;
  labels: Record<string, string>;
  size: number | undefined;
}

export interface OpenImage {
  run(argv: string[], input?: string, options?: { user?: string }): Promise<ExecResult>;
  close(): Promise<void>;
}

export declare class CommandError extends Error {
  readonly command: string;
  readonly code: number | null;
  readonly stderr: string;
}

export declare const ROOT: string;
export declare const DIGEST_LABEL: string;
export declare function imageTag(): string;
export declare function exec(
  command: string,
  args: string[],
  options?: { input?: string; timeoutMs?: number; signal?: AbortSignal; inherit?: boolean; env?: Record<string, string>; cwd?: string },
): Promise<ExecResult>;
export declare function execOk(command: string, args: string[], options?: Parameters<typeof exec>[2]): Promise<string>;
export declare function detectBuilder(options?: { signal?: AbortSignal }): Promise<Builder | undefined>;
export declare function copiedSources(dockerfile?: string): string[];
export declare function contextDigest(): string;
export declare function inspectImage(builder: Builder, tag: string, options?: { signal?: AbortSignal }): Promise<ImageConfig | undefined>;
export declare function openImage(builder: Builder, tag: string, options?: { signal?: AbortSignal }): Promise<OpenImage>;
