// For reconciler tests whose references ask for no dynamic credential: the lease seams of a ValueSource,
// failing loudly if a reconcile reaches them anyway.
import type { ValueSource } from '../../src/controller/ports.ts';

export const noLeases: Pick<ValueSource, 'issueLease' | 'revokeLease' | 'renewLease'> = {
  issueLease: async () => {
    throw new Error('this test issues no dynamic credential');
  },
  revokeLease: async () => {
    throw new Error('this test revokes no dynamic credential');
  },
  renewLease: async () => {
    throw new Error('this test renews no dynamic credential');
  },
};
