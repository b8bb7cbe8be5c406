/**
 * A loopback stand-in for the Gemini API (`POST /{version}/models/{model}:generateContent` and
 * `:streamGenerateContent?alt=sse`) as `@google/genai` calls it, playing the scenario: the first
 * call asks for the two tool calls of TOOL_CALLS, the call that carries the tool results gets
 * FINAL_ANSWER; usage is `geminiUsage(CALLS[i])`. The call is recognised from the request
 * (functionResponse parts present → call 2), never by a counter, so retries do not shift it.
 */
import type { ServerResponse } from 'node:http';
import { CALLS, FINAL_ANSWER, TOOL_CALLS, geminiUsage } from './scenario.ts';
import {
  startRecordingServer,
  writeJson,
  writeSse,
  type AnsweredRequest,
  type ModelStandIn,
  type RunningServer,
} from './http.ts';

/** Which scenario call a request was answered as (0 = first, 1 = second): Gemini has no side calls here. */
export type ScenarioCall = 0 | 1;

/** A generateContent request the stand-in answered; `model` is the id from the URL path, also sent back as `modelVersion`. */
export type GeminiRequest = AnsweredRequest<ScenarioCall>;

/** The running stand-in (requests: the generateContent ones); point `@google/genai` at `url` (e.g. `GOOGLE_GEMINI_BASE_URL`). */
export type GeminiStandIn = ModelStandIn<GeminiRequest>;

const ROUTE = /^\/(v1|v1beta|v1alpha)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

/** Starts the stand-in on 127.0.0.1:<free port>. */
export async function startGeminiStandIn(): Promise<GeminiStandIn> {
  const requests: GeminiRequest[] = [];
  let responses = 0;
  const server: RunningServer = await startRecordingServer((req, res) => {
    const m = ROUTE.exec(req.path);
    if (req.method !== 'POST' || !m) {
      writeJson(res, 404, {
        error: { code: 404, message: `stand-in does not serve ${req.method} ${req.path}`, status: 'NOT_FOUND' },
      });
      return;
    }
    const model = m[2] as string;
    const stream = m[3] === 'streamGenerateContent';
    const call: ScenarioCall = hasFunctionResponse(req.body) ? 1 : 0;
    requests.push({ ...req, model, stream, call });
    responses += 1;
    answer(res, { model, stream, call, responseId: `stand-in-response-${responses}` });
  });
  return { url: server.url, requests, all: server.requests, close: server.close };
}

/** True when any content of the request carries a functionResponse part (the tool results). */
function hasFunctionResponse(body: unknown): boolean {
  const contents =
    (body as { contents?: Array<{ parts?: Array<Record<string, unknown>> }> } | undefined)?.contents ?? [];
  return contents.some((c) => (c.parts ?? []).some((p) => p.functionResponse !== undefined));
}

function answer(
  res: ServerResponse,
  a: { model: string; stream: boolean; call: ScenarioCall; responseId: string },
): void {
  const usageMetadata = geminiUsage(CALLS[a.call]);
  const common = { modelVersion: a.model, responseId: a.responseId };
  if (a.call === 0) {
    const parts = TOOL_CALLS.map((t) => ({ functionCall: { id: t.id, name: t.name, args: t.arguments } }));
    const response = {
      candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
      usageMetadata,
      ...common,
    };
    // Gemini streams a function call whole: one chunk carries both calls, the finish reason and the usage.
    if (a.stream) writeSse(res, [{ data: response }]);
    else writeJson(res, 200, response);
    return;
  }
  if (!a.stream) {
    writeJson(res, 200, {
      candidates: [{ content: { role: 'model', parts: [{ text: FINAL_ANSWER }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata,
      ...common,
    });
    return;
  }
  // Streamed text: two chunks; the last one carries the finish reason and the final usage.
  const cut = FINAL_ANSWER.indexOf('. ') + 2;
  writeSse(res, [
    {
      data: {
        candidates: [{ content: { role: 'model', parts: [{ text: FINAL_ANSWER.slice(0, cut) }] }, index: 0 }],
        ...common,
      },
    },
    {
      data: {
        candidates: [
          { content: { role: 'model', parts: [{ text: FINAL_ANSWER.slice(cut) }] }, finishReason: 'STOP', index: 0 },
        ],
        usageMetadata,
        ...common,
      },
    },
  ]);
}
