import { DEFAULT_ELECTION, ON_LEADER_CHANGE_METADATA } from '../leader-election.constants.js';
import { SetupError } from '../leader-election.errors.js';
import { ON_LEADER_CHANGE_NOT_A_METHOD } from '../leader-election.messages.js';
import { checkNameArgument } from './name-argument.js';

/**
 * Calls the method with every `LeaderChangeEvent` of `election` (default: the unnamed election),
 * on every instance, in order, starting with the first one. Errors (sync or async) are logged,
 * never thrown. Handlers are registered before the elector starts, so no event is missed.
 *
 * @example
 * ```ts
 * @OnLeaderChange()
 * onChange(event: LeaderChangeEvent) {
 *   this.logger.log(event.isLeader ? 'leading' : `following ${event.leader}`);
 * }
 * ```
 */
export function OnLeaderChange(election: string = DEFAULT_ELECTION): MethodDecorator {
  checkNameArgument('@OnLeaderChange(election)', 'election', election);
  return (target, key, descriptor) => {
    if (!descriptor || typeof descriptor.value !== 'function') {
      throw new SetupError(ON_LEADER_CHANGE_NOT_A_METHOD(target.constructor.name, String(key)));
    }
    const existing: string[] =
      Reflect.getOwnMetadata(ON_LEADER_CHANGE_METADATA, descriptor.value) ?? [];
    Reflect.defineMetadata(ON_LEADER_CHANGE_METADATA, [...existing, election], descriptor.value);
    return descriptor;
  };
}
