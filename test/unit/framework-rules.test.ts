/**
 * The general rules that read real frameworks' spans (CONVENTIONS.md, "Frameworks measured in
 * 2026"): rules that hold across families rather than per-framework patches.
 */
import { describe, expect, it } from 'vitest';
import { classifySpan } from '../../src/conventions/classify.ts';
import {
  finalOutput,
  firstInput,
  precomputedCost,
  providerName,
  tokenUsage,
  toolName,
} from '../../src/conventions/fields.ts';
import { inputText, outputText } from '../../src/conventions/message-text.ts';

describe('a span with usage and a model is an LLM call', () => {
  it('ADK call_llm and Claude Code llm_request, without an operation name', () => {
    expect(
      classifySpan(
        {
          'gen_ai.request.model': 'gemini-2.5-flash',
          'gen_ai.usage.input_tokens': '10',
          'gen_ai.usage.output_tokens': '2',
        },
        'call_llm',
      ).llm,
    ).toBe(true);
    expect(
      classifySpan(
        { 'span.type': 'llm_request', model: 'claude-sonnet-4-5', input_tokens: '4' },
        'claude_code.llm_request',
      ).llm,
    ).toBe(true);
  });
  it('but not an agent or aggregate span reporting its run’s total', () => {
    const agent = classifySpan(
      { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.request.model': 'm', 'gen_ai.usage.input_tokens': '10' },
      'invoke_agent x',
    );
    expect(agent.llm).toBe(false);
    expect(
      classifySpan({
        'ai.operationId': 'ai.generateText',
        'gen_ai.request.model': 'm',
        'gen_ai.usage.input_tokens': '1',
      }).llm,
    ).toBe(false);
  });
});

describe('tools', () => {
  it('`execute_tool <name>` names a tool even when the span carries nothing else', () => {
    expect(classifySpan({}, 'execute_tool lookup_city').tool).toBe(true);
    expect(toolName({}, 'execute_tool lookup_city')).toBe('lookup_city');
  });
  it('ADK’s merged bookkeeping span is not a call', () => {
    expect(
      classifySpan(
        { 'gen_ai.tool.name': '(merged tools)', 'gen_ai.operation.name': 'execute_tool' },
        'execute_tool (merged)',
      ).tool,
    ).toBe(false);
  });
});

describe('whether input includes the cache is decided by the emitter', () => {
  const anthropic = {
    'gen_ai.system': 'anthropic',
    'gen_ai.usage.input_tokens': '2000',
    'gen_ai.usage.output_tokens': '100',
    'gen_ai.usage.cache_read_input_tokens': '800',
    'gen_ai.usage.total_tokens': '2100',
  };
  it('Strands passes Anthropic’s exclusive counts even when the uncached part is the larger one', () => {
    // As Strands exports it: gen_ai.system and the scope carry the service's name.
    const strands = { ...anthropic, 'gen_ai.system': 'weather-service', 'gen_ai.request.model': 'claude-sonnet-4-5' };
    const emitter = { scopeName: 'weather-service', spanName: 'chat', resource: { 'service.namespace': 'strands' } };
    expect(tokenUsage(strands, emitter)).toMatchObject({ input: 2800, cacheRead: 800, total: 2900 });
    // On Bedrock the counts already include the cache.
    expect(
      tokenUsage({ ...strands, 'gen_ai.request.model': 'us.anthropic.claude-sonnet-4-5-v1:0' }, emitter),
    ).toMatchObject({ input: 2000 });
  });
  it('an OpenTelemetry-conventions emitter already includes it', () => {
    expect(tokenUsage(anthropic, { scopeName: 'ai', spanName: 'chat' })).toMatchObject({ input: 2000, total: 2100 });
  });
  it('an input smaller than its own cache can only be exclusive', () => {
    expect(
      tokenUsage({
        'gen_ai.usage.input_tokens': '100',
        'gen_ai.usage.cache_read.input_tokens': '900',
        'gen_ai.usage.output_tokens': '1',
      })?.input,
    ).toBe(1000);
  });
  it('Claude Code’s bare keys are Anthropic’s, and its total never stays below input + output', () => {
    const usage = tokenUsage(
      {
        'span.type': 'llm_request',
        input_tokens: '200',
        cache_read_tokens: '800',
        cache_creation_tokens: '200',
        output_tokens: '150',
      },
      { scopeName: 'com.anthropic.claude_code', spanName: 'claude_code.llm_request' },
    );
    expect(usage).toEqual({ input: 1200, output: 150, cacheRead: 800, cacheWrite: 200, reasoning: 0, total: 1350 });
  });
  it('Gemini thoughts (only in ADK’s llm_response) join the output and the reasoning bucket', () => {
    const usageMetadata = {
      promptTokenCount: 1200,
      cachedContentTokenCount: 800,
      candidatesTokenCount: 50,
      thoughtsTokenCount: 100,
      totalTokenCount: 1350,
    };
    const usage = tokenUsage({
      'gen_ai.usage.input_tokens': '1200',
      'gen_ai.usage.output_tokens': '50',
      'gcp.vertex.agent.llm_response': JSON.stringify({ usageMetadata }),
    });
    expect(usage).toEqual({ input: 1200, output: 150, cacheRead: 800, cacheWrite: 0, reasoning: 100, total: 1350 });
  });
  it('newer and other names: cache_write, Sentry’s dotted suffixes', () => {
    expect(
      tokenUsage({
        'gen_ai.usage.input_tokens': '10',
        'gen_ai.usage.cache_write.input_tokens': '4',
        'gen_ai.usage.input_tokens.cached': '3',
        'gen_ai.usage.output_tokens.reasoning': '2',
        'gen_ai.usage.output_tokens': '5',
      }),
    ).toMatchObject({ cacheWrite: 4, cacheRead: 3, reasoning: 2 });
  });
});

describe('JSON-valued inputs and outputs are read as messages', () => {
  it('LangChain serialized messages', () => {
    const value = JSON.stringify({
      messages: [
        {
          lc: 1,
          type: 'constructor',
          id: ['langchain_core', 'messages', 'HumanMessage'],
          kwargs: { content: 'hi there' },
        },
      ],
    });
    expect(inputText(value)).toBe('hi there');
    const out = JSON.stringify({
      messages: [
        { lc: 1, type: 'constructor', id: ['langchain_core', 'messages', 'HumanMessage'], kwargs: { content: 'q' } },
        {
          lc: 1,
          type: 'constructor',
          id: ['langchain_core', 'messages', 'AIMessage'],
          kwargs: { content: 'the answer' },
        },
      ],
    });
    expect(outputText(out)).toBe('the answer');
  });
  it('OpenAI Chat Completions and Responses requests and responses', () => {
    expect(
      inputText(
        JSON.stringify({
          model: 'm',
          messages: [
            { role: 'system', content: 's' },
            { role: 'user', content: 'question' },
          ],
        }),
      ),
    ).toBe('question');
    expect(outputText(JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'reply' } }] }))).toBe(
      'reply',
    );
    expect(
      inputText(
        JSON.stringify({ model: 'm', input: [{ role: 'user', content: [{ type: 'input_text', text: 'asked' }] }] }),
      ),
    ).toBe('asked');
    expect(
      outputText(
        JSON.stringify({
          output: [
            { type: 'function_call' },
            { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'said' }] },
          ],
        }),
      ),
    ).toBe('said');
  });
  it('Mastra’s {"text"} and a plain string', () => {
    expect(firstInput({ 'mastra.agent_run.input': JSON.stringify({ text: 'ask' }) })).toBe('ask');
    expect(finalOutput({ 'mastra.agent_run.output': JSON.stringify({ text: 'answer' }) }, [])).toBe('answer');
    expect(inputText('just text')).toBe('just text');
  });
  it('text/plain stays as it is, even when it looks like JSON', () => {
    expect(firstInput({ 'input.value': '["a","b"]', 'input.mime_type': 'text/plain' })).toBe('["a","b"]');
  });
  it('the older GenAI events carry the text (Strands)', () => {
    expect(
      firstInput({}, [
        { name: 'gen_ai.user.message', attributes: { content: JSON.stringify([{ text: 'from event' }]) } },
      ]),
    ).toBe('from event');
    expect(
      finalOutput({}, [{ name: 'gen_ai.choice', attributes: { message: JSON.stringify([{ text: 'chosen' }]) } }]),
    ).toBe('chosen');
  });
});

describe('provider ids', () => {
  it('an API of a provider names the provider', () => {
    expect(providerName({ 'gen_ai.provider.name': 'openai.chat' })).toBe('openai');
    expect(providerName({ 'ai.model.provider': 'anthropic.messages' })).toBe('anthropic');
  });
});

describe('Pydantic AI 2.x', () => {
  it('a run’s gen_ai.aggregated_usage.* is no usage of its own (never added to its calls’), and operation.cost is the call’s cost', () => {
    expect(
      tokenUsage({ 'gen_ai.aggregated_usage.input_tokens': '2700', 'gen_ai.aggregated_usage.output_tokens': '210' }),
    ).toBeUndefined();
    expect(precomputedCost({ 'operation.cost': '0.0042', 'gen_ai.usage.input_tokens': '10' })).toBe(0.0042);
  });
});
