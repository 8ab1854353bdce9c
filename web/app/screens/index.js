// Every screen of the web app. To add one, write a module like ./products.js and list it here;
// a `menu` entry puts it in the navigation (groups appear in the order they are first used).
import overview from './overview.js';
import contacts from './contacts.js';
import contact from './contact.js';
import segments from './segments.js';
import { newSegment, editSegment } from './segment-form.js';
import segment from './segment.js';
import events from './events.js';
import products from './products.js';
import orders from './orders.js';
import order from './order.js';
import journeys from './journeys.js';
import journey from './journey.js';
import blueprints from './blueprints.js';
import messages from './messages.js';
import { html, mount } from '../lib/html.js';
import { pageHeader, empty } from '../lib/ui.js';

// /segments/new comes before /segments/:id, which would match it too.
export const screens = [overview, contacts, contact, segments, newSegment, editSegment, segment, events, products, orders, order, journeys, journey, blueprints, messages];

export const notFound = {
  path: '',
  nav: null,
  title: 'Not found',
  render(view) {
    mount(view, html`${pageHeader('Page not found')}${empty('There is nothing at this address.', html`Go to the <a href="#/">overview</a>.`)}`);
  },
};
