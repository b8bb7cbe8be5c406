/**
 * Parent/child structure of the spans received so far for one trace, tolerant of spans whose
 * parent has not arrived yet. Decides which spans belong to a session (SPEC §3). Pure.
 */

/** The two ids every span row carries. */
export interface Linked {
  span_id: string;
  parent_span_id: string;
}

/** Ancestry queries over one trace's spans. */
export class TraceTree<T extends Linked> {
  constructor(private readonly byId: ReadonlyMap<string, T>) {}

  /** Known ancestors of a span, nearest first; stops at a missing parent (or a cycle). */
  ancestors(span: T): T[] {
    const out: T[] = [];
    const seen = new Set([span.span_id]);
    for (let p = this.byId.get(span.parent_span_id); p && !seen.has(p.span_id); p = this.byId.get(p.parent_span_id)) {
      seen.add(p.span_id);
      out.push(p);
    }
    return out;
  }

  /** True when every ancestor up to a span with no parent has been received. */
  chainIsComplete(span: T): boolean {
    const chain = this.ancestors(span);
    return (chain[chain.length - 1] ?? span).parent_span_id === '';
  }

  /** In the root's subtree, or under a missing parent (it may belong): not under another known top. */
  belongsTo(span: T, root: T): boolean {
    if (span.span_id === root.span_id) return true;
    const chain = this.ancestors(span);
    if (chain.some((a) => a.span_id === root.span_id)) return true;
    return (chain[chain.length - 1] ?? span).parent_span_id !== '';
  }

  /** Ids of the spans that have at least one descendant matching `test`. */
  ancestorsOf(test: (span: T) => boolean): Set<string> {
    const out = new Set<string>();
    for (const s of this.byId.values()) {
      if (!test(s)) continue;
      for (const a of this.ancestors(s)) out.add(a.span_id);
    }
    return out;
  }
}

/** The spans of a session rooted at `rootSpanId` ('' while the root has not arrived: all of them). */
export function sessionMembers<T extends Linked>(spans: readonly T[], rootSpanId: string): T[] {
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const root = byId.get(rootSpanId);
  if (!root) return [...spans];
  const tree = new TraceTree(byId);
  return spans.filter((s) => tree.belongsTo(s, root));
}
