export { createIngestService, type IngestService, type IngestResult, type IngestedBatch, type IngestOptions } from './ingest.ts';
export { validateMessage, normalizePhone, describeIssue, innermostIssue, type AcceptedMessage, type MessageError } from './validate.ts';
export { TrackingMessage, MAX_BATCH_BYTES, MAX_MESSAGE_BYTES, messageTypes, type MessageType } from './schema.ts';
export { recordEvents, type TendEvent } from './record.ts';
