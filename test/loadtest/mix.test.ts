import { describe, expect, it } from 'vitest';
import { createPathPicker, describeMix, expandPath, parseMix } from '../../scripts/loadtest/mix.ts';

describe('parseMix', () => {
  it('reads names and weights, dropping zero weights', () => {
    expect(parseMix('health=1,product=4,list=0')).toEqual([
      { name: 'health', template: '/api/health', weight: 1 },
      { name: 'product', template: '/api/products/{product}', weight: 4 },
    ]);
    expect(describeMix(parseMix('orders'))).toBe('orders=1');
  });

  it('rejects unknown paths, bad weights and an all-zero mix', () => {
    expect(() => parseMix('nope=1')).toThrow(/unknown path "nope"/);
    expect(() => parseMix('health=x')).toThrow(/whole number/);
    expect(() => parseMix('health=0')).toThrow(/at least one/);
  });
});

describe('paths', () => {
  it('replaces each placeholder with its own random id in range', () => {
    expect(expandPath('/api/customers/{customer}/orders', { product: 10, customer: 5 }, () => 0.999)).toBe('/api/customers/5/orders');
    expect(expandPath('/p/{product}', { product: 10, customer: 5 }, () => 0)).toBe('/p/1');
  });

  it('draws paths by weight', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const next = createPathPicker(parseMix('health=1,product=3'), { product: 100, customer: 1 }, random);
    const counts = { health: 0, product: 0 };
    for (let i = 0; i < 20_000; i++) counts[next() === '/api/health' ? 'health' : 'product']++;
    expect(counts.product / counts.health).toBeGreaterThan(2.7);
    expect(counts.product / counts.health).toBeLessThan(3.3);
  });

  it('gives fresh ids on every call', () => {
    const next = createPathPicker(parseMix('product=1'), { product: 100_000, customer: 1 });
    expect(new Set(Array.from({ length: 50 }, next)).size).toBeGreaterThan(40);
  });
});
