// The wire types, generated from schemas/*.avsc (schemas/types.gen.ts) plus the closed value sets
// that narrow some string fields (schemas/vocabulary.ts). Import from here.

export type {
  ActivityCreated,
  ActivityDeleted,
  ActivityUpdated,
  AvroRecords,
  ChallengeProgressed,
  DeviceSession,
  DeviceTelemetry,
  DlqRecord,
  GoalAchieved,
  GoalAchievementRevoked,
  ManualEntry,
  Sample,
  SessionControl,
  StreakMilestone,
  StrengthSet,
  TelemetryBatch,
} from './types.gen.js';
export type { DlqReason, SessionControlKind, Sport } from './vocabulary.js';
