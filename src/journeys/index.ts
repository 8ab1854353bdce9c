export { JourneyDefinition, Trigger, Step, Settings, Goal, Content, messageChannels, type MessageChannel, type StepOf } from './schema.ts';
export { createJourneyService, type JourneyService, type Journey, type JourneyStatus } from './service.ts';
export { createJourneyRunner, type JourneyRunner } from './runner.ts';
export { createJourneyTriggers, lastOccurrence, type JourneyTriggers } from './triggers.ts';
export { createVersionCache, type VersionCache } from './versions.ts';
export { checkDefinition } from './content.ts';
export { JOURNEYS_CHANNEL, type RunContext, type Wait } from './run-types.ts';
