// GCP Secret Manager (the emulator) through the shared conformance cases. The emulator has no IAM, so the
// access-denied case cannot run against it.
import { gcpFixture } from '../conformance/gcp.ts';
import { runConformance } from '../conformance/suite.ts';

runConformance({
  name: 'gcp',
  supports: { binary: true, accessDenied: false, batch: false, tags: true, folders: false },
  create: gcpFixture,
});
