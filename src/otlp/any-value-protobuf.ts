/**
 * OTLP common/v1 AnyValue and KeyValue on the protobuf wire, read by both the trace and the log
 * decoder (through envelope-protobuf.ts for resources and scopes) so that an attribute or a log
 * body decodes to the same thing in either, with the same AnyValue nesting limit
 * (MAX_ANY_VALUE_DEPTH) and the same errors.
 */
import { MAX_ANY_VALUE_DEPTH, tooDeepError } from './limits.ts';
import type { ProtoReader } from './protobuf-reader.ts';
import { formatAttributeValue, setKey, type PlainValue } from './span-row.ts';

// Tags are (field number << 3) | wire type. A known field number with an unexpected wire type
// falls to `default` and is skipped as unknown, as the Go protobuf runtime does.
const [LEN_1, LEN_2, LEN_5, LEN_6, LEN_7] = [10, 18, 42, 50, 58] as const;

/** Reads a KeyValue into `target[key]`, rendered as the Collector stores it; a duplicate key's last value wins. */
export function readKeyValueInto(r: ProtoReader, target: Record<string, string>): void {
  readKeyValue(r, 1); // an attribute's value is nesting level 1 (MAX_ANY_VALUE_DEPTH)
  setKey(target, kvKey, formatAttributeValue(kvValue));
}

/** Reads a length-delimited AnyValue at nesting level 1 (as an attribute's value), rendered as the Collector stores it. */
export function readAnyValueText(r: ProtoReader): string {
  const outer = r.enter();
  const text = formatAttributeValue(decodeAnyValue(r, 1));
  r.leave(outer);
  return text;
}

// readKeyValue's result, returned through module state rather than a tuple so nothing is allocated.
let kvKey = '';
let kvValue: PlainValue = null;

/** KeyValue (1 key, 2 value at nesting level `depth`) → kvKey/kvValue, set last so nested calls cannot clobber them. */
function readKeyValue(r: ProtoReader, depth: number): void {
  const outer = r.enter();
  let key = '';
  let value: PlainValue = null;
  while (r.pos < r.end) {
    const tag = r.readTag();
    if (tag === LEN_1) {
      key = r.readString();
    } else if (tag === LEN_2) {
      const inner = r.enter();
      value = decodeAnyValue(r, depth);
      r.leave(inner);
    } else {
      r.skip(tag & 7);
    }
  }
  r.leave(outer);
  kvKey = key;
  kvValue = value;
}

/**
 * AnyValue at nesting level `depth` → PlainValue; the oneof's last field on the wire wins, and a
 * repeated value message replaces rather than merges (a simplification of proto merge no real
 * producer relies on). Elements and entries one level down are counted as soon as their tag is
 * read, empty or not, as the JSON decoders count them (see MAX_ANY_VALUE_DEPTH); this also
 * bounds the recursion on hostile input.
 */
function decodeAnyValue(r: ProtoReader, depth: number): PlainValue {
  let value: PlainValue = null;
  while (r.pos < r.end) {
    const tag = r.readTag();
    switch (tag) {
      case LEN_1:
        value = r.readString();
        break; // string_value
      case 16:
        value = r.readVarint() !== 0;
        break; // 2 bool_value
      case 24:
        value = r.readInt64();
        break; // 3 int_value
      case 33:
        value = r.readDouble();
        break; // 4 double_value, fixed64
      case LEN_5: {
        // array_value: 1 repeated AnyValue values
        const outer = r.enter();
        const items: PlainValue[] = [];
        while (r.pos < r.end) {
          const t = r.readTag();
          if (t === LEN_1) {
            if (depth >= MAX_ANY_VALUE_DEPTH) throw tooDeepError();
            const inner = r.enter();
            items.push(decodeAnyValue(r, depth + 1));
            r.leave(inner);
          } else {
            r.skip(t & 7);
          }
        }
        r.leave(outer);
        value = items;
        break;
      }
      case LEN_6: {
        // kvlist_value: 1 repeated KeyValue values
        const outer = r.enter();
        const map: { [key: string]: PlainValue } = {};
        while (r.pos < r.end) {
          const t = r.readTag();
          if (t === LEN_1) {
            if (depth >= MAX_ANY_VALUE_DEPTH) throw tooDeepError();
            readKeyValue(r, depth + 1);
            setKey(map, kvKey, kvValue);
          } else {
            r.skip(t & 7);
          }
        }
        r.leave(outer);
        value = map;
        break;
      }
      case LEN_7:
        value = r.readBytes();
        break; // bytes_value (a view; rendered before the body is released)
      default:
        r.skip(tag & 7);
    }
  }
  return value;
}
