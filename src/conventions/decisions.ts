/**
 * sessiongraph's own decision convention (SPEC §5): a span carrying `decision.title`, or a span
 * event named `decision` with the same attributes. Pure.
 */
import { stringList, type Attrs } from './attributes.ts';
import type { EventAttrs } from './fields.ts';

/** A decision as recorded on one span or event, before ids and session are attached. */
export interface RecordedDecision {
  title: string;
  /** `decision.id` as given ('' when absent); used as the node id only when it is a UUID. */
  given_id: string;
  description: string;
  context: string;
  rationale: string;
  consequences: string;
  status: string;
  tags: string[];
  /** Nanoseconds: the span end, or the event time. */
  decided_at_ns: string;
  /** Index of the `decision` event among the span's events; -1 for a decision span. */
  event_index: number;
}

/** An event with its time, as the decision reader needs it. */
export interface TimedEvent extends EventAttrs {
  timeNs: string;
}

function fromAttributes(attrs: Attrs, decidedAtNs: string, eventIndex: number): RecordedDecision | undefined {
  const title = attrs['decision.title'];
  if (title === undefined || title.trim() === '') return undefined;
  return {
    title,
    given_id: attrs['decision.id'] ?? '',
    description: attrs['decision.description'] ?? '',
    context: attrs['decision.context'] ?? '',
    rationale: attrs['decision.rationale'] ?? '',
    consequences: attrs['decision.consequences'] ?? '',
    status: attrs['decision.status'] || 'proposed',
    tags: stringList(attrs['decision.tags']),
    decided_at_ns: decidedAtNs,
    event_index: eventIndex,
  };
}

/** Every decision a span records: itself (if it carries `decision.title`) and its `decision` events. */
export function recordedDecisions(attrs: Attrs, endNs: string, events: readonly TimedEvent[]): RecordedDecision[] {
  const out: RecordedDecision[] = [];
  const own = fromAttributes(attrs, endNs, -1);
  if (own) out.push(own);
  events.forEach((event, index) => {
    if (event.name !== 'decision') return;
    const d = fromAttributes(event.attributes, event.timeNs, index);
    if (d) out.push(d);
  });
  return out;
}
