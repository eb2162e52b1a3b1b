// How the config keeps a secret: readable by name, invisible to logging and copying.
import { inspect } from 'node:util';
import { defineHidden } from '../../lib/config/define-hidden';

describe('defineHidden', () => {
  it('keeps the value readable by name and out of keys, JSON, inspect and spreads', () => {
    const config: Record<string, unknown> = { user: 'alice' };
    defineHidden(config, 'password', 's3cret');
    expect(config['password']).toBe('s3cret');
    expect(Object.keys(config)).toEqual(['user']);
    expect(JSON.stringify(config)).not.toContain('s3cret');
    expect(inspect(config)).not.toContain('s3cret');
    expect({ ...config }).toEqual({ user: 'alice' });
  });

  it('cannot be overwritten or deleted afterwards', () => {
    const config: Record<string, unknown> = {};
    defineHidden(config, 'password', 'a');
    expect(() => {
      'use strict';
      config['password'] = 'b';
    }).toThrow(TypeError);
    expect(config['password']).toBe('a');
  });
});
