// Where the test environment's store servers listen, in the form the fixtures and the provider benchmark use.
import type { EnvironmentInfo } from '../env/environment.ts';
import type { StoreCoordinates as EnvironmentStores } from '../env/stores/coordinates.ts';
import { environment } from '../support/cluster.ts';

export interface AwsCoordinates {
  endpoint: string;
  region: string;
}

export interface GcpCoordinates {
  /** host:port of the emulator's gRPC listener. */
  endpoint: string;
  host: string;
  port: number;
  projectID: string;
}

export interface VaultCoordinates {
  address: string;
  rootToken: string;
}

export interface StoreCoordinates {
  aws: AwsCoordinates;
  gcp: GcpCoordinates;
  vault: VaultCoordinates;
}

export function storeCoordinatesFrom(info: EnvironmentInfo): StoreCoordinates {
  const stores = (info as EnvironmentInfo & { stores?: EnvironmentStores }).stores;
  if (!stores) throw new Error('the test environment started no store servers');
  const gcp = /^(.*):(\d+)$/.exec(stores.gcp.endpoint);
  if (!gcp) throw new Error(`the GCP emulator endpoint "${stores.gcp.endpoint}" is not host:port`);
  return {
    aws: { endpoint: stores.aws.endpoint, region: stores.aws.region },
    gcp: {
      endpoint: stores.gcp.endpoint,
      host: gcp[1]!.replace(/^\[|\]$/g, ''),
      port: Number(gcp[2]),
      projectID: stores.gcp.projectID,
    },
    vault: { address: stores.vault.address, rootToken: stores.vault.rootToken },
  };
}

export function storeCoordinates(): StoreCoordinates {
  return storeCoordinatesFrom(environment());
}
