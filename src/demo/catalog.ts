// The demo shop's catalog: about a hundred products in seven categories, with consumables that
// run out (so reorder reminders have something to remind about), products bought together, and
// better versions to upsell. The seed varies which optional products exist and their prices; SKUs
// stay the same across seeds so a product keeps its identity.
import { mixSeed, Rng } from './random.ts';
import type { DemoProduct } from './types.ts';

/** Base address of the demo shop; .example is reserved, so no link ever reaches a real site. */
export const DEMO_SHOP_URL = 'https://shop.example';

type Template = {
  key: string;
  name: string;
  price: number;
  lifetimeDays: number | null;
  related: string[];
  upgrades: string[];
  optional: boolean;
};

type Extra = { rel?: string; upg?: string; opt?: boolean };

function item(key: string, name: string, price: number, lifetimeDays: number | null, extra: Extra = {}): Template {
  const words = (s: string | undefined) => (s === undefined ? [] : s.split(' '));
  return { key, name, price, lifetimeDays, related: words(extra.rel), upgrades: words(extra.upg), optional: extra.opt ?? false };
}

const opt = true;

// Lifetimes are per unit sold: coffee beans 21 days, pitcher cartridges 30, pet food 28,
// razor blades 35, skin care 45; durable goods have none.
const CATEGORIES: ReadonlyArray<{ name: string; prefix: string; items: Template[] }> = [
  { name: 'Coffee & Tea', prefix: 'COF', items: [
    item('beans-house', 'House Blend Coffee Beans 500g', 16.99, 21, { rel: 'filters-paper grinder' }),
    item('beans-espresso', 'Espresso Roast Coffee Beans 500g', 17.99, 21, { rel: 'grinder espresso-machine' }),
    item('beans-decaf', 'Swiss Water Decaf Coffee Beans 500g', 18.99, 21),
    item('beans-ethiopia', 'Ethiopia Yirgacheffe Single Origin 250g', 14.99, 14, { rel: 'coffee-atlas', opt }),
    item('beans-colombia', 'Colombia Huila Single Origin 250g', 13.99, 14, { opt }),
    item('beans-guatemala', 'Guatemala Antigua Single Origin 250g', 13.99, 14, { opt }),
    item('ground-house', 'House Blend Ground Coffee 500g', 15.99, 21, { rel: 'french-press' }),
    item('cold-brew', 'Cold Brew Coarse Grind 1kg', 24.99, 30, { opt }),
    item('tea-sencha', 'Organic Sencha Green Tea 100g', 11.99, 30, { rel: 'teapot' }),
    item('tea-earlgrey', 'Earl Grey Loose Leaf Tea 100g', 9.99, 30),
    item('tea-chai', 'Masala Chai Blend 150g', 10.99, 30, { opt }),
    item('tea-chamomile', 'Chamomile Flowers 50g', 8.99, 30, { opt }),
    item('filters-paper', 'Paper Coffee Filters (100)', 5.99, 50, { rel: 'pour-over' }),
    item('pour-over', 'Ceramic Pour-Over Dripper', 24.99, null, { rel: 'kettle scale' }),
    item('kettle', 'Gooseneck Kettle', 39.99, null, { upg: 'kettle-electric' }),
    item('kettle-electric', 'Electric Gooseneck Kettle with Temperature Control', 89.99, null),
    item('french-press', 'French Press 1L', 34.99, null, { rel: 'beans-house' }),
    item('grinder', 'Burr Coffee Grinder', 79.99, null, { upg: 'grinder-pro' }),
    item('grinder-pro', 'Pro Flat Burr Grinder', 199.99, null),
    item('espresso-machine', 'Home Espresso Machine', 349.99, null, { rel: 'tamper milk-frother descaler', upg: 'espresso-pro' }),
    item('espresso-pro', 'Dual Boiler Espresso Machine', 1199.99, null, { opt }),
    item('milk-frother', 'Milk Frother', 29.99, null),
    item('tamper', 'Stainless Steel Tamper', 19.99, null, { opt }),
    item('descaler', 'Espresso Machine Descaler', 12.99, 90, { opt }),
    item('teapot', 'Cast Iron Teapot', 44.99, null, { opt }),
  ] },
  { name: 'Water Filters', prefix: 'WAT', items: [
    item('pitcher', 'Filter Pitcher 2.5L', 29.99, null, { rel: 'cartridge', upg: 'under-sink' }),
    item('cartridge', 'Pitcher Filter Cartridge', 9.99, 30, { rel: 'cartridge-3' }),
    item('cartridge-3', 'Pitcher Filter Cartridges 3-Pack', 26.99, 90),
    item('bottle', 'Filter Water Bottle', 24.99, null, { rel: 'bottle-filter', opt }),
    item('bottle-filter', 'Bottle Replacement Filter', 7.99, 60, { opt }),
    item('faucet', 'Faucet Mount Filter', 39.99, null, { rel: 'faucet-cartridge', upg: 'under-sink' }),
    item('faucet-cartridge', 'Faucet Filter Cartridge', 14.99, 60),
    item('under-sink', 'Under-Sink Filtration System', 249.99, null, { rel: 'under-sink-cartridge', upg: 'ro-system' }),
    item('under-sink-cartridge', 'Under-Sink Replacement Cartridge', 49.99, 180),
    item('ro-system', 'Reverse Osmosis System', 449.99, null, { opt }),
    item('shower', 'Shower Filter', 34.99, null, { rel: 'shower-cartridge', opt }),
    item('shower-cartridge', 'Shower Filter Cartridge', 14.99, 90, { opt }),
    item('fridge-filter', 'Refrigerator Water Filter', 29.99, 180, { opt }),
  ] },
  { name: 'Skin Care', prefix: 'SKN', items: [
    item('cleanser', 'Gentle Foaming Cleanser 150ml', 18.99, 45, { rel: 'moisturizer toner' }),
    item('toner', 'Hydrating Toner 200ml', 21.99, 45, { opt }),
    item('serum-c', 'Vitamin C Serum 30ml', 37.99, 45, { rel: 'sunscreen', upg: 'serum-c-pro' }),
    item('serum-c-pro', 'Vitamin C Serum 20% Professional', 63.99, 45, { opt }),
    item('serum-ha', 'Hyaluronic Acid Serum 30ml', 28.99, 45, { rel: 'moisturizer' }),
    item('moisturizer', 'Daily Moisturizer 50ml', 25.99, 45, { rel: 'sunscreen', upg: 'moisturizer-rich' }),
    item('moisturizer-rich', 'Rich Repair Cream 50ml', 41.99, 45, { opt }),
    item('sunscreen', 'Mineral Sunscreen SPF 50', 23.99, 45),
    item('night-cream', 'Retinol Night Cream 50ml', 45.99, 45, { rel: 'eye-cream' }),
    item('eye-cream', 'Caffeine Eye Cream 15ml', 27.99, 45, { opt }),
    item('lip-balm', 'Lip Balm Trio', 11.99, 45, { opt }),
    item('masks', 'Sheet Masks 5-Pack', 18.99, 30, { opt }),
    item('cleansing-oil', 'Cleansing Oil 200ml', 26.99, 45, { opt }),
    item('face-brush', 'Sonic Cleansing Brush', 118.99, null, { rel: 'cleanser brush-heads' }),
    item('brush-heads', 'Cleansing Brush Heads 2-Pack', 23.99, 90),
  ] },
  { name: 'Kitchen Appliances', prefix: 'KIT', items: [
    item('blender', 'Countertop Blender', 89.99, null, { upg: 'blender-pro' }),
    item('blender-pro', 'High-Speed Pro Blender', 399.99, null),
    item('air-fryer', 'Air Fryer 4L', 99.99, null, { upg: 'air-fryer-xl' }),
    item('air-fryer-xl', 'Dual-Basket Air Fryer 8L', 179.99, null),
    item('toaster', '2-Slice Toaster', 49.99, null, { upg: 'toaster-4', opt }),
    item('toaster-4', '4-Slice Smart Toaster', 119.99, null, { opt }),
    item('stand-mixer', 'Stand Mixer', 299.99, null, { rel: 'cookbook-baking' }),
    item('hand-mixer', 'Hand Mixer', 49.99, null, { upg: 'stand-mixer' }),
    item('knife-set', 'Chef Knife Set', 149.99, null, { rel: 'cutting-board knife-book' }),
    item('cutting-board', 'End-Grain Cutting Board', 59.99, null, { opt }),
    item('skillet', 'Cast Iron Skillet 26cm', 44.99, null, { opt }),
    item('dutch-oven', 'Enameled Dutch Oven 5L', 129.99, null, { opt }),
    item('rice-cooker', 'Rice Cooker', 79.99, null, { opt }),
    item('pressure-cooker', 'Electric Pressure Cooker', 119.99, null, { rel: 'cookbook-pressure' }),
    item('juicer', 'Slow Juicer', 229.99, null, { opt }),
    item('scale', 'Digital Kitchen Scale', 24.99, null, { opt }),
    item('soda-maker', 'Sparkling Water Maker', 99.99, null, { rel: 'co2', opt }),
    item('co2', 'CO2 Cylinder Refill', 29.99, 60, { opt }),
  ] },
  { name: 'Pet Supplies', prefix: 'PET', items: [
    item('dog-food', 'Grain-Free Dog Food 5kg', 44.99, 28, { rel: 'dog-treats', upg: 'dog-food-premium' }),
    item('dog-food-premium', 'Fresh Salmon Dog Food 5kg', 64.99, 28),
    item('dog-treats', 'Dog Training Treats', 9.99, 21),
    item('cat-food', 'Indoor Cat Food 3kg', 32.99, 28, { rel: 'cat-litter', upg: 'cat-food-premium' }),
    item('cat-food-premium', 'Wild-Caught Fish Cat Food 3kg', 44.99, 28, { opt }),
    item('cat-litter', 'Clumping Cat Litter 10kg', 19.99, 28),
    item('cat-treats', 'Crunchy Cat Treats', 6.99, 21, { opt }),
    item('dog-bed', 'Orthopedic Dog Bed', 89.99, null, { opt }),
    item('feeder', 'Pet Food Feeder', 29.99, null, { upg: 'smart-feeder' }),
    item('smart-feeder', 'Smart Automatic Feeder', 129.99, null, { opt }),
    item('fountain', 'Pet Water Fountain', 39.99, null, { rel: 'fountain-filter', opt }),
    item('fountain-filter', 'Pet Fountain Filters 4-Pack', 12.99, 30, { opt }),
    item('dog-shampoo', 'Oatmeal Dog Shampoo', 14.99, 60, { opt }),
  ] },
  { name: 'Shaving', prefix: 'SHV', items: [
    item('razor', 'Classic Razor Handle', 23.99, null, { rel: 'blades shave-cream', upg: 'razor-premium' }),
    item('razor-premium', 'Weighted Metal Razor', 74.99, null),
    item('blades', 'Razor Blades 4-Pack', 13.99, 35, { rel: 'shave-cream' }),
    item('blades-8', 'Razor Blades 8-Pack', 25.99, 70, { opt }),
    item('shave-cream', 'Shave Cream 150ml', 8.99, 35),
    item('aftershave', 'Soothing Aftershave Balm', 15.99, 45, { opt }),
    item('safety-razor', 'Double-Edge Safety Razor', 38.99, null, { rel: 'de-blades', opt }),
    item('de-blades', 'Double-Edge Blades 20-Pack', 10.99, 70, { opt }),
    item('beard-oil', 'Beard Oil 30ml', 17.99, 45, { opt }),
    item('trimmer', 'Beard Trimmer', 59.99, null, { upg: 'trimmer-pro', opt }),
    item('trimmer-pro', 'Pro Beard Trimmer', 119.99, null, { opt }),
  ] },
  { name: 'Books', prefix: 'BOK', items: [
    item('cookbook-baking', "The Home Baker's Handbook", 29.99, null),
    item('cookbook-pressure', 'Pressure Cooker Weeknights', 19.99, null),
    item('coffee-atlas', 'The World Atlas of Coffee', 34.99, null),
    item('tea-book', 'The Tea Companion', 24.99, null, { rel: 'tea-sencha', opt }),
    item('skincare-book', 'Skin Science Explained', 22.99, null, { opt }),
    item('dog-book', 'Raising a Happy Dog', 17.99, null, { rel: 'dog-treats', opt }),
    item('cat-book', 'Think Like a Cat', 16.99, null, { opt }),
    item('fermentation', 'The Art of Fermentation', 32.99, null, { opt }),
    item('grill-book', 'Weekend Grilling', 21.99, null, { opt }),
    item('knife-book', 'Knife Skills Illustrated', 27.99, null, { opt }),
  ] },
];

/** The category names, in catalog order. */
export const DEMO_CATEGORIES: readonly string[] = CATEGORIES.map((c) => c.name);

/**
 * The demo shop's products for a seed: the same seed always gives the same catalog. Related
 * products are symmetric and every product has at least one; upgrades point one way.
 */
export function demoCatalog(seed: number): DemoProduct[] {
  const rng = new Rng(mixSeed(seed, 0xca7a106));
  const chosen: Array<{ template: Template; sku: string; category: string }> = [];
  for (const category of CATEGORIES) {
    category.items.forEach((template, i) => {
      // Draw for every product, kept or not, so one product's fate never shifts another's.
      const keep = rng.next() >= 0.2;
      if (!template.optional || keep) {
        chosen.push({ template, category: category.name, sku: `${category.prefix}-${String(i + 1).padStart(3, '0')}` });
      }
    });
  }
  const skuByKey = new Map(chosen.map((c) => [c.template.key, c.sku]));
  const related = new Map<string, Set<string>>(chosen.map((c) => [c.sku, new Set<string>()]));
  for (const { template, sku } of chosen) {
    for (const key of template.related) {
      const other = skuByKey.get(key);
      if (other === undefined || other === sku) continue;
      related.get(sku)?.add(other);
      related.get(other)?.add(sku);
    }
  }
  return chosen.map(({ template, sku, category }) => {
    const links = related.get(sku) ?? new Set<string>();
    if (links.size === 0) {
      const siblings = chosen.filter((c) => c.category === category && c.sku !== sku);
      for (let k = 0; k < 2 && siblings.length > 0; k++) links.add(rng.pick(siblings).sku);
    }
    const slug = template.key;
    return {
      sku,
      name: template.name,
      category,
      price: jitterPrice(rng, template.price),
      currency: 'USD' as const,
      url: `${DEMO_SHOP_URL}/products/${slug}`,
      imageUrl: `${DEMO_SHOP_URL}/images/products/${slug}.jpg`,
      lifetimeDays: template.lifetimeDays,
      relatedSkus: [...links].sort(),
      upgradeSkus: template.upgrades.flatMap((key) => skuByKey.get(key) ?? []),
    };
  });
}

// Moves a list price by up to ±8% and keeps the shop's .99 endings.
function jitterPrice(rng: Rng, base: number): number {
  const whole = Math.max(1, Math.round(base * rng.uniform(0.92, 1.08)));
  return Math.round(whole * 100 - 1) / 100;
}
