/**
 * The envelope that OTLP trace and log export requests share on the protobuf wire
 * (collector/trace/v1 and collector/logs/v1 lay it out alike): the request holds repeated
 * Resource<Signal> at 1, each with 1 resource, 2 repeated Scope<Signal> and 3 schema_url, and each
 * Scope<Signal> holds 1 scope, 2 repeated records (Span, LogRecord) and 3 schema_url. Both decoders
 * walk it with this one loop, so resources and scopes are read alike and the decoders differ only
 * in the record they read. Fields may come in any order and repeat (proto merge: last scalar wins,
 * repeated fields append), so resource and scope reach a record's row only once their
 * Resource<Signal> / Scope<Signal> has been read whole.
 */
import { readKeyValueInto } from './any-value-protobuf.ts';
import type { ProtoReader } from './protobuf-reader.ts';

// Tags are (field number << 3) | wire type. A known field number with an unexpected wire type
// falls to `else` and is skipped as unknown, as the Go protobuf runtime does.
const [LEN_1, LEN_2, LEN_3] = [10, 18, 26] as const;

/** A Resource as read from the wire, with its Resource<Signal>'s schema_url. */
export interface WireResource {
  /** One object shared by all rows of the resource (as the JSON decoders do): rows are read-only. */
  attributes: Record<string, string>;
  /** The `service.name` attribute, '' when absent. */
  serviceName: string;
  schemaUrl: string;
}

/** An InstrumentationScope as read from the wire, with its Scope<Signal>'s schema_url. */
export interface WireScope {
  name: string;
  version: string;
  attributes: Record<string, string>;
  schemaUrl: string;
}

/** What one signal's decoder brings to the walk: how to read its record, and where resource and scope go in its row. */
export interface RecordDecoder<Row> {
  /** The rows decoded so far, which `readRecord` appends to (rejected records add none). */
  readonly rows: Row[];
  /** Reads one record, its sub-message already entered; `ri`/`si`/`li` locate it for a reject reason. */
  readRecord(r: ProtoReader, ri: number, si: number, li: number): void;
  /** Sets the resource on a row read within it. */
  applyResource(row: Row, resource: WireResource): void;
  /** Sets the scope on a row read within it. */
  applyScope(row: Row, scope: WireScope): void;
}

/** Reads a whole export request (Resource<Signal> at field 1, the rest skipped), handing each record to `decoder`. */
export function readExportRequest<Row>(r: ProtoReader, decoder: RecordDecoder<Row>): void {
  let resourceIndex = 0;
  while (r.pos < r.end) {
    const tag = r.readTag();
    if (tag === LEN_1) {
      const outer = r.enter();
      readResourceRecords(r, decoder, resourceIndex++);
      r.leave(outer);
    } else {
      r.skip(tag & 7);
    }
  }
}

function readResourceRecords<Row>(r: ProtoReader, decoder: RecordDecoder<Row>, ri: number): void {
  const { rows } = decoder;
  const first = rows.length;
  const resource: WireResource = { attributes: {}, serviceName: '', schemaUrl: '' };
  let scopeIndex = 0;
  while (r.pos < r.end) {
    const tag = r.readTag();
    if (tag === LEN_1) {
      readResourceOrScope(r, LEN_1, resource.attributes); // Resource: 1 attributes
    } else if (tag === LEN_2) {
      const outer = r.enter();
      readScopeRecords(r, decoder, ri, scopeIndex++);
      r.leave(outer);
    } else if (tag === LEN_3) {
      resource.schemaUrl = r.readString();
    } else {
      r.skip(tag & 7); // 1000 legacy instrumentation_library_spans, unknown
    }
  }
  resource.serviceName = resource.attributes['service.name'] ?? '';
  for (let i = first; i < rows.length; i++) decoder.applyResource(rows[i]!, resource);
}

function readScopeRecords<Row>(r: ProtoReader, decoder: RecordDecoder<Row>, ri: number, si: number): void {
  const { rows } = decoder;
  const first = rows.length;
  // A repeated scope message merges into this one: last name and version win, attributes append.
  const scope: WireScope = { name: '', version: '', attributes: {}, schemaUrl: '' };
  let recordIndex = 0;
  while (r.pos < r.end) {
    const tag = r.readTag();
    if (tag === LEN_1) {
      readResourceOrScope(r, LEN_3, scope.attributes, scope); // InstrumentationScope: 1 name, 2 version, 3 attributes
    } else if (tag === LEN_2) {
      const outer = r.enter();
      decoder.readRecord(r, ri, si, recordIndex++);
      r.leave(outer);
    } else if (tag === LEN_3) {
      scope.schemaUrl = r.readString();
    } else {
      r.skip(tag & 7);
    }
  }
  for (let i = first; i < rows.length; i++) decoder.applyScope(rows[i]!, scope);
}

/**
 * Reads a Resource or an InstrumentationScope sub-message, the two messages that carry a row's
 * shared attributes: KeyValues at `attributesTag` into `attributes`, and for a scope its 1 name and
 * 2 version into `scope`; dropped_attributes_count and entity_refs are not stored.
 */
function readResourceOrScope(
  r: ProtoReader,
  attributesTag: number,
  attributes: Record<string, string>,
  scope?: WireScope,
): void {
  const outer = r.enter();
  while (r.pos < r.end) {
    const t = r.readTag();
    if (t === attributesTag) readKeyValueInto(r, attributes);
    else if (scope !== undefined && t === LEN_1) scope.name = r.readString();
    else if (scope !== undefined && t === LEN_2) scope.version = r.readString();
    else r.skip(t & 7);
  }
  r.leave(outer);
}
