// A provider's SDK is loaded when the first store of its kind builds a client, not when the operator starts:
// an operator whose stores are all AWS never pays for GCP's grpc and protobuf stack, nor the other way round.
import { Unavailable } from './errors.ts';

/**
 * The provider's client module. A module that fails to load (a broken install, an image missing a package)
 * becomes an Unavailable error on the store that needed it, reported in its conditions, not a crash.
 */
export async function loadClientModule<M>(provider: string, load: () => Promise<M>): Promise<M> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new Unavailable(`the ${provider} client library could not be loaded`, {
      provider,
      ...(typeof code === 'string' ? { code } : {}),
    });
  }
}
