/**
 * A loopback stand-in for the OpenAI API as the official `openai` client (and the frameworks
 * built on it, or on the AI SDK's OpenAI providers) calls it: Chat Completions
 * (`POST /v1/chat/completions`, JSON, or SSE chunks when `stream: true`, with a usage chunk when
 * `stream_options.include_usage`) and Responses (`POST /v1/responses`, JSON, or typed SSE events
 * when `stream: true`). It plays the scenario: a request that offers tools and carries no tool
 * result asks for TOOL_CALLS (both, in order), a request carrying tool results gets FINAL_ANSWER;
 * usage is `openAiChatUsage` / `openAiResponsesUsage` of CALLS[0] / CALLS[1]. The call is
 * recognised from the request, never by a counter, so retries do not shift it. A request without
 * tools (a framework's side call, e.g. a title) gets a short text with the `sideUsage` counts.
 * The model answered is the dated snapshot of the requested alias, as OpenAI answers
 * (`gpt-4.1-mini` → `gpt-4.1-mini-2025-04-14`), else the requested name.
 */
import type { ServerResponse } from 'node:http';
import { CALLS, openAiChatUsage, openAiResponsesUsage } from './scenario.ts';
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

/** The model the framework fixtures ask for, and the name the stand-in answers as (priced by @pydantic/genai-prices). */
export const OPENAI_MODEL = 'gpt-4.1-mini';
export const OPENAI_RESPONSE_MODEL = 'gpt-4.1-mini-2025-04-14';

// OpenAI answers an alias with its current dated snapshot.
const SNAPSHOTS: Record<string, string> = {
  [OPENAI_MODEL]: OPENAI_RESPONSE_MODEL,
  'gpt-4o-mini': 'gpt-4o-mini-2024-07-18',
  'gpt-4o': 'gpt-4o-2024-08-06',
};

/** A Chat Completions or Responses request the stand-in answered. */
export interface OpenAiRequest extends AnsweredRequest {
  api: 'chat' | 'responses';
  /** The model answered (`model` is the one requested). */
  responseModel: string;
}

/** Options; the defaults play scenario.ts. */
export type OpenAiStandInOptions = StandInAnswers<{ input: number; output: number }>;

/** The running stand-in (requests: the chat / responses ones); point the client at `url` (`baseURL`, `OPENAI_BASE_URL`: it ends in `/v1`). */
export type OpenAiStandIn = ModelStandIn<OpenAiRequest>;

type Json = Record<string, unknown>;

interface ApiBody {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  tools?: unknown[];
  messages?: Array<{ role?: string }>;
  input?: unknown;
  instructions?: unknown;
  previous_response_id?: unknown;
}

/** Starts the stand-in on 127.0.0.1:<free port>. */
export async function startOpenAiStandIn(options: OpenAiStandInOptions = {}): Promise<OpenAiStandIn> {
  const { toolCalls, finalAnswer, sideText, sideUsage: side } = withScenarioDefaults(options, { input: 20, output: 2 });
  const requests: OpenAiRequest[] = [];
  let answered = 0;
  const server = await startRecordingServer((req, res) => {
    const api =
      req.method === 'POST' && req.path === '/v1/chat/completions'
        ? 'chat'
        : req.method === 'POST' && req.path === '/v1/responses'
          ? 'responses'
          : undefined;
    if (!api) {
      writeJson(res, 404, {
        error: {
          message: `stand-in does not serve ${req.method} ${req.path}`,
          type: 'invalid_request_error',
          param: null,
          code: 'unknown_url',
        },
      });
      return;
    }
    const body = (req.body ?? {}) as ApiBody;
    const model = body.model ?? 'unknown';
    const responseModel = SNAPSHOTS[model] ?? model;
    const stream = body.stream === true;
    const toolResults =
      api === 'chat' ? (body.messages ?? []).some((m) => m.role === 'tool') : hasFunctionCallOutput(body.input);
    const call: AnsweredCall = toolResults ? 1 : (body.tools ?? []).length > 0 ? 0 : 'side';
    requests.push({ ...req, api, model, responseModel, stream, call });
    answered += 1;
    const answer: Answer = {
      seq: answered,
      model: responseModel,
      created: Math.floor(Date.now() / 1000),
      ...(call === 0 ? { toolCalls } : { text: call === 1 ? finalAnswer : sideText }),
    };
    if (api === 'chat') {
      const usage =
        call === 'side'
          ? { prompt_tokens: side.input, completion_tokens: side.output, total_tokens: side.input + side.output }
          : openAiChatUsage(CALLS[call]);
      answerChat(res, stream, body.stream_options?.include_usage === true, answer, usage);
    } else {
      const usage =
        call === 'side'
          ? { input_tokens: side.input, output_tokens: side.output, total_tokens: side.input + side.output }
          : openAiResponsesUsage(CALLS[call]);
      answerResponses(res, stream, body, answer, usage);
    }
  });
  return { url: `${server.url}/v1`, requests, all: server.requests, close: server.close };
}

/** What one call answers: tool calls or a text. */
interface Answer {
  seq: number;
  model: string;
  created: number;
  toolCalls?: readonly StandInToolCall[];
  text?: string;
}

/** True when the Responses input carries a function_call_output item (the tool results are back). */
function hasFunctionCallOutput(input: unknown): boolean {
  return (
    Array.isArray(input) && input.some((item) => (item as { type?: unknown } | null)?.type === 'function_call_output')
  );
}

/** Splits a text in two pieces, as a stream would deliver it. */
function halves(text: string): [string, string] {
  const cut = Math.max(1, Math.floor(text.length / 2));
  return [text.slice(0, cut), text.slice(cut)];
}

// ---------------------------------------------------------------------------------------------
// Chat Completions

function answerChat(res: ServerResponse, stream: boolean, includeUsage: boolean, answer: Answer, usage: Json): void {
  const head = {
    id: `chatcmpl-standin${String(answer.seq).padStart(4, '0')}`,
    created: answer.created,
    model: answer.model,
    service_tier: 'default',
    system_fingerprint: 'fp_standin',
  };
  const finish = answer.toolCalls ? 'tool_calls' : 'stop';
  if (!stream) {
    const message = answer.toolCalls
      ? {
          role: 'assistant',
          content: null,
          tool_calls: answer.toolCalls.map((c) => ({
            id: c.id,
            type: 'function',
            function: { name: c.name, arguments: JSON.stringify(c.arguments) },
          })),
          refusal: null,
          annotations: [],
        }
      : { role: 'assistant', content: answer.text, refusal: null, annotations: [] };
    writeJson(res, 200, {
      ...head,
      object: 'chat.completion',
      choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
      usage,
    });
    return;
  }
  // Every chunk carries `usage: null` when usage was asked for; a last chunk with no choices carries it.
  const chunk = (delta: Json, finishReason: string | null): SseEvent => ({
    data: {
      ...head,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(includeUsage ? { usage: null } : {}),
    },
  });
  const events: SseEvent[] = [];
  if (answer.toolCalls) {
    events.push(chunk({ role: 'assistant', content: null, refusal: null }, null));
    answer.toolCalls.forEach((c, index) => {
      const [a, b] = halves(JSON.stringify(c.arguments));
      events.push(
        chunk({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }, null),
      );
      events.push(chunk({ tool_calls: [{ index, function: { arguments: a } }] }, null));
      events.push(chunk({ tool_calls: [{ index, function: { arguments: b } }] }, null));
    });
  } else {
    const [a, b] = halves(answer.text ?? '');
    events.push(chunk({ role: 'assistant', content: '', refusal: null }, null));
    events.push(chunk({ content: a }, null));
    events.push(chunk({ content: b }, null));
  }
  events.push(chunk({}, finish));
  if (includeUsage) events.push({ data: { ...head, object: 'chat.completion.chunk', choices: [], usage } });
  // Chat Completions streams end with a literal `data: [DONE]`.
  writeSse(res, events, { headers: { 'content-type': 'text/event-stream; charset=utf-8' }, done: true });
}

// ---------------------------------------------------------------------------------------------
// Responses

function answerResponses(res: ServerResponse, stream: boolean, body: ApiBody, answer: Answer, usage: Json): void {
  const id = `resp_standin${String(answer.seq).padStart(4, '0')}`;
  const output: Json[] = answer.toolCalls
    ? answer.toolCalls.map((c, i) => ({
        id: `fc_standin${String(answer.seq).padStart(4, '0')}_${i}`,
        type: 'function_call',
        status: 'completed',
        arguments: JSON.stringify(c.arguments),
        call_id: c.id,
        name: c.name,
      }))
    : [
        {
          id: `msg_standin${String(answer.seq).padStart(4, '0')}`,
          type: 'message',
          status: 'completed',
          content: [{ type: 'output_text', annotations: [], logprobs: [], text: answer.text ?? '' }],
          role: 'assistant',
        },
      ];
  const response = (status: 'in_progress' | 'completed', items: Json[], withUsage: boolean): Json => ({
    id,
    object: 'response',
    created_at: answer.created,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: null,
    model: answer.model,
    output: items,
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store: true,
    temperature: 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: body.tools ?? [],
    top_p: 1,
    truncation: 'disabled',
    usage: withUsage ? usage : null,
    user: null,
    metadata: {},
  });
  if (!stream) {
    writeJson(res, 200, response('completed', output, true));
    return;
  }
  let sequence = 0;
  const event = (type: string, data: Json): SseEvent => ({
    event: type,
    data: { type, sequence_number: sequence++, ...data },
  });
  const events: SseEvent[] = [
    event('response.created', { response: response('in_progress', [], false) }),
    event('response.in_progress', { response: response('in_progress', [], false) }),
  ];
  output.forEach((item, outputIndex) => {
    const itemId = item.id as string;
    if (item.type === 'function_call') {
      const args = item.arguments as string;
      const [a, b] = halves(args);
      events.push(
        event('response.output_item.added', {
          output_index: outputIndex,
          item: { ...item, status: 'in_progress', arguments: '' },
        }),
      );
      events.push(
        event('response.function_call_arguments.delta', { item_id: itemId, output_index: outputIndex, delta: a }),
      );
      events.push(
        event('response.function_call_arguments.delta', { item_id: itemId, output_index: outputIndex, delta: b }),
      );
      events.push(
        event('response.function_call_arguments.done', { item_id: itemId, output_index: outputIndex, arguments: args }),
      );
      events.push(event('response.output_item.done', { output_index: outputIndex, item }));
      return;
    }
    const text = answer.text ?? '';
    const [a, b] = halves(text);
    const part = { type: 'output_text', annotations: [], logprobs: [], text: '' };
    const at = { item_id: itemId, output_index: outputIndex, content_index: 0 };
    events.push(
      event('response.output_item.added', {
        output_index: outputIndex,
        item: { ...item, status: 'in_progress', content: [] },
      }),
    );
    events.push(event('response.content_part.added', { ...at, part }));
    events.push(event('response.output_text.delta', { ...at, delta: a, logprobs: [] }));
    events.push(event('response.output_text.delta', { ...at, delta: b, logprobs: [] }));
    events.push(event('response.output_text.done', { ...at, text, logprobs: [] }));
    events.push(event('response.content_part.done', { ...at, part: { ...part, text } }));
    events.push(event('response.output_item.done', { output_index: outputIndex, item }));
  });
  events.push(event('response.completed', { response: response('completed', output, true) }));
  writeSse(res, events);
}
