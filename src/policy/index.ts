export { MessagingPolicy, type GateInput, type GateDecision } from './schema.ts';
export { decide, inQuietHours, recordDecision } from './gate.ts';
export { loadMessagingSettings, saveMessagingPolicy, type MessagingSettings } from './settings.ts';
