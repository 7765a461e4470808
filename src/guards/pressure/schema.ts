/**
 * The JSON schema of `PressureSnapshot`, for the health route's response
 * schema: Fastify serialises responses through their schema and silently
 * drops any member the schema does not list, so `pressure` must be declared.
 */
import { Type } from '@fastify/type-provider-typebox';
import { StringEnum } from '../../http/schemas.ts';

/**
 * @example
 * const HealthSchema = Type.Object({ status: …, pressure: PressureSnapshotSchema });
 */
export const PressureSnapshotSchema = Type.Object(
  {
    state: StringEnum(['ok', 'warning', 'critical'], {
      description: '`critical`: API requests are being refused with 503 OVERLOADED.',
    }),
    reasons: Type.Array(Type.String(), { description: 'Why the state is not ok: one entry per signal, with its numbers.' }),
    rssMb: Type.Number({ minimum: 0 }),
    heapUsedMb: Type.Number({ minimum: 0 }),
    heapLimitMb: Type.Number({ minimum: 0 }),
    externalMb: Type.Number({ minimum: 0 }),
    eventLoopDelayP99Ms: Type.Number({ minimum: 0 }),
    eventLoopUtilization: Type.Number({ minimum: 0, maximum: 1 }),
    leakSuspected: Type.Boolean({ description: 'The heap floor has climbed steadily over the leak window; see docs/MEMORY.md.' }),
    leakSlopeMbPerMin: Type.Optional(Type.Number({ description: 'Trend of heap used after GC, once the window has enough points.' })),
    since: Type.String({ format: 'date-time', description: 'When the current state began.' }),
  },
  { description: 'Memory and event-loop pressure (src/guards/pressure).' },
);
