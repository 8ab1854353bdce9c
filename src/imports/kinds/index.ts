import type { ImportKind, ImportKindName } from '../types.ts';
import { contactsKind } from './contacts.ts';
import { productsKind } from './products.ts';
import { ordersKind } from './orders.ts';
import { orderItemsKind } from './order-items.ts';
import { eventsKind } from './events.ts';

export { ContactRow } from './contacts.ts';
export { ProductRow } from './products.ts';
export { OrderRow } from './orders.ts';
export { OrderItemRow } from './order-items.ts';
export { EventRow } from './events.ts';

/** Every CSV format Tend imports, by name. */
export const importKinds: { [K in ImportKindName]: ImportKind<unknown> } = {
  contacts: contactsKind as ImportKind<unknown>,
  products: productsKind as ImportKind<unknown>,
  orders: ordersKind as ImportKind<unknown>,
  'order-items': orderItemsKind as ImportKind<unknown>,
  events: eventsKind as ImportKind<unknown>,
};
