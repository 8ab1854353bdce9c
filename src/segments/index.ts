export { createSegmentService, type Segment, type SegmentService } from './service.ts';
export { SegmentRule, SegmentInput, Duration, PropertyFilter, engagementEventName, builtinFields, scoreFields } from './schema.ts';
export { createSegmentUpdater } from './updater.ts';
export { startSegmentScheduler } from './scheduler.ts';
export { memberQuery, type MembershipChange } from './membership.ts';
export { compileRule, RuleError, type CompileMode } from './compile.ts';
export { Params } from './params.ts';
