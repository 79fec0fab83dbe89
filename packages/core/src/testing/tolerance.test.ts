import { describe, expect, it } from 'vitest';
import { expectArrayClose } from './assertions.js';
import { tolerance } from './tolerance.js';

describe('tolerance', () => {
  it('follows the float precision: 16-bit backends get looser bounds, in the same order', () => {
    for (const p of [16, 32] as const) {
      expect(tolerance('kernel', p)).toBeLessThan(tolerance('forward', p));
      expect(tolerance('forward', p)).toBeLessThan(tolerance('gradient', p));
    }
    expect(tolerance('kernel', 16)).toBeGreaterThan(tolerance('kernel', 32));
    expect(tolerance('gradient', 32)).toBe(1e-3);
  });

  it("is expectArrayClose's default on the active backend (cpu: float32)", () => {
    expect(() => expectArrayClose([1 + 5e-6], [1])).not.toThrow();
    expect(() => expectArrayClose([1 + 5e-5], [1])).toThrow(/not close at flat index 0/);
  });
});
