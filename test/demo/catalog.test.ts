import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { demoCatalog, DEMO_CATEGORIES } from '../../src/demo/index.ts';

describe('demoCatalog', () => {
  it('is the same for the same seed', () => {
    assert.deepEqual(demoCatalog(1), demoCatalog(1));
  });

  it('varies prices and optional products with the seed, but keeps SKUs stable', () => {
    const a = demoCatalog(1);
    const b = demoCatalog(2);
    assert.notDeepEqual(a, b);
    const bBySku = new Map(b.map((p) => [p.sku, p]));
    for (const p of a) {
      const other = bBySku.get(p.sku);
      if (other !== undefined) assert.equal(other.name, p.name, `${p.sku} names one product in every catalog`);
    }
  });

  for (const seed of [0, 1, 2, 3, 99, 123456789]) {
    it(`holds 60–120 well-formed products (seed ${seed})`, () => {
      const catalog = demoCatalog(seed);
      assert.ok(catalog.length >= 60 && catalog.length <= 120, `${catalog.length} products`);
      const skus = new Set(catalog.map((p) => p.sku));
      assert.equal(skus.size, catalog.length, 'SKUs are unique');
      for (const p of catalog) {
        assert.match(p.sku, /^[A-Z]{3}-\d{3}$/);
        assert.ok(DEMO_CATEGORIES.includes(p.category), p.category);
        assert.ok(p.price > 0 && Number.isInteger(Math.round(p.price * 100)) && Math.abs(p.price * 100 - Math.round(p.price * 100)) < 1e-6);
        assert.equal(p.currency, 'USD');
        assert.match(p.url, /^https:\/\/shop\.example\/products\/[a-z0-9-]+$/);
        assert.match(p.imageUrl, /^https:\/\/shop\.example\/images\/products\/[a-z0-9-]+\.jpg$/);
        assert.ok(p.lifetimeDays === null || p.lifetimeDays > 0);
        assert.ok(p.relatedSkus.length > 0, `${p.sku} has related products`);
        for (const sku of [...p.relatedSkus, ...p.upgradeSkus]) {
          assert.ok(skus.has(sku), `${p.sku} links to ${sku}, which exists`);
          assert.notEqual(sku, p.sku);
        }
      }
      // Related products go both ways.
      const bySku = new Map(catalog.map((p) => [p.sku, p]));
      for (const p of catalog) {
        for (const sku of p.relatedSkus) {
          if (!bySku.get(sku)?.relatedSkus.includes(p.sku)) {
            // Only products with no explicit links got same-category fillers, which may be one-way.
            assert.equal(bySku.get(sku)?.category, p.category);
          }
        }
      }
    });
  }

  it('covers every category, with consumables, durables and upgrades', () => {
    const catalog = demoCatalog(5);
    for (const category of DEMO_CATEGORIES) assert.ok(catalog.some((p) => p.category === category), category);
    assert.ok(catalog.filter((p) => p.lifetimeDays !== null).length >= 25);
    assert.ok(catalog.filter((p) => p.lifetimeDays === null).length >= 25);
    assert.ok(catalog.filter((p) => p.upgradeSkus.length > 0).length >= 10);
  });

  it('gives consumables the lifetimes the reorder reminders rely on', () => {
    const byName = new Map(demoCatalog(1).map((p) => [p.name, p]));
    assert.equal(byName.get('Pitcher Filter Cartridge')?.lifetimeDays, 30);
    assert.equal(byName.get('House Blend Coffee Beans 500g')?.lifetimeDays, 21);
    assert.equal(byName.get('Grain-Free Dog Food 5kg')?.lifetimeDays, 28);
    assert.equal(byName.get('Razor Blades 4-Pack')?.lifetimeDays, 35);
    assert.equal(byName.get('Daily Moisturizer 50ml')?.lifetimeDays, 45);
    assert.equal(byName.get('Countertop Blender')?.lifetimeDays, null);
    assert.equal(byName.get('Home Espresso Machine')?.lifetimeDays, null);
  });

  it('offers a better version of entry-level products and links accessories', () => {
    const catalog = demoCatalog(1);
    const byName = new Map(catalog.map((p) => [p.name, p]));
    const bySku = new Map(catalog.map((p) => [p.sku, p]));
    const grinder = byName.get('Burr Coffee Grinder');
    assert.equal(bySku.get(grinder?.upgradeSkus[0] ?? '')?.name, 'Pro Flat Burr Grinder');
    const pitcher = byName.get('Filter Pitcher 2.5L');
    assert.ok(pitcher?.relatedSkus.some((sku) => bySku.get(sku)?.name === 'Pitcher Filter Cartridge'));
    for (const p of catalog) {
      for (const sku of p.upgradeSkus) assert.ok((bySku.get(sku)?.price ?? 0) > p.price, `${p.name} upgrades to something dearer`);
    }
  });
});
