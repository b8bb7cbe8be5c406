/**
 * A loopback stand-in for the Anthropic Messages API (`POST /v1/messages`, JSON or SSE when
 * `stream: true`) as `@anthropic-ai/sdk` calls it, playing the scenario: a request that offers
 * tools and carries no tool results asks for the tool calls (TOOL_CALLS by default), a request
 * carrying tool_result blocks gets FINAL_ANSWER; usage is `anthropicUsage(CALLS[i])` and the
 * model is the one requested. The call is recognised from the request, never by a counter, so
 * retries do not shift it. A request without tools (a client's side call, e.g. Claude Code's
 * title or quota checks) gets a short text answer with the `sideUsage` counts.
 */
import type { ServerResponse } from 'node:http';
import { CALLS, anthropicUsage } from './scenario.ts';
import {
  startRecordingServer,
  withScenarioDefaults,
  writeJson,
  writeSse,
  type AnsweredCall,
  type AnsweredRequest,
  type ModelStandIn,
  type SseEvent,
  type StandInAnswers,
  type StandInToolCall,
} from './http.ts';

/** A Messages API request the stand-in answered. */
export type AnthropicRequest = AnsweredRequest;

/** Options; the defaults play scenario.ts. */
export type AnthropicStandInOptions = StandInAnswers<{ input_tokens: number; output_tokens: number }>;

/** The running stand-in (requests: the `/v1/messages` ones); point the client at `url` (`baseURL`, `ANTHROPIC_BASE_URL`). */
export type AnthropicStandIn = ModelStandIn<AnthropicRequest>;

interface MessagesBody {
  model?: string;
  stream?: boolean;
  tools?: unknown[];
  messages?: Array<{ content?: unknown }>;
}

/** Starts the stand-in on 127.0.0.1:<free port>. */
export async function startAnthropicStandIn(options: AnthropicStandInOptions = {}): Promise<AnthropicStandIn> {
  const { toolCalls, finalAnswer, sideText, sideUsage } = withScenarioDefaults(options, {
    input_tokens: 20,
    output_tokens: 2,
  });
  const requests: AnthropicRequest[] = [];
  let answered = 0;
  const server = await startRecordingServer((req, res) => {
    if (req.method === 'POST' && req.path === '/v1/messages/count_tokens') {
      writeJson(res, 200, { input_tokens: 100 });
      return;
    }
    if (req.method !== 'POST' || req.path !== '/v1/messages') {
      writeJson(res, 404, {
        type: 'error',
        error: { type: 'not_found_error', message: `stand-in does not serve ${req.method} ${req.path}` },
      });
      return;
    }
    const body = (req.body ?? {}) as MessagesBody;
    const model = body.model ?? 'unknown';
    const stream = body.stream === true;
    const call: AnsweredCall = hasToolResult(body) ? 1 : (body.tools ?? []).length > 0 ? 0 : 'side';
    requests.push({ ...req, model, stream, call });
    answered += 1;
    const message = {
      id: `msg_standin_${String(answered).padStart(4, '0')}`,
      type: 'message',
      role: 'assistant',
      model,
      stop_sequence: null,
    };
    if (call === 'side')
      answerText(res, stream, message, sideText, {
        ...sideUsage,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
      });
    else if (call === 1) answerText(res, stream, message, finalAnswer, anthropicUsage(CALLS[1]));
    else answerToolUse(res, stream, message, toolCalls, anthropicUsage(CALLS[0]));
  });
  return { url: server.url, requests, all: server.requests, close: server.close };
}

/** True when any message carries a tool_result block (the tool results are back: call 2). */
function hasToolResult(body: MessagesBody): boolean {
  return (body.messages ?? []).some(
    (m) => Array.isArray(m.content) && m.content.some((b) => (b as { type?: unknown } | null)?.type === 'tool_result'),
  );
}

type Message = Record<string, unknown>;
type Usage = Record<string, unknown>;

function answerText(res: ServerResponse, stream: boolean, message: Message, text: string, usage: Usage): void {
  if (!stream) {
    writeJson(res, 200, { ...message, content: [{ type: 'text', text }], stop_reason: 'end_turn', usage });
    return;
  }
  const cut = Math.max(1, text.indexOf('. ') + 2);
  writeSse(res, [
    messageStart(message, usage),
    {
      event: 'content_block_start',
      data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    },
    { event: 'ping', data: { type: 'ping' } },
    {
      event: 'content_block_delta',
      data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: text.slice(0, cut) } },
    },
    {
      event: 'content_block_delta',
      data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: text.slice(cut) } },
    },
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
    ...messageEnd('end_turn', usage),
  ]);
}

function answerToolUse(
  res: ServerResponse,
  stream: boolean,
  message: Message,
  calls: readonly StandInToolCall[],
  usage: Usage,
): void {
  if (!stream) {
    const content = calls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: c.arguments }));
    writeJson(res, 200, { ...message, content, stop_reason: 'tool_use', usage });
    return;
  }
  const blocks = calls.flatMap((c, index): SseEvent[] => {
    const json = JSON.stringify(c.arguments);
    const cut = Math.floor(json.length / 2);
    return [
      {
        event: 'content_block_start',
        data: {
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} },
        },
      },
      {
        event: 'content_block_delta',
        data: {
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: json.slice(0, cut) },
        },
      },
      {
        event: 'content_block_delta',
        data: {
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: json.slice(cut) },
        },
      },
      { event: 'content_block_stop', data: { type: 'content_block_stop', index } },
    ];
  });
  writeSse(res, [messageStart(message, usage), ...blocks, ...messageEnd('tool_use', usage)]);
}

// As the API streams usage: message_start carries the prompt counts and output_tokens 1;
// message_delta carries the cumulative final counts.
function messageStart(message: Message, usage: Usage): SseEvent {
  return {
    event: 'message_start',
    data: {
      type: 'message_start',
      message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } },
    },
  };
}

function messageEnd(stopReason: string, usage: Usage): SseEvent[] {
  return [
    {
      event: 'message_delta',
      data: { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage },
    },
    { event: 'message_stop', data: { type: 'message_stop' } },
  ];
}
