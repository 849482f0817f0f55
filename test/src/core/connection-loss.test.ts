// Which errors mean the connection to PostgreSQL is gone (SPEC: a lost connection is reported as
// such, never as the hook or statement failure it caused).
import { BulkHookError, ConnectionLostError } from '@cohort/core';
import { connectionLoss } from '@cohort/core/adapter';
import { describe, expect, it } from 'vitest';

const named = (name: string, message = 'x') => Object.assign(new Error(message), { name });
const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('connectionLoss', () => {
  it.each([
    ['57P01 (the backend was terminated)', coded('57P01')],
    ['08006 (connection failure)', coded('08006')],
    ['ECONNRESET from the socket', coded('ECONNRESET')],
    ["node-postgres' terminated connection", new Error('Connection terminated unexpectedly')],
    ["TypeORM's released query runner", named('QueryRunnerAlreadyReleasedError')],
    [
      "TypeORM's released runner provider",
      named(
        'QueryRunnerProviderAlreadyReleasedError',
        'Database connection provided by a query runner was already released, cannot continue to use its querying methods anymore.',
      ),
    ],
    ["MikroORM's broken client", new Error('Client has encountered a connection error and is not queryable')],
  ])('recognises %s', (_what, error) => {
    expect(connectionLoss(error)).toBe(error);
  });

  it('finds the loss behind a hook failure and a driverError', () => {
    const lost = coded('57P01', 'terminating connection due to administrator command');
    const driverWrapped = Object.assign(new Error('query failed'), { driverError: lost });
    const hook = new BulkHookError('afterInsert', { batch: 0 }, driverWrapped);
    expect(connectionLoss(hook)).toBe(lost);
  });

  it.each([
    ['a unique violation', coded('23505', 'duplicate key value violates unique constraint')],
    ['a deadlock', coded('40P01', 'deadlock detected')],
    ['a hook that throws its own error', new Error('audit service refused')],
    ['a value that is not an error', 'Connection terminated'],
  ])('does not take %s for a lost connection', (_what, error) => {
    expect(connectionLoss(error)).toBeUndefined();
  });

  it('ConnectionLostError names the batch and says nothing committed', () => {
    const error = new ConnectionLostError(coded('57P01', 'terminating'), { batch: 3 }, false);
    expect(error.message).toMatch(/batch 3 in flight.*nothing of the call was committed/);
    expect(error.code).toBe('57P01');
  });
});
