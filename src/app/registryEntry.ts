/** What the extension remembers about a connected registry (never a secret: those live in SecretStorage). */
export type PresetId = 'dockerhub' | 'ghcr' | 'quay' | 'gitlab' | 'harbor' | 'generic' | 'local';

export interface TlsOptions {
  /** A PEM file with the CA that signed the registry's certificate, trusted in addition to the system's. */
  caFile?: string;
  /** Accept any certificate. Only ever set by the user, with a warning. */
  skipVerify?: boolean;
}

export interface RegistryEntry {
  /** Stable key: the normalised server (`ghcr.io`, `127.0.0.1:5000`), or `local` for the embedded registry. */
  id: string;
  label: string;
  /** host[:port], without scheme. */
  server: string;
  preset: PresetId;
  username?: string;
  email?: string;
  /** Plain HTTP (loopback registries, or when the user asks). */
  insecureHttp?: boolean;
  tls?: TlsOptions;
}

export const LOCAL_REGISTRY_ID = 'local';

export function isLocalEntry(e: RegistryEntry): boolean {
  return e.id === LOCAL_REGISTRY_ID;
}
