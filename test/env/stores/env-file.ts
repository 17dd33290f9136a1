// For `cli.ts up`: the stores' coordinates as a shell file, so a person (or another test run, through the
// SECRETLINK_* variables) can use them. It holds the Vault token, so it is private to its owner and only its
// path is printed.
import fs from 'node:fs/promises';
import { type StoreCoordinates, externalStoreVariables as variables } from './coordinates.ts';

export async function writeStoresEnvFile(file: string, stores: StoreCoordinates): Promise<void> {
  const lines = [
    `${variables.awsEndpoint}=${stores.aws.endpoint}`,
    `${variables.awsRegion}=${stores.aws.region}`,
    `${variables.gcpEndpoint}=${stores.gcp.endpoint}`,
    `${variables.gcpProject}=${stores.gcp.projectID}`,
    `${variables.vaultAddress}=${stores.vault.address}`,
    `${variables.vaultToken}=${stores.vault.rootToken}`,
    // The Vault CLI's own names, for poking at the dev server by hand.
    `VAULT_ADDR=${stores.vault.address}`,
    `VAULT_TOKEN=${stores.vault.rootToken}`,
  ];
  await fs.writeFile(file, `${lines.map((line) => `export ${line}`).join('\n')}\n`, { mode: 0o600 });
}
