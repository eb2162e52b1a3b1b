import { inspect } from 'node:util';
import { ConfigError } from '../../lib/errors/config-error';

/**
 * Runs `action`, expects it to throw a ConfigError naming `setting`, and checks that none of
 * the `secrets` appear in the message, `String(err)`, `JSON.stringify(err)`, or
 * `util.inspect(err)` (which also shows the stack and the cause chain).
 */
export function expectConfigError(action: () => unknown, setting: string, secrets: readonly string[] = []): ConfigError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  return checkConfigError(caught, setting, secrets);
}

/** As {@link expectConfigError}, for a promise that must reject. */
export async function expectConfigErrorAsync(
  action: () => Promise<unknown>,
  setting: string,
  secrets: readonly string[] = [],
): Promise<ConfigError> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  return checkConfigError(caught, setting, secrets);
}

function checkConfigError(caught: unknown, setting: string, secrets: readonly string[]): ConfigError {
  expect(caught).toBeInstanceOf(ConfigError);
  const error = caught as ConfigError;
  expect(error.setting).toBe(setting);
  expect(error.name).toBe('ConfigError');
  const renderings = [error.message, String(error), JSON.stringify(error), inspect(error, { depth: 5 }), error.stack ?? ''];
  for (const secret of secrets) {
    for (const rendering of renderings) expect(rendering).not.toContain(secret);
  }
  return error;
}
