// What every source yields: the deploy values by canonical key, plus what the source knows about the
// deployment (govc `Deployment`, OVF environment adapters, govc `NetworkMapping`).
import type { PropertyKey } from '../properties/table.js';
import type { Result } from '../core/result.js';

export type Format = 'ovf-env' | 'govc' | 'json' | 'python-dict';

export interface Adapter {
  readonly mac: string;
  readonly network: string;
  readonly unitNumber?: string;
}

export interface NetworkMap {
  readonly name: string;
  readonly network: string;
}

/** A remark about the input itself (e.g. a recovered quote); shown as a warning. */
export interface SourceNote {
  readonly rule: string;
  readonly keys: readonly PropertyKey[];
  readonly message: string;
  readonly hint?: string;
}

export interface DeployDocument {
  readonly format: Format;
  readonly origin: string;
  readonly values: ReadonlyMap<PropertyKey, string | null>;
  /** Keys that are not properties of this appliance, as written. */
  readonly unknownKeys: readonly string[];
  readonly deployment?: string;
  readonly adapters?: readonly Adapter[];
  readonly networkMapping?: readonly NetworkMap[];
  readonly notes: readonly SourceNote[];
}

/**
 * Where the OVF values come from. `read` yields the raw text (the format is detected from it);
 * files and stdin today, guestinfo and the "OVF ENV" ISO for first boot.
 */
export interface Source {
  readonly origin: string;
  read(): Promise<Result<string>>;
}

/** Largest document accepted: ~20 properties of at most 64 KiB each, with room to spare. */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;
