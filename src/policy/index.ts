export { MessagingPolicy, type GateInput, type GateDecision } from './schema.ts';
export { decide, decideWith, loadGateFacts, inQuietHours, recordDecision, type GateFacts } from './gate.ts';
export { loadMessagingSettings, saveMessagingPolicy, type MessagingSettings } from './settings.ts';
export { suppress, type Suppression } from './suppressions.ts';
