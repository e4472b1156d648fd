// A decorator used wrongly fails when the class is decorated (or, for an instance Nest did not
// create, at the call) with a LeaderElectionError whose message names the decorator and the fix.
import 'reflect-metadata';
import {
  InvalidArgumentError,
  InvalidOptionError,
  LeaderElectionError,
  LeaderOnly,
  OnLeaderChange,
  SetupError,
} from '../../../lib/index.js';

/** The error `act` throws (fails the test if it throws none). */
function thrownBy(act: () => unknown): Error {
  try {
    act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

class Target {
  value = 1;
}

describe('decorator errors', () => {
  it.each([
    [
      '@LeaderOnly(election)',
      () => LeaderOnly(''),
      'election',
      '',
      '@LeaderOnly(election): election must be a non-empty string, got ',
    ],
    [
      '@LeaderOnly({ job })',
      () => LeaderOnly({ job: 7 as never }),
      'job',
      7,
      '@LeaderOnly({ job }): job must be a non-empty string, got 7',
    ],
    [
      '@OnLeaderChange(election)',
      () => OnLeaderChange(null as never),
      'election',
      null,
      '@OnLeaderChange(election): election must be a non-empty string, got null',
    ],
  ])('%s that is not a name is an InvalidArgumentError', (_, act, option, value, message) => {
    expect(act).toThrow(InvalidArgumentError);
    const error = thrownBy(act) as InvalidArgumentError;
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toBeInstanceOf(LeaderElectionError);
    expect([error.name, error.option, error.rule, error.value, error.message]).toEqual([
      'InvalidArgumentError',
      option,
      'must be a non-empty string',
      value,
      message,
    ]);
    expect(error.stack).toMatch(new RegExp(`^InvalidArgumentError: @`));
  });

  it.each([
    [
      '@LeaderOnly()',
      () => LeaderOnly()(Target.prototype, 'value', undefined as never),
      '@LeaderOnly() can only decorate methods or classes, but Target.value is not a method.',
    ],
    [
      '@OnLeaderChange()',
      () => OnLeaderChange()(Target.prototype, 'value', undefined as never),
      '@OnLeaderChange() can only decorate methods, but Target.value is not a method.',
    ],
  ])('%s on something other than a method is a SetupError', (_, act, message) => {
    expect(act).toThrow(SetupError);
    const error = thrownBy(act);
    expect(error).toBeInstanceOf(LeaderElectionError);
    expect([error.name, error.message]).toEqual(['SetupError', message]);
  });

  it('a @LeaderOnly() method of an instance Nest did not create throws a SetupError when called', () => {
    class Jobs {
      @LeaderOnly()
      run(): void {}
    }
    const jobs = new Jobs();
    expect(() => jobs.run()).toThrow(SetupError);
    const error = thrownBy(() => jobs.run());
    expect(error).toBeInstanceOf(LeaderElectionError);
    expect(error.message).toBe(
      '@LeaderOnly() on Jobs.run was called on an instance that Nest did not create in an application ' +
        'importing LeaderElectionModule.forRoot(). Register Jobs as a provider (or controller) of that application.',
    );
  });
});
