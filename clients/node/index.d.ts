// Types of @rexec/child_process: Node's child_process functions and classes
// are @types/node's own (the same signatures, the same ChildProcess), and
// then what this library adds: createClient, tokenCredentials and status.
import type * as local from 'node:child_process';
import type { CallCredentials, ChannelCredentials, ChannelOptions, status as grpcStatus } from '@grpc/grpc-js';

export * from 'node:child_process';

export interface ClientOptions {
  /** `host:port` or `unix:/path`; default REXEC_SERVER, else unix:/run/rexec/rexecd.sock. */
  server?: string;
  /** Default: TLS when REXEC_TLS_CA is set, else insecure. */
  credentials?: ChannelCredentials;
  /** A bearer token, sent as `authorization: Bearer TOKEN` (over TLS only). */
  token?: string;
  channelOptions?: ChannelOptions;
  /** Calls one connection carries before another is opened; default 100 (rexecd's --max-streams-per-connection). */
  maxCallsPerConnection?: number;
  /** The largest message, in bytes, a call takes from the server (fork's calls at least 32 MiB); default 4 MiB. */
  receiveLimit?: number;
  /** While a call is open, ping the server after this many ms without a byte from it, to find a server that froze or vanished; 0: never. Default 30000. */
  keepaliveTime?: number;
  /** Give the connection up (its calls fail UNAVAILABLE) when a ping is not answered in this many ms. Default 20000. */
  keepaliveTimeout?: number;
  /** What a child started without `env` gets: the server's environment, or ours (process.env); default REXEC_CHILD_ENV, else 'server'. */
  childEnv?: 'server' | 'caller';
}

/** Node's child_process functions, with the children on one server. */
export interface Client extends Pick<typeof local,
  'spawn' | 'exec' | 'execFile' | 'fork' | 'spawnSync' | 'execSync' | 'execFileSync' | 'ChildProcess'> {
  /** Ends the client's connections; calls still running fail UNAVAILABLE. */
  close(): void;
}

export function createClient(options?: ClientOptions): Client;
export function tokenCredentials(token: string): CallCredentials;
/** grpc.status, to compare an error's cause.code with. */
export const status: typeof grpcStatus;
