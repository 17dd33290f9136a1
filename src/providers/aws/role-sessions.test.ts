import type { STSClient } from '@aws-sdk/nested-clients/sts';
import { describe, expect, it } from 'vitest';
import { InvalidReference, RemoteNotAllowed } from '../errors.ts';
import type { LeaseRequest } from '../types.ts';
import { AwsRoleSessions, sessionName } from './role-sessions.ts';

const role = 'arn:aws:iam::123456789012:role/elt-s3-reader';
const now = Date.parse('2026-11-30T12:00:00Z');

/** An STS stand-in that records what it was asked and grants exactly the duration asked. */
function fakeSts() {
  const asked: Record<string, unknown>[] = [];
  const sts = {
    send: async (command: { input: Record<string, unknown> }) => {
      asked.push(command.input);
      return {
        Credentials: {
          AccessKeyId: 'ASIATEST',
          SecretAccessKey: 'secret',
          SessionToken: 'token',
          Expiration: new Date(now + Number(command.input.DurationSeconds) * 1000),
        },
      };
    },
  } as unknown as STSClient;
  return { sts, asked };
}

const request = (roleArn: string, maxSeconds: number): LeaseRequest => ({
  source: { kind: 'awsRole', roleArn },
  maxSeconds,
  holder: { namespace: 'etl', reference: 's3', job: { name: 'extract-s3', uid: 'u1' } },
});

describe('AWS role sessions', () => {
  it('asks STS for a listed role, for the bound, in a session named after the Job', async () => {
    const { sts, asked } = fakeSts();
    const issued = await new AwsRoleSessions(sts, [role], () => now).issue(request(role, 1800));
    expect(asked).toEqual([
      { RoleArn: role, RoleSessionName: 'secretlink-etl.extract-s3', DurationSeconds: 1800 },
    ]);
    expect(issued.expiresAt).toBe(now + 1_800_000);
    expect(Object.keys(issued.fields)).toEqual(['accessKeyId', 'secretAccessKey', 'sessionToken']);
  });

  it('refuses a role the store does not list, and a bound shorter than STS allows, without calling STS', async () => {
    const { sts, asked } = fakeSts();
    const sessions = new AwsRoleSessions(sts, [role], () => now);
    await expect(
      sessions.issue(request('arn:aws:iam::123456789012:role/admin', 1800)),
    ).rejects.toBeInstanceOf(RemoteNotAllowed);
    await expect(sessions.issue(request(role, 899))).rejects.toBeInstanceOf(InvalidReference);
    expect(asked).toEqual([]);
  });

  it('keeps session names within what STS accepts', () => {
    const name = sessionName({ namespace: 'n'.repeat(60), reference: 'r', job: { name: 'a/b c', uid: 'u' } });
    expect(name.length).toBeLessThanOrEqual(64);
    expect(name).toMatch(/^[\w+=,.@-]+$/);
  });
});
